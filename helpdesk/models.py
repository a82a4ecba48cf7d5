"""The help desk: queues, tickets, comments and a timeline of what was done.

Tickets that act (opt-out, complaint, data access, erasure) act through the
consent and compliance services and record what they did as ticket events.
Data requests (GDPR art. 15/17, CCPA) also leave a DataRequestLog row with no
personal data in it, kept 24 months (CCPA 11 CCR 7101) even after the
customer is erased."""

from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class Queue(models.Model):
    """Where tickets wait, who works them, and their service level in business hours."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="ticket_queues", help_text="Who works this queue."
    )
    sla_hours = models.PositiveIntegerField(default=8, help_text="Business hours from creation to due.")
    business_time_zone = models.CharField(max_length=50, default="America/New_York")
    business_day_start = models.TimeField(default=time(9, 0))
    business_day_end = models.TimeField(default=time(17, 0))
    business_weekdays = models.CharField(
        max_length=13, default="0,1,2,3,4", help_text="Working days, 0 = Monday ... 6 = Sunday."
    )
    ticket_types = models.CharField(
        max_length=80,
        blank=True,
        help_text="Types of ticket routed here when opened without a queue (from a call, or 'by type' on "
        "the form), comma-separated: e.g. data_access,erasure. Others go to the agent's own queue.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="queue_business_day_ordered",
                condition=Q(business_day_start__lt=models.F("business_day_end")),
            ),
            models.CheckConstraint(name="queue_sla_positive", condition=Q(sla_hours__gte=1)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weekdays(self) -> set[int]:
        return {int(day) for day in self.business_weekdays.split(",") if day.strip()}

    @property
    def routed_types(self) -> set[str]:
        return {name.strip() for name in self.ticket_types.split(",") if name.strip()}

    def clean(self) -> None:
        unknown = sorted(self.routed_types - set(Ticket.Type.values))
        if unknown:
            raise ValidationError({"ticket_types": f"Unknown ticket type(s): {', '.join(unknown)}."})


class Ticket(models.Model):
    class Type(models.TextChoices):
        QUESTION = "question", "Question"
        OPT_OUT = "opt_out", "Opt-out request"
        COMPLAINT = "complaint", "Complaint"
        DATA_ACCESS = "data_access", "Data access request"
        ERASURE = "erasure", "Erasure request"

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Waiting for the customer"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Priority(models.IntegerChoices):
        LOW = 1, "Low"
        NORMAL = 2, "Normal"
        HIGH = 3, "High"
        URGENT = 4, "Urgent"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone call"
        EMAIL = "email", "Email"
        WEB = "web", "Web form"
        SMS = "sms", "Text message"
        LETTER = "letter", "Letter"
        AGENT = "agent", "Agent (during a call)"

    class LegalBasis(models.TextChoices):
        GDPR = "gdpr", "GDPR (30 days)"
        CCPA = "ccpa", "CCPA (45 days)"

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)
    DATA_REQUESTS = (Type.DATA_ACCESS, Type.ERASURE)

    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.QUESTION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    legal_basis = models.CharField(
        max_length=4, choices=LegalBasis.choices, blank=True, help_text="Data requests: which law's deadline."
    )
    due_at = models.DateTimeField(db_index=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    flagged_for_compliance = models.BooleanField(default=False)
    related_attempts = models.ManyToManyField(
        "campaigns.CallAttempt", blank=True, related_name="tickets", help_text="Calls a complaint is about."
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["related_attempts"])

    class Meta:
        # Escalated first (most recent escalation first), then by due time.
        ordering = [models.F("escalated_at").desc(nulls_last=True), "due_at", "id"]
        indexes = [
            # My tickets and queue views: open tickets, overdue first.
            models.Index(
                fields=["assignee", "due_at"],
                condition=Q(status__in=["new", "open", "pending"]),
                name="ticket_mine_idx",
            ),
            models.Index(
                fields=["queue", "due_at"],
                condition=Q(status__in=["new", "open", "pending"]),
                name="ticket_queue_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="ticket_data_request_has_basis",
                condition=~Q(type__in=["data_access", "erasure"]) | ~Q(legal_basis=""),
                violation_error_message="A data request needs its legal basis (GDPR or CCPA): it sets the deadline.",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    body = models.TextField()
    public = models.BooleanField(
        default=False, help_text="A reply to the customer; otherwise an internal note."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{'Reply' if self.public else 'Note'} on #{self.ticket_id}"


class TicketEvent(models.Model):
    """What happened to a ticket besides comments: created, status changes,
    assignment, escalation, and the actions a ticket's type performs."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        ESCALATED = "escalated", "Escalated"
        ACTION = "action", "Action taken"
        REFUSED = "refused", "Action refused"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.kind}: {self.text[:60]}"


class DataRequestLog(models.Model):
    """The record of a consumer request the CCPA makes us keep 24 months:
    date, type, channel, response date, outcome, reason for a refusal. No
    personal data, so it survives the customer's erasure."""

    class Outcome(models.TextChoices):
        FULFILLED = "fulfilled", "Fulfilled"
        REFUSED = "refused", "Refused"

    ticket_id = models.BigIntegerField(db_index=True, help_text="The ticket (it may be purged before this).")
    request_type = models.CharField(max_length=12, choices=Ticket.Type.choices)
    legal_basis = models.CharField(max_length=4, choices=Ticket.LegalBasis.choices)
    channel = models.CharField(max_length=10, choices=Ticket.Channel.choices)
    received_at = models.DateTimeField()
    responded_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    refusal_reason = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-responded_at"]

    def __str__(self) -> str:
        return f"{self.get_request_type_display()} #{self.ticket_id}: {self.outcome}"
