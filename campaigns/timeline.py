"""The campaigns app's timeline source (core.timeline): every call attempt to
the customer's numbers and its disposition, and links to the campaigns that
compliance's decisions name by id."""

from collections.abc import Collection

from django.urls import reverse

from campaigns.models import CallAttempt, Campaign
from compliance.timeline import decision_group
from core.timeline import (
    TimelineEntry,
    TimelineLink,
    TimelineQuery,
    TimelineSource,
    timeline_linker_register,
    timeline_source_register,
    timeline_who,
)


def call_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """At the instant the call was handed out (a past call entered later
    too): right after its decision, which was made for that instant."""
    if not query.phone_ids:
        return []
    attempts = CallAttempt.objects.filter(query.within("handed_at"), phone_number_id__in=query.phone_ids)
    return [
        TimelineEntry(
            at=a.handed_at,
            kind="call",
            title=f"Call to {a.phone_number.number} in {a.campaign.name}: "
            + (a.get_outcome_display() if a.outcome else "no outcome recorded"),
            detail=f"caller ID {a.caller_id}" + (f"; notes: {a.notes}" if a.notes else ""),
            who=timeline_who(a.agent),
            via="dialer",
            link=reverse("attempt-proof", args=[a.pk]),
            links=(
                TimelineLink(f"decision #{a.decision_id}", reverse("decision-explain", args=[a.decision_id])),
                TimelineLink(f"campaign {a.campaign.name}", _campaign_page(a.campaign_id)),
            ),
            group=decision_group(a.decision_id),
        )
        for a in attempts.select_related("agent", "campaign", "phone_number")
    ]


def campaign_links(ids: Collection[int]) -> dict[int, TimelineLink]:
    return {
        pk: TimelineLink(name, _campaign_page(pk))
        for pk, name in Campaign.objects.filter(pk__in=ids).values_list("pk", "name")
    }


def _campaign_page(pk: int) -> str:
    return reverse("admin:campaigns_campaign_change", args=[pk])


def timeline_sources_register() -> None:
    timeline_source_register(TimelineSource(kind="call", label="Calls", order=3, entries=call_entries))
    timeline_linker_register("campaign", campaign_links)
