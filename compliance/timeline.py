"""The contact record of a phone number (or of a customer, all their
numbers): every history row of the customer, the number, its consents and
DNC requests; every decision; every call attempt and its disposition; every
ticket action; every registry sync of the number's area code; in time order,
with who and via what.

A fixed number of queries whatever the size of the record (one per source,
users joined). Each kind of entry comes from a source registered with
core.timeline: compliance registers its own (record changes, decisions,
registry syncs) and the apps above it theirs (calls, ticket actions), so
compliance imports no app above it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q

from compliance.models import DecisionRecord
from compliance.registry.models import SyncRun
from compliance.registry.selectors import e164_to_registry_int, registry_area_code
from consent.models import ConsentGrant, DncRequest
from core.timeline import (
    TimelineEntry,
    TimelineQuery,
    TimelineSource,
    timeline_source_register,
    timeline_sources,
    timeline_who,
)
from customers.models import Customer, PhoneNumber

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


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
    # Same instant: a record change, then the decision, then the call it allowed.
    entries.sort(key=lambda entry: (entry.at, order[entry.kind]))
    return Timeline(numbers=numbers, customer=customer, entries=entries)


def decision_entries(query: TimelineQuery) -> list[TimelineEntry]:
    mine = Q(phone_number__in=query.numbers)
    if query.customer_id is not None:
        mine |= Q(customer_id=query.customer_id)
    decisions = DecisionRecord.objects.filter(query.within("recorded_at") & mine).select_related(
        "actor", "chain_link"
    )
    return [
        TimelineEntry(
            at=d.recorded_at,
            kind="decision",
            title=f"Decision #{d.pk} ({d.get_kind_display().lower()}): "
            + ("allowed" if d.allowed else "blocked: " + ", ".join(d.reasons)),
            detail=f"for {d.decided_at:%Y-%m-%d %H:%M} UTC, campaign #{d.campaign_id or '-'}, "
            f"rule set {d.ruleset_version}, chain position {d.chain.position if d.chain else 'not sealed yet'}",
            who=timeline_who(d.actor),
            via=d.get_kind_display(),
            link=f"/compliance/decisions/{d.pk}/",
        )
        for d in decisions
    ]


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
            detail=f"sync run #{run.pk}: {run.added} added, {run.removed} removed in its area codes",
            who=timeline_who(run.triggered_by),
            via=run.get_trigger_display(),
        )
        for run in runs.select_related("source", "triggered_by")
        if area_codes & set(run.area_codes)
    ]


def history_entries(query: TimelineQuery) -> list[TimelineEntry]:
    return _history(query.customer_id, query.phone_ids, query.numbers, query.within("history_date"))


def timeline_sources_register() -> None:
    """Compliance's own sources (the others register theirs)."""
    for source in (
        TimelineSource(kind="history", label="Record changes", order=0, entries=history_entries),
        TimelineSource(kind="registry", label="Registry syncs", order=1, entries=registry_entries),
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
                )
            )
    return entries


def _history_detail(label: str, row) -> str:
    if label == "Consent":
        state = f"revoked via {row.revoked_via}" if row.revoked_at else "in force"
        return f"{row.purpose} by {row.channel}, {'written' if row.written else 'not written'}, source {row.source}; {state}"
    if label == "DNC request":
        return f"{row.number} via {row.source}" + (f": {row.reason}" if row.reason else "")
    if label == "Phone number":
        return f"{row.number or '(erased)'} ({row.kind})"
    return f"{row.first_name} {row.last_name}".strip()
