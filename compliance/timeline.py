"""The contact record of a phone number (or of a customer, all their
numbers): every history row of the customer, the number, its consents and
DNC requests; every decision; every call attempt and its disposition; every
ticket action; every registry sync of the number's area code; in time order,
with who and via what.

A fixed number of queries whatever the size of the record (one per source,
users joined). Models of other apps are read through the app registry:
compliance imports no app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.db.models import Q

from compliance.models import DecisionRecord
from compliance.registry.selectors import e164_to_registry_int, registry_area_code

KINDS = {
    "history": "Record changes",
    "decision": "Compliance decisions",
    "call": "Calls",
    "ticket": "Ticket actions",
    "registry": "Registry syncs",
}
HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    title: str
    detail: str = ""
    who: str = ""
    via: str = ""
    link: str = ""


@dataclass
class Timeline:
    numbers: list[str]
    customer: object | None
    entries: list[Entry] = field(default_factory=list)


def _who(user) -> str:
    return (user.get_full_name() or user.username) if user else "system"


def contact_timeline(
    *,
    number: str | None = None,
    customer_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: set[str] | None = None,
) -> Timeline:
    """The record of `number` (E.164) or of customer `customer_id`."""
    customer_model = apps.get_model("customers", "Customer")
    phone_model = apps.get_model("customers", "PhoneNumber")
    customer = None
    if customer_id is not None:
        customer = customer_model.objects.filter(pk=customer_id).first()
    elif number:
        phone = phone_model.objects.select_related("customer").filter(number=number).first()
        customer = phone.customer if phone else None
    phones = list(phone_model.objects.filter(customer=customer)) if customer else []
    numbers = sorted({str(p.number) for p in phones if p.number} | ({number} if number else set()))
    phone_ids = [p.pk for p in phones]
    kinds = set(kinds or KINDS)
    entries: list[Entry] = []

    def within(field_name: str) -> Q:
        condition = Q()
        if since:
            condition &= Q(**{f"{field_name}__gte": since})
        if until:
            condition &= Q(**{f"{field_name}__lt": until})
        return condition

    if "history" in kinds:
        entries += _history(customer, phone_ids, numbers, within("history_date"))
    if "decision" in kinds:
        decisions = DecisionRecord.objects.filter(
            within("recorded_at")
            & (Q(phone_number__in=numbers) | (Q(customer_id=customer.pk) if customer else Q(pk__in=[])))
        ).select_related("actor")
        for d in decisions:
            entries.append(
                Entry(
                    at=d.recorded_at,
                    kind="decision",
                    title=f"Decision #{d.pk} ({d.get_kind_display().lower()}): "
                    + ("allowed" if d.allowed else "blocked: " + ", ".join(d.reasons)),
                    detail=f"for {d.decided_at:%Y-%m-%d %H:%M} UTC, campaign #{d.campaign_id or '-'}, "
                    f"rule set {d.ruleset_version}, chain position {d.chain_position or 'not sealed yet'}",
                    who=_who(d.actor),
                    via=d.get_kind_display(),
                    link=f"/compliance/decisions/{d.pk}/",
                )
            )
    if "call" in kinds and phone_ids:
        attempt_model = apps.get_model("campaigns", "CallAttempt")
        for a in attempt_model.objects.filter(
            within("handed_at"), phone_number_id__in=phone_ids
        ).select_related("agent", "campaign", "phone_number", "decision"):
            entries.append(
                Entry(
                    # The hand-off commits after its decision is logged: shown after it.
                    at=max(a.handed_at, a.decision.recorded_at),
                    kind="call",
                    title=f"Call to {a.phone_number.number} in {a.campaign.name}: "
                    + (a.get_outcome_display() if a.outcome else "no outcome recorded"),
                    detail=f"caller ID {a.caller_id}, decision #{a.decision_id}"
                    + (f"; notes: {a.notes}" if a.notes else ""),
                    who=_who(a.agent),
                    via="dialer",
                    link=f"/compliance/attempts/{a.pk}/proof/",
                )
            )
    if "ticket" in kinds and customer is not None:
        event_model = apps.get_model("helpdesk", "TicketEvent")
        for e in event_model.objects.filter(within("at"), ticket__customer=customer).select_related(
            "actor", "ticket"
        ):
            entries.append(
                Entry(
                    at=e.at,
                    kind="ticket",
                    title=f"Ticket #{e.ticket_id} ({e.ticket.get_type_display().lower()}): {e.get_kind_display().lower()}",
                    detail=e.text,
                    who=_who(e.actor),
                    via=e.ticket.get_channel_display(),
                    link=f"/tickets/{e.ticket_id}/",
                )
            )
    if "registry" in kinds:
        area_codes = {registry_area_code(n) for n in map(e164_to_registry_int, numbers) if n is not None}
        if area_codes:
            run_model = apps.get_model("registry", "SyncRun")
            condition = Q()
            for code in area_codes:
                condition |= Q(area_codes__contains=[code])
            for run in run_model.objects.filter(
                within("started_at"), condition, status="succeeded"
            ).select_related("source", "triggered_by"):
                codes = sorted(area_codes & set(run.area_codes))
                entries.append(
                    Entry(
                        at=run.started_at,
                        kind="registry",
                        title=f"{run.source} {run.get_kind_display().lower()} synced area code "
                        + ", ".join(map(str, codes)),
                        detail=f"sync run #{run.pk}: {run.added} added, {run.removed} removed in its area codes",
                        who=_who(run.triggered_by),
                        via=run.get_trigger_display(),
                    )
                )
    # Same instant: a record change, then the decision, then the call it allowed.
    order = {"history": 0, "registry": 1, "decision": 2, "call": 3, "ticket": 4}
    entries.sort(key=lambda entry: (entry.at, order[entry.kind]))
    return Timeline(numbers=numbers, customer=customer, entries=entries)


def _history(customer, phone_ids, numbers, within: Q) -> list[Entry]:
    sources = []
    if customer is not None:
        sources.append(("Customer", apps.get_model("customers", "Customer").history.filter(id=customer.pk)))
    if phone_ids:
        sources.append(
            ("Phone number", apps.get_model("customers", "PhoneNumber").history.filter(id__in=phone_ids))
        )
        sources.append(
            (
                "Consent",
                apps.get_model("consent", "ConsentGrant").history.filter(phone_number_id__in=phone_ids),
            )
        )
    if numbers:
        sources.append(
            ("DNC request", apps.get_model("consent", "DncRequest").history.filter(number__in=numbers))
        )
    entries = []
    for label, rows in sources:
        for row in rows.filter(within).select_related("history_user"):
            entries.append(
                Entry(
                    at=row.history_date,
                    kind="history",
                    title=f"{label} #{row.id} {HISTORY_TYPES.get(row.history_type, row.history_type)}",
                    detail=_history_detail(label, row),
                    who=_who(row.history_user),
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
