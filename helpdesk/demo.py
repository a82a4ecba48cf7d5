"""Demo help desk: three queues and tickets of every type in several
statuses for the demo customers, with replies and internal notes, some
overdue and one escalated, all written through the help-desk services."""

from dataclasses import dataclass
from datetime import timedelta
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.utils import timezone

from consent.demo import DEMO_EMAIL_DOMAIN
from core.history import history_save
from customers.models import Customer
from helpdesk import services
from helpdesk.models import Queue, Ticket
from helpdesk.sla import ticket_due

CARE, PRIVACY, COMPLAINTS = "Customer care", "Privacy requests", "Complaints"


class _QueueSpec(TypedDict):
    sla_hours: int
    description: str
    members: list[str]  # usernames of the demo's staff
    ticket_types: str  # routed here (Queue.ticket_types); "" for the default queue


QUEUES: dict[str, _QueueSpec] = {
    CARE: {
        "sla_hours": 8,
        "description": "Orders, deliveries, accounts.",
        "members": ["agent", "agent2"],
        "ticket_types": "",
    },
    PRIVACY: {
        "sla_hours": 16,
        "description": "Access and erasure requests (GDPR, CCPA) and opt-outs in writing.",
        "members": ["compliance"],
        "ticket_types": "opt_out,data_access,erasure",
    },
    COMPLAINTS: {
        "sla_hours": 4,
        "description": "Complaints about our calls: flagged for compliance officers.",
        "members": ["manager", "compliance"],
        "ticket_types": "complaint",
    },
}


@dataclass(frozen=True)
class DemoTicket:
    queue: str
    subject: str
    type: str
    channel: str
    description: str = ""
    legal_basis: str = ""
    assignee: str = ""
    reply: str = ""  # a public reply (opens the ticket)
    note: str = ""  # an internal note
    status: str = ""  # set after the comments
    act: bool = False  # opt-out or data access: carry the request out
    age_days: int = 0  # opened this many days ago: past its SLA whatever today's weekday
    escalated: bool = False  # already escalated by the beat task


DEMO_TICKETS = (
    DemoTicket(CARE, "Where is my order?", "question", "phone", "Order placed 10 days ago.", age_days=4),
    DemoTicket(
        CARE,
        "Change of delivery address",
        "question",
        "email",
        "Moving next week; please deliver to the new address.",
        assignee="agent",
        reply="We've updated the address on your open order.",
        age_days=5,
    ),
    DemoTicket(
        CARE,
        "Refund for a damaged item",
        "question",
        "web",
        "The lamp arrived broken.",
        assignee="agent2",
        reply="Sorry about that! Could you send us a photo of the damage?",
        status="pending",
    ),
    DemoTicket(
        CARE,
        "Loyalty card not working",
        "question",
        "phone",
        assignee="agent",
        reply="Your new card is on its way.",
        note="Old card blocked in the loyalty system.",
        status="closed",
    ),
    DemoTicket(PRIVACY, "Please stop calling me", "opt_out", "email", "I don't want any more calls."),
    DemoTicket(
        PRIVACY,
        "Remove me from your call list",
        "opt_out",
        "letter",
        "Letter received at head office.",
        assignee="compliance",
        act=True,
    ),
    DemoTicket(
        COMPLAINTS,
        "Called during dinner",
        "complaint",
        "phone",
        "Customer says we called at 8:55 pm local time.",
        assignee="compliance",
        note="Checking the decision log for the call's local time.",
        status="open",
    ),
    DemoTicket(
        COMPLAINTS,
        "Too many calls this week",
        "complaint",
        "web",
        "Four calls in three days about the winter sale.",
        age_days=4,
        escalated=True,
    ),
    DemoTicket(
        PRIVACY,
        "Copy of my personal data",
        "data_access",
        "email",
        "Under the GDPR I'd like a copy of everything you hold about me.",
        legal_basis="gdpr",
        assignee="compliance",
    ),
    DemoTicket(
        PRIVACY,
        "What information do you have on me?",
        "data_access",
        "web",
        legal_basis="ccpa",
        assignee="compliance",
        act=True,
    ),
    DemoTicket(
        PRIVACY,
        "Delete my account",
        "erasure",
        "web",
        "Please delete all my data.",
        legal_basis="ccpa",
    ),
    DemoTicket(
        PRIVACY,
        "Right to be forgotten",
        "erasure",
        "letter",
        legal_basis="gdpr",
        assignee="compliance",
        note="Waiting for the customer to confirm their identity.",
        status="pending",
    ),
)


def demo_helpdesk_seed(*, by) -> int:
    """Creates the demo queues and tickets once; returns how many demo tickets exist."""
    existing = Ticket.objects.filter(queue__name__in=QUEUES).count()
    if existing:
        return existing
    staff = {user.username: user for user in get_user_model().objects.filter(username__in=_usernames())}
    queues = {name: _queue(name, spec, staff, by) for name, spec in QUEUES.items()}
    customers = list(
        Customer.objects.filter(
            email__endswith="@" + DEMO_EMAIL_DOMAIN, erased_at__isnull=True, legal_hold=False
        )
        .filter(phone_numbers__number__isnull=False)
        .distinct()
        .order_by("pk")[: len(DEMO_TICKETS)]
    )
    tickets = [
        _ticket(spec, queues[spec.queue], customers[i % len(customers)] if customers else None, staff, by)
        for i, spec in enumerate(DEMO_TICKETS)
    ]
    # Overdue: those escalated by the beat task already, then those still waiting for it.
    now = timezone.now()
    aged = [(ticket, spec) for ticket, spec in zip(tickets, DEMO_TICKETS, strict=True) if spec.age_days]
    for ticket, spec in aged:
        if spec.escalated:
            _backdate(ticket, now - timedelta(days=spec.age_days), by)
    services.tickets_escalate(now=now)
    for ticket, spec in aged:
        if not spec.escalated:
            _backdate(ticket, now - timedelta(days=spec.age_days), by)
    return len(tickets)


def _usernames() -> set[str]:
    names = {spec.assignee for spec in DEMO_TICKETS if spec.assignee}
    return names | {member for spec in QUEUES.values() for member in spec["members"]}


def _queue(name: str, spec: _QueueSpec, staff: dict, by) -> Queue:
    queue = Queue.objects.filter(name=name).first()
    if queue is None:
        queue = Queue(
            name=name,
            description=spec["description"],
            sla_hours=spec["sla_hours"],
            ticket_types=spec["ticket_types"],
        )
        history_save(queue, by=by, reason="demo queue")
    queue.members.add(*[staff[username] for username in spec["members"] if username in staff])
    return queue


def _ticket(spec: DemoTicket, queue: Queue, customer: Customer | None, staff: dict, by) -> Ticket:
    agent = staff.get(spec.assignee, by)
    ticket = services.ticket_create(
        queue=queue,
        subject=spec.subject,
        description=spec.description,
        type=spec.type,
        channel=spec.channel,
        legal_basis=spec.legal_basis,
        customer=customer,
        by=by,
    )
    if spec.assignee:
        ticket = services.ticket_assign(ticket=ticket, assignee=agent, by=by)
    if spec.reply:
        services.ticket_comment(ticket=ticket, body=spec.reply, public=True, by=agent)
    if spec.note:
        services.ticket_comment(ticket=ticket, body=spec.note, public=False, by=agent)
    if spec.act and spec.type == Ticket.Type.OPT_OUT:
        services.ticket_opt_out(ticket=ticket, by=agent)
    elif spec.act and spec.type == Ticket.Type.DATA_ACCESS:
        services.ticket_data_access(ticket=ticket, by=agent)
    if spec.status:
        services.ticket_status_set(ticket=ticket, status=spec.status, by=agent)
    return Ticket.objects.get(pk=ticket.pk)


def _backdate(ticket: Ticket, opened_at, by) -> None:
    """As if opened at `opened_at`: the due time follows from the queue's SLA."""
    ticket.created_at = opened_at
    ticket.due_at = ticket_due(
        ticket_type=ticket.type, legal_basis=ticket.legal_basis, queue=ticket.queue, start=opened_at
    )
    history_save(ticket, by=by, reason="demo: opened in the past")
    ticket.events.filter(kind="created").update(at=opened_at)
