"""Tickets and their comments over the API. Serializers validate; the
help-desk services decide and write (history, timeline events). The acting
types (opt-out, data export, erasure) are worked on the ticket pages, not here."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.access import HasAnyRole
from core.api import KeysetPagination, StrictTypes
from customers.models import Customer
from helpdesk import services
from helpdesk.models import Comment, Queue, Ticket
from helpdesk.selectors import ticket_assignees

User = get_user_model()


class TicketSerializer(StrictTypes, serializers.ModelSerializer):
    """A ticket as read, and as opened by POST. Status changes by PATCH,
    assignment by the assign action."""

    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all())
    queue_name = serializers.CharField(source="queue.name", read_only=True)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True
    )
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL)
    legal_basis = serializers.ChoiceField(
        choices=Ticket.LegalBasis.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Data requests (data_access, erasure): gdpr (due in 30 days) or ccpa (45 days).",
    )
    assignee_username = serializers.CharField(
        source="assignee.username", read_only=True, default=None, allow_null=True
    )
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "queue",
            "queue_name",
            "subject",
            "description",
            "type",
            "status",
            "priority",
            "channel",
            "customer",
            "legal_basis",
            "assignee",
            "assignee_username",
            "due_at",
            "overdue",
            "escalated_at",
            "flagged_for_compliance",
            "related_attempts",
            "resolved_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "assignee",
            "due_at",
            "escalated_at",
            "flagged_for_compliance",
            "related_attempts",
            "resolved_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "related_attempts": {"help_text": "Complaints: the calls of the last 30 days it is about."},
        }

    def get_overdue(self, ticket: Ticket) -> bool:
        return ticket.is_open and ticket.due_at < timezone.now()

    def validate(self, attrs):
        if attrs.get("type") in Ticket.DATA_REQUESTS and not attrs.get("legal_basis"):
            raise serializers.ValidationError(
                {
                    "legal_basis": [
                        "A data request needs its legal basis (gdpr or ccpa): it sets the deadline."
                    ]
                }
            )
        return attrs

    def create(self, validated_data):
        return services.ticket_create(by=self.context["request"].user, **validated_data)


class TicketStatusChangeSerializer(StrictTypes, serializers.Serializer):
    """PATCH: the status, and why. A ticket never goes back to new."""

    status = serializers.ChoiceField(
        choices=[choice for choice in Ticket.Status.choices if choice[0] != Ticket.Status.NEW]
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default="", help_text="Shown on the timeline."
    )

    def validate(self, attrs):
        refused = sorted(set(self.initial_data) - set(self.fields))
        if refused:
            message = "Only status (and a note) change here; assign with POST /api/v1/tickets/{id}/assign/."
            raise serializers.ValidationError({name: [message] for name in refused})
        return attrs


class AssignSerializer(StrictTypes, serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=ticket_assignees(),
        allow_null=True,
        help_text="A user id (staff with a role), or null to unassign.",
    )


class CommentSerializer(StrictTypes, serializers.ModelSerializer):
    public = serializers.BooleanField(
        default=False, help_text="True: a reply to the customer; false: an internal note."
    )

    class Meta:
        model = Comment
        fields = ["id", "ticket", "author", "body", "public", "created_at"]
        read_only_fields = ["id", "ticket", "author", "created_at"]

    def create(self, validated_data):
        return services.ticket_comment(
            ticket=self.context["ticket"],
            body=validated_data["body"],
            public=validated_data["public"],
            by=self.context["request"].user,
        )


class TicketFilterSerializer(StrictTypes, serializers.Serializer):
    """The list's query parameters, validated so a bad one is a 400 naming it."""

    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    type = serializers.ChoiceField(choices=Ticket.Type.choices, required=False)
    queue = serializers.IntegerField(required=False, min_value=1)
    assignee = serializers.CharField(required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    customer = serializers.IntegerField(required=False, min_value=1)

    def validate_assignee(self, value: str):
        if value in ("me", "none"):
            return value
        if value.isdigit():
            return int(value)
        raise serializers.ValidationError('A user id, "me" or "none".')


def ticket_filter(queryset, *, filters: dict, user):
    if "status" in filters:
        queryset = queryset.filter(status=filters["status"])
    if "type" in filters:
        queryset = queryset.filter(type=filters["type"])
    if "queue" in filters:
        queryset = queryset.filter(queue_id=filters["queue"])
    if "customer" in filters:
        queryset = queryset.filter(customer_id=filters["customer"])
    assignee = filters.get("assignee")
    if assignee == "me":
        queryset = queryset.filter(assignee=user)
    elif assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee is not None:
        queryset = queryset.filter(assignee_id=assignee)
    overdue = Q(status__in=Ticket.OPEN_STATUSES, due_at__lt=timezone.now())
    if filters.get("overdue") is True:
        queryset = queryset.filter(overdue)
    elif filters.get("overdue") is False:
        queryset = queryset.exclude(overdue)
    return queryset


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=Ticket.Status.values),
            OpenApiParameter("type", OpenApiTypes.STR, enum=Ticket.Type.values),
            OpenApiParameter("queue", OpenApiTypes.INT, description="A queue id."),
            OpenApiParameter("assignee", OpenApiTypes.STR, description='A user id, "me" or "none".'),
            OpenApiParameter(
                "overdue", OpenApiTypes.BOOL, description="true: open tickets past their due time."
            ),
            OpenApiParameter("customer", OpenApiTypes.INT, description="A customer id."),
        ]
    ),
)
class TicketViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Help-desk tickets: every role lists, opens and works them. Tickets are
    never deleted through the API (the retention purge removes old closed ones)."""

    serializer_class = TicketSerializer
    permission_classes = [HasAnyRole]

    def get_queryset(self):
        queryset = Ticket.objects.select_related("queue", "assignee").prefetch_related("related_attempts")
        if self.action != "list":
            return queryset
        filters = TicketFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return ticket_filter(queryset, filters=filters.validated_data, user=self.request.user)

    def _answer(self, ticket: Ticket) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data)

    @extend_schema(request=TicketStatusChangeSerializer, responses={200: TicketSerializer})
    def partial_update(self, request, pk=None):
        """Change the status (open, pending, resolved, closed), with an optional note for the timeline."""
        ticket = self.get_object()
        serializer = TicketStatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_status_set(ticket=ticket, by=request.user, **serializer.validated_data)
        return self._answer(ticket)

    @extend_schema(request=AssignSerializer, responses={200: TicketSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign the ticket to a member of staff, or unassign it (null)."""
        ticket = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = services.ticket_assign(
            ticket=ticket, assignee=serializer.validated_data["assignee"], by=request.user
        )
        return self._answer(ticket)


class CommentPagination(KeysetPagination):
    ordering = "id"  # a conversation reads oldest first


class TicketCommentsView(generics.ListCreateAPIView):
    """A ticket's replies (public: true, to the customer) and internal notes
    (public: false), oldest first."""

    serializer_class = CommentSerializer
    permission_classes = [HasAnyRole]
    pagination_class = CommentPagination

    def ticket(self) -> Ticket:
        if not hasattr(self, "_ticket"):
            self._ticket = get_object_or_404(Ticket, pk=self.kwargs["ticket_id"])
        return self._ticket

    def get_queryset(self):
        return Comment.objects.filter(ticket=self.ticket())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "ticket_id" in self.kwargs:  # absent when the schema is generated
            context["ticket"] = self.ticket()
        return context
