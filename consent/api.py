from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasAnyRole, HasRole
from accounts.roles import COMPLIANCE_OFFICERS, MANAGERS
from config.api import AwareDateTimeField, PhoneNumberInputField
from consent import selectors, services
from consent.models import Channel, ConsentGrant, DncRequest, OptOutVia, Purpose
from customers.selectors import phone_number_get

ReadersOfEvidence = HasRole(COMPLIANCE_OFFICERS, MANAGERS)


class ConsentGrantSerializer(serializers.ModelSerializer):
    phone_number = PhoneNumberInputField(help_text="E.164; the number must belong to a customer.")
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    written = serializers.BooleanField(help_text="True for prior express written consent.")
    source = serializers.ChoiceField(choices=ConsentGrant.Source.choices)
    evidence = serializers.JSONField(help_text="An object with at least disclosure_text.")
    granted_at = AwareDateTimeField()
    expires_at = AwareDateTimeField(required=False, allow_null=True)

    class Meta:
        model = ConsentGrant
        fields = [
            "id",
            "phone_number",
            "purpose",
            "channel",
            "written",
            "source",
            "evidence",
            "granted_at",
            "expires_at",
            "recorded_at",
            "revoked_at",
            "revoked_via",
            "revocation_note",
        ]
        read_only_fields = ["id", "recorded_at", "revoked_at", "revoked_via", "revocation_note"]

    def validate_phone_number(self, value):
        phone = phone_number_get(e164=value)
        if phone is None:
            raise serializers.ValidationError("No customer has this number; create the customer first.")
        return phone

    def validate_evidence(self, value):
        services.evidence_validate(value)
        return value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["phone_number"] = str(instance.phone_number.number) if instance.phone_number.number else None
        return data

    def create(self, validated_data):
        return services.consent_grant(
            phone=validated_data.pop("phone_number"),
            by=self.context["request"].user,
            reason="consent recorded through the API",
            **validated_data,
        )


class ConsentViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Consents with their evidence: compliance officers and managers read,
    managers record. Revoking is `POST /consents/revoke/`, open to every role."""

    serializer_class = ConsentGrantSerializer

    def get_permissions(self):
        if self.action == "create":
            return [HasRole(MANAGERS)()]
        return [ReadersOfEvidence()]

    def get_queryset(self):
        phone = self.request.query_params.get("phone")
        if phone:
            phone = PhoneNumberInputField().run_validation(phone)
        return selectors.consent_list(phone_e164=phone)


class RevokeSerializer(serializers.Serializer):
    phone_number = PhoneNumberInputField()
    via = serializers.ChoiceField(choices=OptOutVia.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class OptOutSerializer(serializers.Serializer):
    phone_number = serializers.CharField()
    revoked = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the consents revoked."
    )
    dnc_request = serializers.IntegerField(help_text="Id of the company DNC request filed.")


def _opt_out_response(opt_out: services.OptOut) -> dict:
    return {
        "phone_number": opt_out.number,
        "revoked": [grant.pk for grant in opt_out.revoked],
        "dnc_request": opt_out.dnc_request.pk,
    }


class ConsentRevokeView(APIView):
    """The opt-out: revokes every consent of the number and adds it to the
    company DNC list, effective the moment this answers."""

    permission_classes = [HasAnyRole]

    @extend_schema(request=RevokeSerializer, responses={200: OptOutSerializer})
    def post(self, request):
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        opt_out = services.consent_revoke(
            number=data["phone_number"], via=data["via"], by=request.user, note=data["note"]
        )
        return Response(_opt_out_response(opt_out), status=status.HTTP_200_OK)


class DncRequestSerializer(serializers.ModelSerializer):
    phone_number = PhoneNumberInputField(source="number")
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")

    class Meta:
        model = DncRequest
        fields = ["id", "phone_number", "source", "reason", "requested_at", "created_at"]
        read_only_fields = ["id", "source", "requested_at", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["phone_number"] = str(instance.number)
        return data

    def create(self, validated_data):
        opt_out = services.consent_revoke(
            number=validated_data["number"],
            via=OptOutVia.API,
            by=self.context["request"].user,
            note=validated_data.get("reason", ""),
        )
        return opt_out.dnc_request


class InternalDncViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The company-specific do-not-call list. Adding a number is an opt-out:
    its consents are revoked too. Entries are never edited or deleted."""

    serializer_class = DncRequestSerializer

    def get_permissions(self):
        if self.action == "create":
            return [HasAnyRole()]
        return [ReadersOfEvidence()]

    def get_queryset(self):
        phone = self.request.query_params.get("phone")
        if phone:
            phone = PhoneNumberInputField().run_validation(phone)
        return selectors.dnc_request_list(phone_e164=phone)


class InboundSmsSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, max_length=2000, trim_whitespace=False)


# "from" is a Python keyword, so the field is declared after the class.
InboundSmsSerializer._declared_fields["from"] = PhoneNumberInputField(help_text="The sender's number.")


class InboundSmsView(APIView):
    """Inbound text webhook. STOP, QUIT, END, REVOKE, OPT OUT, CANCEL or
    UNSUBSCRIBE (any case, surrounding spaces) opt the sender out at once
    (`via: sms`) and `reply` holds the one confirmation text allowed; any
    other text is kept for a human."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        request=InboundSmsSerializer,
        responses={
            200: inline_serializer(
                "InboundSmsResult",
                {
                    "action": serializers.ChoiceField(choices=["opted_out", "stored_for_review"]),
                    "message": serializers.IntegerField(),
                    "reply": serializers.CharField(allow_null=True),
                },
            )
        },
    )
    def post(self, request):
        serializer = InboundSmsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.sms_inbound_receive(
            from_number=serializer.validated_data["from"],
            body=serializer.validated_data["body"],
            by=request.user,
        )
        return Response(
            {
                "action": "opted_out" if result.opt_out else "stored_for_review",
                "message": result.message.pk,
                "reply": result.reply,
            }
        )
