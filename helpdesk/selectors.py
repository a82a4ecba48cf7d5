"""Reads of this app: typed, keyword-only functions named <thing>_<verb>.

Ticket lists filter on the open statuses exactly as the partial indexes
`ticket_mine_idx` and `ticket_queue_idx` do, and sort by due time: overdue
(and so escalated) tickets come first, straight from the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from django.db.models import Case, IntegerField, QuerySet, Value, When

from compliance.registry.selectors import e164_to_registry_int, registry_listings
from compliance.registry.sources import LITIGATOR_KEY, source_describe
from compliance.rnd.answers import NO, YES, RndAnswer
from compliance.rnd.selectors import rnd_latest_answers
from consent.models import ConsentGrant, DncRequest, OptOutVia
from core.words import day_text
from customers.models import Customer
from helpdesk.models import Comment, DataRequestLog, Queue, Ticket, TicketEvent

OPEN = "open"  # the status filter meaning "new, open or waiting"
ALL = "all"


def _tickets() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("customer", "queue", "assignee")


def ticket_list(
    *,
    now: datetime,
    queue: Queue | None = None,
    assignee=None,
    unassigned: bool = False,
    status: str = OPEN,
    type: str = "",
    overdue: bool = False,
) -> QuerySet[Ticket]:
    """Tickets of a queue or of an assignee, filtered. Open tickets by due
    time (overdue first); with `status=all`, open ones before the rest."""
    tickets = _tickets()
    if queue is not None:
        tickets = tickets.filter(queue=queue)
    if assignee is not None:
        tickets = tickets.filter(assignee=assignee)
    elif unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    if status == OPEN:
        tickets = tickets.filter(status__in=Ticket.OPEN_STATUSES)
    elif status in Ticket.Status.values:
        tickets = tickets.filter(status=status)
    if type in Ticket.Type.values:
        tickets = tickets.filter(type=type)
    if overdue:
        tickets = tickets.filter(status__in=Ticket.OPEN_STATUSES, due_at__lt=now)
    if status == OPEN or overdue:
        return tickets.order_by("due_at", "id")
    open_first = Case(
        When(status__in=Ticket.OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return tickets.order_by(open_first, "due_at", "id")


def ticket_list_mine(*, user, now: datetime) -> QuerySet[Ticket]:
    return ticket_list(now=now, assignee=user)


def queue_list() -> QuerySet[Queue]:
    return Queue.objects.order_by("name")


def queue_for(*, ticket_type: str, user) -> Queue | None:
    """Where a ticket opened without a queue goes (from the call screen, or
    "by type" on the form): the queue its type is routed to
    (Queue.ticket_types; a data access request to the privacy team's
    queue), else the first queue the user works, else the first queue."""
    queues = list(Queue.objects.order_by("name"))
    routed = next((queue for queue in queues if ticket_type in queue.routed_types), None)
    return routed or user.ticket_queues.order_by("name").first() or (queues[0] if queues else None)


def queue_members(*, queue: Queue) -> QuerySet:
    return queue.members.filter(is_active=True).order_by("username")


def ticket_get(*, ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.select_related("customer", "queue", "assignee", "created_by")
        .filter(pk=ticket_id)
        .first()
    )


TIMELINE_LABELS = {
    "reply": "Reply to the customer",
    "note": "Internal note",
    TicketEvent.Kind.CREATED: "Opened",
    TicketEvent.Kind.STATUS: "Status",
    TicketEvent.Kind.ASSIGNED: "Assignment",
    TicketEvent.Kind.ESCALATED: "Escalated",
    TicketEvent.Kind.ACTION: "Action",
    TicketEvent.Kind.REFUSED: "Refused",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "reply", "note" or a TicketEvent kind
    text: str
    actor: object

    @property
    def label(self) -> str:
        return TIMELINE_LABELS.get(self.kind, self.kind)

    @property
    def is_comment(self) -> bool:
        return self.kind in ("reply", "note")


def ticket_timeline(*, ticket: Ticket) -> list[TimelineEntry]:
    """Comments and events in the order they happened (two queries)."""
    comments = [
        TimelineEntry(c.created_at, "reply" if c.public else "note", c.body, c.author)
        for c in Comment.objects.filter(ticket=ticket).select_related("author")
    ]
    events = [
        TimelineEntry(e.at, e.kind, e.text, e.actor)
        for e in TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    ]
    # An event and the comment that caused it share an instant: the comment first.
    return sorted(chain(comments, events), key=lambda entry: (entry.at, entry.kind not in ("reply", "note")))


def ticket_related_calls(*, ticket: Ticket):
    return ticket.related_attempts.select_related("campaign", "phone_number", "decision", "agent").order_by(
        "-handed_at"
    )


def ticket_opt_out_applied(*, ticket: Ticket) -> TicketEvent | None:
    return (
        TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ACTION, data__has_key="numbers")
        .order_by("-at")
        .first()
    )


def ticket_data_request_answer(*, ticket: Ticket) -> DataRequestLog | None:
    """The logged answer to a data request (fulfilled or refused), if any."""
    return (
        DataRequestLog.objects.filter(ticket_id=ticket.pk)
        .select_related("responded_by")
        .order_by("-responded_at")
        .first()
    )


# Consents and calling status in plain words.

_VIA_WORDS: dict[str, str] = {
    OptOutVia.API: "through the API",
    OptOutVia.AGENT: "to an agent during a call",
    OptOutVia.TICKET: "through a help-desk ticket",
    OptOutVia.SMS: "by SMS",
    OptOutVia.WEB: "on the preference page",
    OptOutVia.ADMIN: "by an administrator",
}
_SOURCE_WORDS: dict[str, str] = {
    ConsentGrant.Source.WEB_FORM: "via web form",
    ConsentGrant.Source.SIGNED_FORM: "on a signed form",
    ConsentGrant.Source.VERBAL: "verbally",
    ConsentGrant.Source.IVR: "via the phone menu (IVR)",
    ConsentGrant.Source.IMPORT: "by import",
    ConsentGrant.Source.SMS_KEYWORD: "by SMS keyword",
    ConsentGrant.Source.AGENT: "to an agent",
}


def consent_describe(grant: ConsentGrant, *, now: datetime) -> str:
    """E.g. "Written consent to marketing calls by voice, given Mar 1, 2026
    via web form; revoked May 2, 2026 by SMS"."""
    what = "calls by voice" if grant.channel == "voice" else "text messages"
    words = (
        f"{'Written' if grant.written else 'Express (not written)'} consent to {grant.purpose} {what}, "
        f"given {day_text(grant.granted_at)} {_SOURCE_WORDS.get(grant.source, grant.source)}"
    )
    if grant.revoked_at:
        words += (
            f"; revoked {day_text(grant.revoked_at)} {_VIA_WORDS.get(grant.revoked_via, grant.revoked_via)}"
        )
    elif grant.expires_at and grant.expires_at <= now:
        words += f"; expired {day_text(grant.expires_at)}"
    elif grant.expires_at:
        words += f"; expires {day_text(grant.expires_at)}"
    return words


@dataclass
class NumberStatus:
    label: str
    kind: str
    blocked: bool
    lines: list[str] = field(default_factory=list)
    consents: list[str] = field(default_factory=list)
    phone_id: int | None = None
    reassigned: bool = False


@dataclass
class CustomerOverview:
    customer: Customer
    numbers: list[NumberStatus]
    tickets: list[Ticket]
    open_tickets: int


def customer_overview(*, customer_id: int, now: datetime) -> CustomerOverview | None:
    """A customer for an agent: their tickets, each number's consents in
    plain words and whether anything stops calling it. A fixed number of
    queries whatever the customer has."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return None
    phones = list(customer.phone_numbers.order_by("id"))
    numbers = [str(p.number) for p in phones if p.number]
    grants: dict[int, list[ConsentGrant]] = {}
    for grant in ConsentGrant.objects.filter(phone_number__in=phones).order_by("granted_at", "id"):
        grants.setdefault(grant.phone_number_id, []).append(grant)
    dnc: dict[str, list[DncRequest]] = {}
    for request in DncRequest.objects.filter(number__in=numbers).order_by("requested_at"):
        dnc.setdefault(str(request.number), []).append(request)
    listed = registry_listings(numbers=[n for n in map(e164_to_registry_int, numbers) if n])
    rnd = rnd_latest_answers(numbers=numbers, at=now)

    statuses = []
    for phone in phones:
        if phone.number is None:
            statuses.append(
                NumberStatus(
                    label="(erased number)",
                    kind=phone.get_kind_display(),
                    blocked=True,
                    lines=["Erased: kept only as a suppression hash, never called again."],
                )
            )
            continue
        e164 = str(phone.number)
        status = NumberStatus(
            label=phone.number.as_national,
            kind=phone.get_kind_display(),
            blocked=False,
            phone_id=phone.pk,
            reassigned=phone.reassigned_at is not None,
        )
        requests = dnc.get(e164, [])
        if requests:
            first = requests[0]
            status.blocked = True
            status.lines.append(
                f"On the company do-not-call list since {day_text(first.requested_at)} "
                f"(asked {_VIA_WORDS.get(first.source, first.source)}): never called again."
            )
        for source in sorted(listed.get(e164_to_registry_int(e164) or 0, ())):
            where = source_describe(source)
            if source == LITIGATOR_KEY:
                status.lines.append(
                    f"On {where}: each campaign's litigator policy blocks the call or flags it for review."
                )
                continue
            status.lines.append(
                f"On {where}: marketing calls need written consent or a current business relationship."
            )
        for answer in rnd.get(e164, ()):
            status.lines.append(_rnd_line(answer))
        if phone.reassigned_at:
            status.lines.append(
                f"Reported reassigned on {day_text(phone.reassigned_at)}: consents given before then are void."
            )
        active = [g for g in grants.get(phone.pk, []) if g.revoked_at is None and not _expired(g, now)]
        if not status.blocked and not active:
            status.lines.append("No active consent: only manual, non-marketing calls may be allowed.")
        status.consents = [consent_describe(g, now=now) for g in grants.get(phone.pk, [])]
        statuses.append(status)

    tickets = list(ticket_list(now=now, status=ALL).filter(customer=customer))
    return CustomerOverview(
        customer=customer,
        numbers=statuses,
        tickets=tickets,
        open_tickets=sum(1 for t in tickets if t.is_open),
    )


def _rnd_line(answer: RndAnswer) -> str:
    """One RND answer for the customer page, in words."""
    asked = f"asked {day_text(answer.queried_at)} about {day_text(answer.date_sent)}"
    if answer.answer == YES:
        return (
            f"Reassigned Numbers Database ({asked}): yes, disconnected since: consents given on or before "
            "that date are void."
        )
    if answer.answer == NO:
        return f"Reassigned Numbers Database ({asked}): no, not disconnected since."
    return f"Reassigned Numbers Database ({asked}): no data."


def _expired(grant: ConsentGrant, now: datetime) -> bool:
    return grant.expires_at is not None and grant.expires_at <= now


def ticket_assignees() -> QuerySet:
    """Users a ticket may be assigned to: active and holding a role (or superusers)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from accounts.roles import ALL_ROLES

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=ALL_ROLES) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )
