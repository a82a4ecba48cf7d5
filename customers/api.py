from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError

from accounts.access import HasAnyRole
from accounts.roles import MANAGERS, has_role
from config.api import AwareDateTimeField, PhoneNumberInputField
from customers import selectors, services
from customers.models import Customer, PhoneNumber
from customers.phones import phone_normalize


class PhoneNumberSerializer(serializers.ModelSerializer):
    number = PhoneNumberInputField(help_text="E.164 out; any common format in.")
    kind = serializers.ChoiceField(choices=PhoneNumber.Kind.choices, default=PhoneNumber.Kind.UNKNOWN)

    class Meta:
        model = PhoneNumber
        fields = ["id", "number", "kind"]
        read_only_fields = ["id"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["number"] = str(instance.number) if instance.number else None
        return data


class CustomerSerializer(serializers.ModelSerializer):
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
        read_only_fields = ["id", "erased_at", "created_at", "updated_at"]

    def validate(self, attrs):
        # Model-level checks (constraints, e.g. a legal hold needs a reason) as field errors.
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


class ManagersWrite(permissions.BasePermission):
    message = "Only managers change customers."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_role(request.user, MANAGERS)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "phone", OpenApiTypes.STR, description="Find by number, any format (e.g. +13055550123)."
            )
        ]
    )
)
class CustomerViewSet(viewsets.ModelViewSet):
    """Customers with their phone numbers. Anyone with a role reads; managers write."""

    serializer_class = CustomerSerializer
    permission_classes = [HasAnyRole, ManagersWrite]

    def get_queryset(self):
        phone = None
        if self.action == "list" and "phone" in self.request.query_params:
            try:
                phone = phone_normalize(self.request.query_params["phone"])
            except DjangoValidationError as exc:
                raise ValidationError({"phone": exc.messages}) from exc
        return selectors.customer_list(phone_e164=phone)

    def perform_destroy(self, instance):
        services.customer_delete(customer=instance, by=self.request.user, reason="deleted through the API")
