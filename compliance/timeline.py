"""The contact record of a phone number (or of a customer, all their
numbers): every history row of the customer, the number, its consents and
DNC requests; every decision; every call attempt and its disposition; every
ticket action; every registry sync of the number's area code; in time order,
with who and via what.

A fixed number of queries whatever the size of the record (one per source,
users joined). Each kind of entry comes from a source registered with
core.timeline: compliance registers its own (record changes, decisions,
registry syncs) and the apps above it theirs (calls, ticket actions), so
compliance imports no app above it.

Entries are placed at the instant they are about: a decision at the instant
it decided for (`decided_at`, the call's), with the database's own stamp
(`recorded_at`) beside it when it was logged later, as a past call entered
afterwards is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q
from django.urls import reverse

from compliance.models import DecisionRecord
from compliance.registry.models import LitigatorReview, SyncRun
from compliance.registry.selectors import e164_to_registry_int, registry_area_code
from compliance.rnd.models import RndQuery
from consent.models import ConsentGrant, DncRequest
from core.timeline import (
    TimelineEntry,
    TimelineLink,
    TimelineQuery,
    TimelineSource,
    timeline_links,
    timeline_source_register,
    timeline_sources,
    timeline_who,
)
from core.words import datetime_text, day_text
from customers.models import Customer, PhoneNumber

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
# A decision logged this long after the instant it decided for shows when it
# was logged too (a hand-off's row is written within milliseconds).
LOGGED_LATER = timedelta(minutes=1)


@dataclass
class Timeline:
    numbers: list[str]
    customer: object | None
    entries: list[TimelineEntry] = field(default_factory=list)


def timeline_kinds() -> dict[str, str]:
    """The kinds of entry (key: label) the registered sources give."""
    return {source.kind: source.label for source in timeline_sources()}


def contact_timeline(
    *,
    number: str | None = None,
    customer_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: set[str] | None = None,
) -> Timeline:
    """The record of `number` (E.164) or of customer `customer_id`."""
    customer = None
    if customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id).first()
    elif number:
        phone = PhoneNumber.objects.select_related("customer").filter(number=number).first()
        customer = phone.customer if phone else None
    phones = list(PhoneNumber.objects.filter(customer=customer)) if customer else []
    numbers = sorted({str(p.number) for p in phones if p.number} | ({number} if number else set()))
    query = TimelineQuery(
        customer_id=customer.pk if customer else None,
        phone_ids=[p.pk for p in phones],
        numbers=numbers,
        since=since,
        until=until,
    )
    entries: list[TimelineEntry] = []
    order = {}
    for source in timeline_sources():
        order[source.kind] = source.order
        if kinds is None or source.kind in kinds:
            entries += source.entries(query)
    # Same instant: a record change, then each decision followed by the call
    # it allowed (a group takes the place of its first source), then tickets.
    lead: dict[str, int] = {}
    for entry in entries:
        if entry.group:
            lead[entry.group] = min(lead.get(entry.group, order[entry.kind]), order[entry.kind])
    entries.sort(
        key=lambda entry: (entry.at, lead.get(entry.group, order[entry.kind]), entry.group, order[entry.kind])
    )
    return Timeline(numbers=numbers, customer=customer, entries=entries)


def decision_entries(query: TimelineQuery) -> list[TimelineEntry]:
    mine = Q(phone_number__in=query.numbers)
    if query.customer_id is not None:
        mine |= Q(customer_id=query.customer_id)
    decisions = list(
        DecisionRecord.objects.filter(query.within("decided_at") & mine).select_related("actor", "chain_link")
    )
    campaigns = timeline_links("campaign", {d.campaign_id for d in decisions if d.campaign_id})
    entries = []
    for d in decisions:
        campaign = campaigns.get(d.campaign_id) if d.campaign_id else None
        entries.append(
            TimelineEntry(
                at=d.decided_at,
                kind="decision",
                title=f"Decision #{d.pk} ({d.get_kind_display().lower()}): "
                + ("allowed" if d.allowed else "blocked: " + ", ".join(d.reasons)),
                detail=(f"campaign #{d.campaign_id}, " if d.campaign_id and not campaign else "")
                + f"rule set {d.ruleset_version}, "
                + (f"chain position {d.chain.position}" if d.chain else "not sealed in the chain yet"),
                who=timeline_who(d.actor),
                via=d.get_kind_display(),
                link=reverse("decision-explain", args=[d.pk]),
                links=(TimelineLink(f"campaign {campaign.text}", campaign.url),) if campaign else (),
                logged_at=d.recorded_at if d.recorded_at - d.decided_at >= LOGGED_LATER else None,
                group=decision_group(d.pk),
            )
        )
    return entries


def decision_group(decision_id: int) -> str:
    """The timeline group of a decision and of the call it allowed."""
    return f"decision {decision_id:020d}"


def registry_entries(query: TimelineQuery) -> list[TimelineEntry]:
    area_codes = {registry_area_code(n) for n in map(e164_to_registry_int, query.numbers) if n is not None}
    if not area_codes:
        return []
    runs = SyncRun.objects.filter(query.within("started_at"), status="succeeded")
    if connection.features.supports_json_field_contains:  # PostgreSQL; SQLite (the demo) filters below
        condition = Q()
        for code in area_codes:
            condition |= Q(area_codes__contains=[code])
        runs = runs.filter(condition)
    return [
        TimelineEntry(
            at=run.started_at,
            kind="registry",
            title=f"{run.source} {run.get_kind_display().lower()} synced area code "
            + ", ".join(map(str, sorted(area_codes & set(run.area_codes)))),
            detail=f"{run.added} added, {run.removed} removed in its area codes",
            who=timeline_who(run.triggered_by),
            via=run.get_trigger_display(),
            links=(
                TimelineLink(f"sync run #{run.pk}", reverse("admin:registry_syncrun_change", args=[run.pk])),
            ),
        )
        for run in runs.select_related("source", "triggered_by")
        if area_codes & set(run.area_codes)
    ]


RND_ANSWER_WORDS = {
    "yes": "yes: disconnected on or after the date",
    "no": "no: not disconnected since the date",
    "no_data": "no data",
    "error": "no answer (error)",
}


def rnd_entries(query: TimelineQuery) -> list[TimelineEntry]:
    """The number's RND queries and litigator-list flags (issue 18): what the
    RND answered, for which date, from which provider; when a litigator list
    flagged the number and what a compliance officer decided."""
    if not query.numbers:
        return []
    entries = [
        TimelineEntry(
            at=row.queried_at,
            kind="rnd",
            title=f"Reassigned Numbers Database: {RND_ANSWER_WORDS.get(row.answer, row.answer)}",
            detail=f"{row.phone_number}, date sent {day_text(row.date_sent)} ({row.get_date_kind_display()})",
            via=row.provider,
            link=reverse("admin:compliance_rndquery_change", args=[row.pk]),
        )
        for row in RndQuery.objects.filter(query.within("queried_at"), phone_number__in=query.numbers)
    ]
    for review in LitigatorReview.objects.filter(number__in=query.numbers).select_related(
        "source", "decided_by"
    ):
        link = reverse("admin:registry_litigatorreview_change", args=[review.pk])
        entries.append(
            TimelineEntry(
                at=review.flagged_at,
                kind="rnd",
                title=f"On {review.source}: flagged for a compliance officer's review",
                detail=review.number,
                via="campaign litigator policy: flag",
                link=link,
                links=(
                    TimelineLink(
                        f"decision #{review.decision_id}",
                        reverse("decision-explain", args=[review.decision_id]),
                    ),
                ),
            )
        )
        if review.decided_at is not None:
            entries.append(
                TimelineEntry(
                    at=review.decided_at,
                    kind="rnd",
                    title=f"Litigator review: {review.get_status_display()}",
                    detail=review.reason,
                    who=timeline_who(review.decided_by),
                    link=link,
                )
            )
    return [entry for entry in entries if _in(query, entry.at)]


def _in(query: TimelineQuery, at: datetime) -> bool:
    return (query.since is None or at >= query.since) and (query.until is None or at < query.until)


def history_entries(query: TimelineQuery) -> list[TimelineEntry]:
    return _history(query.customer_id, query.phone_ids, query.numbers, query.within("history_date"))


def timeline_sources_register() -> None:
    """Compliance's own sources (the others register theirs)."""
    for source in (
        TimelineSource(kind="history", label="Record changes", order=0, entries=history_entries),
        TimelineSource(kind="registry", label="Registry syncs", order=1, entries=registry_entries),
        TimelineSource(
            kind="rnd", label="Reassigned numbers and litigator lists", order=1, entries=rnd_entries
        ),
        TimelineSource(kind="decision", label="Compliance decisions", order=2, entries=decision_entries),
    ):
        timeline_source_register(source)


def _history(customer_id, phone_ids, numbers, within: Q) -> list[TimelineEntry]:
    sources = []
    if customer_id is not None:
        sources.append(("Customer", Customer.history.filter(id=customer_id)))
    if phone_ids:
        sources.append(("Phone number", PhoneNumber.history.filter(id__in=phone_ids)))
        sources.append(("Consent", ConsentGrant.history.filter(phone_number_id__in=phone_ids)))
    if numbers:
        sources.append(("DNC request", DncRequest.history.filter(number__in=numbers)))
    entries = []
    for label, rows in sources:
        for row in rows.filter(within).select_related("history_user"):
            entries.append(
                TimelineEntry(
                    at=row.history_date,
                    kind="history",
                    title=f"{label} #{row.id} {HISTORY_TYPES.get(row.history_type, row.history_type)}",
                    detail=_history_detail(label, row),
                    who=timeline_who(row.history_user),
                    via=row.history_change_reason or "",
                    link="" if row.history_type == "-" else _record_page(label, row),
                )
            )
    return entries


def _record_page(label: str, row) -> str:
    """The page of the record a history row is about: the customer's page
    for the customer and their numbers, the admin's for the others."""
    if label == "Customer":
        return reverse("customer-detail", args=[row.id])
    if label == "Phone number":
        return reverse("customer-detail", args=[row.customer_id]) if row.customer_id else ""
    if label == "Consent":
        return reverse("admin:consent_consentgrant_change", args=[row.id])
    return reverse("admin:consent_dncrequest_change", args=[row.id])


def _history_detail(label: str, row) -> str:
    if label == "Consent":
        state = f"revoked via {row.get_revoked_via_display()}" if row.revoked_at else "in force"
        return (
            f"{row.get_purpose_display().lower()} by {row.get_channel_display().lower()}, "
            f"{'written' if row.written else 'not written'}, source: {row.get_source_display()}, "
            f"granted {datetime_text(row.granted_at)}; {state}"
        )
    if label == "DNC request":
        return f"{row.number} via {row.get_source_display()}" + (f": {row.reason}" if row.reason else "")
    if label == "Phone number":
        return f"{row.number or '(erased)'} ({row.get_kind_display()})"
    return f"{row.first_name} {row.last_name}".strip()
