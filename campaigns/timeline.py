"""The campaigns app's timeline source (core.timeline): every call attempt to
the customer's numbers and its disposition."""

from campaigns.models import CallAttempt
from core.timeline import TimelineEntry, TimelineQuery, TimelineSource, timeline_source_register, timeline_who


def call_entries(query: TimelineQuery) -> list[TimelineEntry]:
    if not query.phone_ids:
        return []
    attempts = CallAttempt.objects.filter(query.within("handed_at"), phone_number_id__in=query.phone_ids)
    return [
        TimelineEntry(
            # The hand-off commits after its decision is logged: shown after it.
            at=max(a.handed_at, a.decision.recorded_at),
            kind="call",
            title=f"Call to {a.phone_number.number} in {a.campaign.name}: "
            + (a.get_outcome_display() if a.outcome else "no outcome recorded"),
            detail=f"caller ID {a.caller_id}, decision #{a.decision_id}"
            + (f"; notes: {a.notes}" if a.notes else ""),
            who=timeline_who(a.agent),
            via="dialer",
            link=f"/compliance/attempts/{a.pk}/proof/",
        )
        for a in attempts.select_related("agent", "campaign", "phone_number", "decision")
    ]


def timeline_sources_register() -> None:
    timeline_source_register(TimelineSource(kind="call", label="Calls", order=3, entries=call_entries))
