from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.access import HasAnyRole, MaySetLegalHold
from accounts.roles import MANAGERS, has_role
from core.api import AwareDateTimeField, KeysetPagination, PhoneNumberInputField, StrictTypes
from core.phones import phone_normalize
from customers import selectors, services
from customers.access import user_sees_whole_customers
from customers.models import Customer, PhoneNumber


class PhoneNumberSerializer(StrictTypes, serializers.ModelSerializer):
    number = PhoneNumberInputField(
        help_text="E.164 out (null once the customer is erased); any common format in.", erasable=True
    )
    kind = serializers.ChoiceField(choices=PhoneNumber.Kind.choices, default=PhoneNumber.Kind.UNKNOWN)

    class Meta:
        model = PhoneNumber
        fields = ["id", "number", "kind"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        # A PATCH is partial for the customer, not for each number it lists.
        if "number" not in attrs:
            raise serializers.ValidationError({"number": ["This field is required."]})
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["number"] = str(instance.number) if instance.number else None
        return data


class CustomerSerializer(StrictTypes, serializers.ModelSerializer):
    phone_numbers = PhoneNumberSerializer(many=True, required=False)
    last_purchase_at = AwareDateTimeField(required=False, allow_null=True)
    last_inquiry_at = AwareDateTimeField(required=False, allow_null=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "state",
            "postal_code",
            "last_purchase_at",
            "last_inquiry_at",
            "legal_hold",
            "legal_hold_reason",
            "erased_at",
            "created_at",
            "updated_at",
            "phone_numbers",
        ]
        # The hold changes only through POST .../legal-hold/ (compliance officers).
        read_only_fields = ["id", "legal_hold", "legal_hold_reason", "erased_at", "created_at", "updated_at"]

    def validate(self, attrs):
        self._legal_hold_unchanged()
        # Model-level checks (constraints) as field errors.
        instance = Customer(**{k: v for k, v in attrs.items() if k != "phone_numbers"})
        if self.instance is not None:
            for name in services.CUSTOMER_FIELDS:
                if name not in attrs:
                    setattr(instance, name, getattr(self.instance, name))
        try:
            instance.full_clean(validate_unique=False)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return attrs

    def _legal_hold_unchanged(self) -> None:
        """A client that sends the hold back unchanged (GET, edit, PUT) is
        fine; one that tries to change it is told where holds are changed,
        rather than silently ignored."""
        errors = {}
        for name, field in (
            ("legal_hold", serializers.BooleanField()),
            ("legal_hold_reason", serializers.CharField(allow_blank=True, trim_whitespace=False)),
        ):
            if name not in self.initial_data:
                continue
            current = getattr(self.instance or Customer(), name)  # a new customer's default
            try:
                unchanged = field.run_validation(self.initial_data[name]) == current
            except ValidationError:
                unchanged = False
            if not unchanged:
                errors[name] = [
                    "Legal holds are set and lifted by compliance officers: "
                    "POST /api/v1/customers/{id}/legal-hold/ {legal_hold, reason}."
                ]
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _numbers(attrs):
        if "phone_numbers" not in attrs:
            return None
        return [
            services.NumberInput(p["number"], p.get("kind", PhoneNumber.Kind.UNKNOWN))
            for p in attrs["phone_numbers"]
        ]

    def create(self, validated_data):
        request = self.context["request"]
        return services.customer_create(
            fields=validated_data,
            phone_numbers=self._numbers(validated_data) or [],
            by=request.user,
            reason="created through the API",
        )

    def update(self, instance, validated_data):
        request = self.context["request"]
        return services.customer_update(
            customer=instance,
            fields=validated_data,
            phone_numbers=self._numbers(validated_data),
            by=request.user,
            reason="changed through the API",
        )


class AgentCustomerSerializer(serializers.ModelSerializer):
    """What an agent needs to know who they call: no email, no legal-hold
    reason, no purchase history."""

    phone_numbers = PhoneNumberSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = ["id", "first_name", "last_name", "state", "postal_code", "erased_at", "phone_numbers"]
        read_only_fields = fields


class LegalHoldSerializer(StrictTypes, serializers.Serializer):
    legal_hold = serializers.BooleanField(help_text="true sets the hold, false lifts it.")
    reason = serializers.CharField(
        max_length=2000, help_text="Why the hold is set or lifted (kept in history)."
    )


class ManagersWrite(permissions.BasePermission):
    message = "Only managers change customers."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_role(request.user, MANAGERS)


class AgentsSearchByNumber(permissions.BasePermission):
    message = "Agents find customers by number: GET /api/v1/customers/?phone=<number>."

    def has_permission(self, request, view) -> bool:
        return user_sees_whole_customers(request.user) or view.action == "list"


class AgentCustomerPagination(KeysetPagination):
    page_size = 20
    max_page_size = 20


@extend_schema_view(
    list=extend_schema(
        description=(
            "Managers and compliance officers list customers. Agents must give `phone` (400 without it) "
            "and get at most 20 results per page in a reduced shape (no email, no legal-hold reason)."
        ),
        parameters=[
            OpenApiParameter(
                "phone",
                OpenApiTypes.STR,
                description="Find by number, any format (e.g. +13055550123). Required for agents.",
            )
        ],
    )
)
class CustomerViewSet(viewsets.ModelViewSet):
    """Customers with their phone numbers. Managers and compliance officers
    read, managers write; agents search by number only; legal holds are set
    and lifted by compliance officers only (`legal-hold`)."""

    serializer_class = CustomerSerializer
    permission_classes = [HasAnyRole, AgentsSearchByNumber, ManagersWrite]

    def _full_view(self) -> bool:
        # The schema describes the full view; agents get the reduced one.
        return getattr(self, "swagger_fake_view", False) or user_sees_whole_customers(self.request.user)

    @property
    def paginator(self):
        if not hasattr(self, "_paginator"):
            self._paginator = KeysetPagination() if self._full_view() else AgentCustomerPagination()
        return self._paginator

    def get_serializer_class(self):
        if self.action == "legal_hold":
            return LegalHoldSerializer
        return CustomerSerializer if self._full_view() else AgentCustomerSerializer

    def get_queryset(self):
        phone = None
        if self.action == "list":
            if "phone" in self.request.query_params:
                try:
                    phone = phone_normalize(self.request.query_params["phone"])
                except DjangoValidationError as exc:
                    raise ValidationError({"phone": exc.messages}) from exc
            elif not user_sees_whole_customers(self.request.user):
                raise ValidationError({"phone": ["Agents find customers by number: give ?phone=<number>."]})
        return selectors.customer_list(phone_e164=phone)

    @extend_schema(request=LegalHoldSerializer, responses={200: CustomerSerializer})
    @action(detail=True, methods=["post"], url_path="legal-hold", permission_classes=[MaySetLegalHold])
    def legal_hold(self, request, pk=None):
        """Set (`legal_hold: true`) or lift (`false`) a legal hold, with the
        reason; compliance officers only. A hold stops erasure and purges."""
        customer = self.get_object()
        serializer = LegalHoldSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.customer_legal_hold_set(
            customer=customer,
            on=serializer.validated_data["legal_hold"],
            reason=serializer.validated_data["reason"],
            by=request.user,
        )
        return Response(CustomerSerializer(customer, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance):
        services.customer_delete(customer=instance, by=self.request.user, reason="deleted through the API")
