"""The help desk for managers and compliance officers: queues (members, SLA,
business hours), tickets (filters, overdue first, their conversation and
timeline read-only, status and assignee changed through the services), and
the data request log, read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html

from core.admin import EstimatedCountPaginator, ReadOnlyAdmin
from core.history import history_save
from core.words import datetime_text, person_name
from customers.admin import ReadableHistoryAdmin
from helpdesk import services
from helpdesk.models import Comment, DataRequestLog, Queue, Ticket, TicketEvent
from helpdesk.selectors import ticket_assignees

# What opening a ticket takes (helpdesk.services.ticket_create).
CREATE_FIELDS = [
    "queue",
    "subject",
    "description",
    "customer",
    "type",
    "channel",
    "legal_basis",
    "priority",
    "assignee",
]
# Set at creation: they decide the due time and what the ticket may do.
FIXED_AFTER_CREATION = ["customer", "type", "channel", "legal_basis"]
# Changed with a history row and its reason; status and assignee instead go
# through their services, which also write the timeline.
PLAIN_FIELDS = ["subject", "description", "queue", "priority", "flagged_for_compliance"]


class QueueForm(forms.ModelForm):
    """The types routed to a queue as boxes to tick; a type goes to one queue."""

    ticket_types = forms.MultipleChoiceField(
        choices=Ticket.Type.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Ticket types routed here",
        help_text="A ticket of these types opened without a queue (from a call, or 'by type' on the form) "
        "lands here. Types no queue takes go to the agent's own queue.",
    )

    class Meta:
        model = Queue
        fields = [
            "name",
            "description",
            "members",
            "ticket_types",
            "sla_hours",
            "business_time_zone",
            "business_day_start",
            "business_day_end",
            "business_weekdays",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["ticket_types"] = sorted(self.instance.routed_types)

    def clean_ticket_types(self) -> str:
        chosen = self.cleaned_data["ticket_types"]
        labels = dict(Ticket.Type.choices)
        for queue in Queue.objects.exclude(pk=self.instance.pk):
            taken = sorted(set(chosen) & queue.routed_types)
            if taken:
                raise ValidationError(
                    f"The queue {queue} already takes {', '.join(str(labels[t]) for t in taken)}: "
                    "untick it there first (a type goes to one queue)."
                )
        return ",".join(value for value in Ticket.Type.values if value in chosen)


@admin.register(Queue)
class QueueAdmin(ReadableHistoryAdmin):
    form = QueueForm
    list_display = ["name", "routes", "sla_hours", "business_hours", "business_time_zone", "member_count"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    fieldsets = [
        (None, {"fields": ["name", "description", "members", "ticket_types"]}),
        (
            "Service level",
            {
                "fields": [
                    "sla_hours",
                    "business_time_zone",
                    ("business_day_start", "business_day_end"),
                    "business_weekdays",
                ],
                "description": "Due times count only business hours. Data requests are due in 30 days "
                "(GDPR) or 45 days (CCPA) whatever the queue.",
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name != "members":
            return super().formfield_for_manytomany(db_field, request, **kwargs)
        kwargs["queryset"] = ticket_assignees()
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        field.label_from_instance = person_name  # as the queue's filter and list name them
        return field

    @admin.display(description="Business hours")
    def business_hours(self, queue: Queue) -> str:
        days = "".join("MTWTFSS"[day] for day in sorted(queue.weekdays))
        return f"{queue.business_day_start:%H:%M}-{queue.business_day_end:%H:%M} {days}"

    @admin.display(description="Ticket types routed here")
    def routes(self, queue: Queue) -> str:
        labels = dict(Ticket.Type.choices)
        return ", ".join(str(labels[t]) for t in Ticket.Type.values if t in queue.routed_types) or "-"

    @admin.display(description="Members")
    def member_count(self, queue: Queue) -> int:
        return len(queue.members.all())

    def save_model(self, request, obj, form, change):
        obj._change_reason = "changed in the admin" if change else "created in the admin"
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its tickets keep it (PROTECT); rename or empty it instead


class OverdueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = Q(status__in=Ticket.OPEN_STATUSES, due_at__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class CommentInline(ReadOnlyInline):
    model = Comment
    fields = readonly_fields = ("created_at", "author", "kind", "body")
    verbose_name = "reply or note"
    verbose_name_plural = "Replies and internal notes"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description="Kind")
    def kind(self, comment: Comment) -> str:
        return "Reply to the customer" if comment.public else "Internal note"


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = readonly_fields = ("at", "kind", "text", "actor")
    verbose_name_plural = "Timeline"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class TicketForm(forms.ModelForm):
    change_reason = forms.CharField(
        required=False,
        max_length=200,
        help_text="Why you make this change (kept in the ticket's history and on its timeline).",
    )

    class Meta:
        model = Ticket
        fields = [
            "queue",
            "subject",
            "description",
            "customer",
            "type",
            "channel",
            "legal_basis",
            "priority",
            "status",
            "assignee",
            "flagged_for_compliance",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            ticket_type = cleaned.get("type")
            if ticket_type in (*Ticket.DATA_REQUESTS, Ticket.Type.OPT_OUT) and not cleaned.get("customer"):
                self.add_error("customer", "This type of request must name the customer it is about.")
        return cleaned


@admin.register(Ticket)
class TicketAdmin(ReadableHistoryAdmin):
    form = TicketForm
    list_display = [
        "number",
        "subject",
        "type",
        "status",
        "priority",
        "queue",
        "assignee_name",
        "customer",
        "due",
        "flagged_for_compliance",
    ]
    list_filter = ["status", "type", "queue", OverdueFilter, "flagged_for_compliance", "priority"]
    list_select_related = ["queue", "assignee", "customer"]
    search_fields = ["subject"]
    search_help_text = "A ticket number (#123 or 123) or words of the subject."
    raw_id_fields = ["customer"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    inlines = [CommentInline, TicketEventInline]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["queue", "subject", "description", "customer"]}),
                ("Request", {"fields": ["type", "channel", "legal_basis", "priority", "assignee"]}),
            ]
        return [
            (None, {"fields": ["subject", "description", "customer"]}),
            ("Request", {"fields": ["type", "channel", "legal_basis", "related_calls"]}),
            (
                "Work",
                {"fields": ["queue", "status", "assignee", "priority", "flagged_for_compliance"]},
            ),
            ("Due", {"fields": ["due_at", "escalated_at", "resolved_at"]}),
            ("Record", {"fields": ["created_by", "created_at", "updated_at", "change_reason"]}),
        ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            *FIXED_AFTER_CREATION,
            "related_calls",
            "due_at",
            "escalated_at",
            "resolved_at",
            "created_by",
            "created_at",
            "updated_at",
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name != "assignee":
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs["queryset"] = ticket_assignees()
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        field.label_from_instance = person_name
        return field

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().removeprefix("#")
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="#", ordering="id")
    def number(self, ticket: Ticket) -> str:
        return f"#{ticket.pk}"

    @admin.display(description="Assignee", ordering="assignee__last_name")
    def assignee_name(self, ticket: Ticket) -> str:
        return person_name(ticket.assignee) if ticket.assignee else "-"

    @admin.display(description="Due", ordering="due_at")
    def due(self, ticket: Ticket):
        if ticket.is_open and ticket.due_at < timezone.now():
            label = "escalated" if ticket.escalated_at else "overdue"
            return format_html(
                '<strong style="color:#ba2121">{} ({})</strong>', datetime_text(ticket.due_at), label
            )
        return datetime_text(ticket.due_at)

    @admin.display(description="Calls it is about")
    def related_calls(self, ticket: Ticket) -> str:
        calls = ticket.related_attempts.select_related("phone_number", "campaign").order_by("handed_at")
        return (
            "; ".join(
                f"{datetime_text(call.handed_at)} {call.phone_number} ({call.campaign}, decision #{call.decision_id})"
                for call in calls
            )
            or "-"
        )

    def save_model(self, request, obj, form, change):
        if not change:
            ticket = services.ticket_create(
                by=request.user, **{name: form.cleaned_data[name] for name in CREATE_FIELDS}
            )
            obj.__dict__.update(ticket.__dict__)  # the admin logs and redirects with `obj`
            return
        reason = form.cleaned_data.get("change_reason", "").strip()
        plain = [name for name in form.changed_data if name in PLAIN_FIELDS]
        ticket = Ticket.objects.get(pk=obj.pk)
        if plain:
            for name in plain:
                setattr(ticket, name, getattr(obj, name))
            what = f"{', '.join(plain)} changed in the admin"
            history_save(ticket, by=request.user, reason=f"{what}: {reason}" if reason else what)
        if "status" in form.changed_data:
            ticket = services.ticket_status_set(
                ticket=ticket, status=obj.status, by=request.user, note=reason
            )
        if "assignee" in form.changed_data:
            ticket = services.ticket_assign(ticket=ticket, assignee=obj.assignee, by=request.user)
        obj.__dict__.update(ticket.__dict__)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # closed tickets leave by the retention purge


@admin.register(DataRequestLog)
class DataRequestLogAdmin(ReadOnlyAdmin):
    """The consumer-request record the CCPA makes us keep 24 months. Written
    by the help desk when a request is answered; no one edits it."""

    list_display = [
        "ticket_id",
        "request_type",
        "legal_basis",
        "channel",
        "received_at",
        "responded_at",
        "outcome",
        "refusal_reason",
        "responded_by",
    ]
    list_filter = ["request_type", "legal_basis", "outcome", "channel"]
    list_select_related = ["responded_by"]
    date_hierarchy = "responded_at"
    search_fields = ["=ticket_id"]
    show_full_result_count = False
