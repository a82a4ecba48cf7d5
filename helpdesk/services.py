"""Writes of the help desk, each with history (who and why) and a ticket
event. Tickets that act do so through the consent and compliance services."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from compliance.erasure import customer_erase
from consent.services import consent_revoke
from core.calls import calls_made_provider
from core.history import history_save, history_user
from helpdesk.models import Comment, DataRequestLog, Queue, Ticket, TicketEvent
from helpdesk.sla import ticket_due

COMPLAINT_LOOKBACK = timedelta(days=30)


def _event(ticket: Ticket, kind: str, text: str, by, **data) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, text=text, actor=history_user(by), at=timezone.now(), data=data
    )


@transaction.atomic
def ticket_create(
    *,
    queue: Queue,
    subject: str,
    channel: str,
    by,
    customer=None,
    description: str = "",
    type: str = Ticket.Type.QUESTION,
    priority: int = Ticket.Priority.NORMAL,
    legal_basis: str = "",
    assignee=None,
) -> Ticket:
    """Open a ticket with its due time; a complaint is flagged for compliance
    officers and linked to the calls made to the customer in the last 30 days."""
    if type in Ticket.DATA_REQUESTS and customer is None:
        raise ValidationError({"customer": ["A data request must name the customer it is about."]})
    if type == Ticket.Type.OPT_OUT and customer is None:
        raise ValidationError(
            {"customer": ["An opt-out request must name the customer whose numbers to stop."]}
        )
    now = timezone.now()
    ticket = Ticket(
        queue=queue,
        subject=subject,
        description=description,
        channel=channel,
        customer=customer,
        type=type,
        priority=priority,
        legal_basis=legal_basis if type in Ticket.DATA_REQUESTS else "",
        assignee=assignee,
        created_by=history_user(by),
        flagged_for_compliance=type == Ticket.Type.COMPLAINT,
        due_at=ticket_due(ticket_type=type, legal_basis=legal_basis, queue=queue, start=now),
    )
    ticket.full_clean()
    history_save(ticket, by=by, reason=f"ticket opened ({ticket.get_channel_display().lower()})")
    _event(ticket, TicketEvent.Kind.CREATED, f"Opened via {ticket.get_channel_display().lower()}.", by)
    if type == Ticket.Type.COMPLAINT and customer is not None:
        calls = calls_made_provider().calls_of_customer(
            customer_id=customer.pk, since=now - COMPLAINT_LOOKBACK
        )
        ticket.related_attempts.set([call.id for call in calls])
        _event(
            ticket,
            TicketEvent.Kind.ACTION,
            f"Flagged for compliance officers; linked to {len(calls)} call(s) of the last 30 days.",
            by,
            attempts=[call.id for call in calls],
            decisions=[call.decision_id for call in calls],
        )
    return ticket


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


@transaction.atomic
def ticket_comment(*, ticket: Ticket, body: str, public: bool, by) -> Comment:
    body = body.strip()
    if not body:
        raise ValidationError({"body": ["Write something first."]})
    ticket = _locked(ticket)
    comment = Comment(ticket=ticket, author=history_user(by), body=body, public=public)
    history_save(comment, by=by, reason="reply" if public else "internal note")
    if public and ticket.status == Ticket.Status.NEW:
        _status_set(ticket, Ticket.Status.OPEN, by)
    return comment


def _status_set(ticket: Ticket, status: str, by, note: str = "") -> None:
    old = ticket.get_status_display()
    ticket.status = status
    if status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        ticket.resolved_at = ticket.resolved_at or timezone.now()
    else:
        ticket.resolved_at = None
    history_save(ticket, by=by, reason=f"status: {status}")
    _event(
        ticket,
        TicketEvent.Kind.STATUS,
        f"{old} → {ticket.get_status_display()}" + (f": {note}" if note else ""),
        by,
    )


@transaction.atomic
def ticket_status_set(*, ticket: Ticket, status: str, by, note: str = "") -> Ticket:
    if status not in Ticket.Status.values:
        raise ValidationError({"status": [f"Unknown status '{status}'."]})
    ticket = _locked(ticket)
    if ticket.status != status:
        _status_set(ticket, status, by, note)
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, by) -> Ticket:
    ticket = _locked(ticket)
    if assignee is not None and not assignee.is_active:
        raise ValidationError({"assignee": ["This user is not active."]})
    ticket.assignee = assignee
    history_save(ticket, by=by, reason="assigned")
    name = (assignee.get_full_name() or assignee.username) if assignee else ""
    _event(ticket, TicketEvent.Kind.ASSIGNED, f"Assigned to {name}." if assignee else "Unassigned.", by)
    return ticket


@transaction.atomic
def ticket_opt_out(*, ticket: Ticket, by) -> list[str]:
    """Revoke every consent of each of the customer's numbers and file the
    DNC requests (`via: ticket`), the ticket as evidence. Returns the numbers."""
    ticket = _locked(ticket)
    if ticket.customer is None:
        raise ValidationError("This ticket names no customer.")
    if ticket.events.filter(kind=TicketEvent.Kind.ACTION, data__has_key="numbers").exists():
        raise ValidationError("The opt-out of this ticket was already applied (see its timeline).")
    numbers = [
        str(n) for n in ticket.customer.phone_numbers.exclude(number=None).values_list("number", flat=True)
    ]
    if not numbers:
        raise ValidationError("The customer has no phone number to stop calling.")
    revoked = 0
    for number in numbers:
        opt_out = consent_revoke(
            number=number,
            via="ticket",
            by=by,
            note=f"ticket #{ticket.pk}: {ticket.subject}"[:200],
            evidence={"ticket": ticket.pk, "channel": ticket.channel, "subject": ticket.subject},
            requested_at=ticket.created_at,
        )
        revoked += len(opt_out.revoked)
    _event(
        ticket,
        TicketEvent.Kind.ACTION,
        f"Opt-out applied to {', '.join(numbers)}: {revoked} consent(s) revoked, numbers on the do-not-call list.",
        by,
        numbers=numbers,
    )
    _status_set(ticket, Ticket.Status.RESOLVED, by, "opt-out applied")
    return numbers


@transaction.atomic
def ticket_data_access(*, ticket: Ticket, by) -> dict:
    """Everything held about the customer (GDPR art. 15, CCPA 1798.110), and
    the request logged as fulfilled."""
    from helpdesk.export import customer_export

    ticket = _locked(ticket)
    if ticket.type != Ticket.Type.DATA_ACCESS or ticket.customer is None:
        raise ValidationError("Only a data access request about a customer can be answered with an export.")
    export = customer_export(customer=ticket.customer)
    if not DataRequestLog.objects.filter(ticket_id=ticket.pk).exists():  # one answer per request
        _data_request_log(ticket, DataRequestLog.Outcome.FULFILLED, by)
    _event(ticket, TicketEvent.Kind.ACTION, "Data export produced and sent.", by, sections=sorted(export))
    if ticket.status != Ticket.Status.RESOLVED:
        _status_set(ticket, Ticket.Status.RESOLVED, by, "data export produced")
    return export


@transaction.atomic
def ticket_erase(*, ticket: Ticket, by) -> bool:
    """Erase the ticket's customer (compliance.erasure, `via="ticket"`). A legal hold refuses
    it: the refusal and its reason are recorded, on the ticket and in the
    request log. Returns whether the customer was erased."""
    ticket = _locked(ticket)
    if ticket.type != Ticket.Type.ERASURE or ticket.customer is None:
        raise ValidationError("Only an erasure request about a customer can erase.")
    try:
        with transaction.atomic():
            erasure = customer_erase(
                customer=ticket.customer, by=by, via="ticket", reason=f"ticket #{ticket.pk}"
            )
    except ValidationError as exc:
        reason = " ".join(exc.messages)
        _data_request_log(ticket, DataRequestLog.Outcome.REFUSED, by, reason)
        _event(ticket, TicketEvent.Kind.REFUSED, f"Erasure refused: {reason}", by)
        _status_set(ticket, Ticket.Status.RESOLVED, by, "erasure refused")
        return False
    # The ticket's own words, its comments and the customer's other tickets
    # were blanked by the help desk's erasure hook (helpdesk.erasure).
    ticket.refresh_from_db()
    _data_request_log(ticket, DataRequestLog.Outcome.FULFILLED, by)
    _event(
        ticket,
        TicketEvent.Kind.ACTION,
        f"Customer erased; {erasure.numbers_suppressed} number(s) kept only as suppression hashes.",
        by,
    )
    _status_set(ticket, Ticket.Status.RESOLVED, by, "customer erased")
    return True


def _data_request_log(ticket: Ticket, outcome: str, by, refusal: str = "") -> DataRequestLog:
    return DataRequestLog.objects.create(
        ticket_id=ticket.pk,
        request_type=ticket.type,
        legal_basis=ticket.legal_basis,
        channel=ticket.channel,
        received_at=ticket.created_at,
        responded_at=timezone.now(),
        outcome=outcome,
        refusal_reason=refusal,
        responded_by=history_user(by),
    )


def tickets_escalate(*, now=None) -> int:
    """Open tickets past their due time: escalated once (priority raised,
    shown first), with an event. Returns how many."""
    now = now or timezone.now()
    escalated = 0
    overdue = Ticket.objects.filter(
        status__in=Ticket.OPEN_STATUSES, due_at__lt=now, escalated_at__isnull=True
    )
    for ticket_id in overdue.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update(skip_locked=True).filter(pk=ticket_id).first()
            if ticket is None or ticket.escalated_at is not None:
                continue
            ticket.escalated_at = now
            ticket.priority = max(ticket.priority, Ticket.Priority.HIGH)
            history_save(ticket, by=None, reason="escalated: past its due time")
            _event(
                ticket,
                TicketEvent.Kind.ESCALATED,
                # Stored text, read in any zone: written in UTC, in the site's date format.
                f"Past its due time ({date_format(ticket.due_at.astimezone(UTC), 'DATETIME_FORMAT')}).",
                None,
            )
            escalated += 1
    return escalated
