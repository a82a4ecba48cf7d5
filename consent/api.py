from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotAuthenticated, ParseError, PermissionDenied
from rest_framework.parsers import FormParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasAnyRole, HasRole
from accounts.audit import access_record, access_record_many
from accounts.authentication import TokenRolesAuthentication
from accounts.roles import COMPLIANCE_OFFICERS, MANAGERS
from consent import selectors, services
from consent.models import Channel, ConsentGrant, DncRequest, OptOutVia, Purpose
from consent.webhooks import sms_webhook_signature_valid, twilio_signature_valid
from core.api import AwareDateTimeField, E164Field, PhoneNumberInputField, StrictTypes
from customers.selectors import phone_number_get

ReadersOfEvidence = HasRole(COMPLIANCE_OFFICERS, MANAGERS)
EVIDENCE_VIEWED = "viewed consent evidence"  # as the admin's consent page logs it


class ConsentGrantSerializer(StrictTypes, serializers.ModelSerializer):
    phone_number = PhoneNumberInputField(
        help_text="E.164; the number must belong to a customer (null once it is erased).", erasable=True
    )
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    written = serializers.BooleanField(help_text="True for prior express written consent.")
    # The stubs take this for Field.source; DRF's metaclass moves declared fields off the class.
    source = serializers.ChoiceField(choices=ConsentGrant.Source.choices)  # type: ignore[assignment]
    evidence = serializers.JSONField(help_text="An object with at least disclosure_text.")
    granted_at = AwareDateTimeField()
    expires_at = AwareDateTimeField(required=False, allow_null=True)
    revoked_via = serializers.ChoiceField(
        choices=OptOutVia.choices, allow_blank=True, read_only=True, help_text="Empty until revoked."
    )

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

    # Each consent read (its evidence: disclosure, IP, recording) is logged,
    # a page in one insert; a refused or failed read logs nothing.
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        access_record_many(request, action=EVIDENCE_VIEWED, targets=[f"consent #{g.pk}" for g in page])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        grant = self.get_object()
        access_record(request, action=EVIDENCE_VIEWED, target=f"consent #{grant.pk}")
        return Response(self.get_serializer(grant).data)


class RevokeSerializer(StrictTypes, serializers.Serializer):
    phone_number = PhoneNumberInputField()
    via = serializers.ChoiceField(choices=OptOutVia.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class OptOutSerializer(serializers.Serializer):
    phone_number = E164Field()
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


class DncRequestSerializer(StrictTypes, serializers.ModelSerializer):
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


class InboundSmsSerializer(StrictTypes, serializers.Serializer):
    body = serializers.CharField(allow_blank=True, max_length=2000, trim_whitespace=False)
    to = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="The number texted (ours)."
    )


# "from" is a Python keyword, so the field is declared after the class.
InboundSmsSerializer._declared_fields["from"] = PhoneNumberInputField(help_text="The sender's number.")


class TwilioInboundSmsSerializer(StrictTypes, serializers.Serializer):
    """The fields of Twilio's incoming-message webhook that matter here; Twilio
    sends more (MessageSid, AccountSid, ...), which are signed and ignored."""

    From = PhoneNumberInputField(help_text="The sender's number.")
    Body = serializers.CharField(allow_blank=True, max_length=2000, trim_whitespace=False)
    To = serializers.CharField(required=False, allow_blank=True, max_length=40)


FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
TWIML_MEDIA_TYPE = "text/xml"
SIGNED = "X-ConsentDesk-Signature"
TWILIO_SIGNED = "X-Twilio-Signature"
INBOUND_PERMISSION = "consent.add_inboundmessage"


class InboundSmsSender(BasePermission):
    """Who may report an inbound text: a request signed with the webhook
    secret (JSON) or by Twilio (form-encoded), or the API token of a user
    holding `consent.add_inboundmessage` (superusers, or whoever is given it;
    no role has it). Sets `request.sms_sender` to how it was proved."""

    def has_permission(self, request, view) -> bool:
        signature, twilio = request.headers.get(SIGNED), request.headers.get(TWILIO_SIGNED)
        if signature is not None:
            if not settings.SMS_WEBHOOK_SECRET:
                raise PermissionDenied(
                    f"{SIGNED} is not accepted here: CONSENTDESK_SMS_WEBHOOK_SECRET is not set."
                )
            # The HMAC covers the raw bytes as they arrived, before any parsing.
            if not sms_webhook_signature_valid(
                body=request.body, header=signature, secret=settings.SMS_WEBHOOK_SECRET
            ):
                raise PermissionDenied(f"The {SIGNED} does not match the body.")
            request.sms_sender = "webhook signature"
            return True
        if twilio is not None:
            if not settings.TWILIO_AUTH_TOKEN:
                raise PermissionDenied(
                    f"{TWILIO_SIGNED} is not accepted here: CONSENTDESK_TWILIO_AUTH_TOKEN is not set."
                )
            if not request.content_type.startswith(FORM_MEDIA_TYPE):
                raise PermissionDenied(f"Twilio signs form-encoded requests ({FORM_MEDIA_TYPE}).")
            params = [(name, value) for name, values in request.data.lists() for value in values]
            url = request.build_absolute_uri()
            if not twilio_signature_valid(
                url=url, params=params, header=twilio, token=settings.TWILIO_AUTH_TOKEN
            ):
                raise PermissionDenied(f"The {TWILIO_SIGNED} does not match this URL and these parameters.")
            request.sms_sender = "twilio signature"
            return True
        user = request.user
        if not user or not user.is_authenticated:
            raise NotAuthenticated(
                f"Sign the request ({SIGNED} or {TWILIO_SIGNED}) or send the API token of a user "
                f"allowed to record inbound texts ({INBOUND_PERMISSION})."
            )
        if not user.is_active or not user.has_perm(INBOUND_PERMISSION):
            raise PermissionDenied(
                f"Recording inbound texts needs the {INBOUND_PERMISSION} permission (the SMS provider's "
                "signature, or a superuser's token); staff roles do not have it."
            )
        request.sms_sender = f"API token of {user.get_username()}"
        return True


def _twiml(reply: str | None) -> HttpResponse:
    """Twilio's answer: the confirmation text when there is one, else nothing to send."""
    message = f"<Message>{xml_escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{message}</Response>',
        content_type=f"{TWIML_MEDIA_TYPE}; charset=utf-8",
    )


InboundSmsResult = inline_serializer(
    "InboundSmsResult",
    {
        "action": serializers.ChoiceField(choices=["opted_out", "stored_for_review"]),
        "message": serializers.IntegerField(),
        "reply": serializers.CharField(allow_null=True),
    },
)


class InboundSmsView(APIView):
    """Inbound text webhook. A text with a stop word among its words (STOP,
    QUIT, END, REVOKE, OPT OUT, CANCEL or UNSUBSCRIBE; any case, any
    punctuation: "Stop calling me", "STOP ALL", "please unsubscribe!")
    opts the sender out at once (`via: sms`) and `reply` holds the one
    confirmation text allowed; any other text is kept for a human.

    Accepted from: JSON `{from, body, to?}` signed with
    `X-ConsentDesk-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed by
    CONSENTDESK_SMS_WEBHOOK_SECRET; Twilio's form-encoded `From`/`Body`/`To`
    signed with `X-Twilio-Signature` (CONSENTDESK_TWILIO_AUTH_TOKEN), answered
    with TwiML; or the API token of a user holding `consent.add_inboundmessage`
    (superusers). Anything else: 401 (no credentials) or 403, nothing recorded."""

    authentication_classes = [TokenRolesAuthentication]
    permission_classes = [InboundSmsSender]
    parser_classes = [*APIView.parser_classes, FormParser]  # the default (JSON) and Twilio's form

    @extend_schema(
        request={
            "application/json": InboundSmsSerializer,
            FORM_MEDIA_TYPE: TwilioInboundSmsSerializer,
        },
        parameters=[
            OpenApiParameter(
                SIGNED,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="sha256=<hex HMAC-SHA256 of the raw body bytes>, keyed by CONSENTDESK_SMS_WEBHOOK_SECRET.",
            ),
            OpenApiParameter(
                TWILIO_SIGNED,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Twilio's signature of the URL and the form parameters (CONSENTDESK_TWILIO_AUTH_TOKEN).",
            ),
        ],
        responses={
            (200, "application/json"): InboundSmsResult,
            (200, TWIML_MEDIA_TYPE): OpenApiResponse(
                response=OpenApiTypes.STR, description="TwiML, for Twilio's form-encoded requests."
            ),
        },
    )
    def post(self, request):
        twilio = request.content_type.startswith(FORM_MEDIA_TYPE)
        if request.sms_sender == "webhook signature" and twilio:
            raise ParseError(f"A request signed with {SIGNED} carries JSON.")
        if twilio:
            serializer = TwilioInboundSmsSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            sender, body, to = data["From"], data["Body"], data.get("To", "")
        else:
            serializer = InboundSmsSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            sender, body, to = data["from"], data["body"], data.get("to", "")
        result = services.sms_inbound_receive(
            from_number=sender,
            body=body,
            to_number=to,
            by=request.user if request.user.is_authenticated else None,
            authenticated_by=request.sms_sender,
        )
        if twilio:
            return _twiml(result.reply)
        return Response(
            {
                "action": "opted_out" if result.opt_out else "stored_for_review",
                "message": result.message.pk,
                "reply": result.reply,
            }
        )
