from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import HasAnyRole, HasRole
from accounts.roles import AGENTS, MANAGERS, has_role
from campaigns import dialer, services
from campaigns.models import CallAttempt, Campaign
from campaigns.selectors import campaign_context_row
from compliance.facts import ContextMissing
from compliance.jurisdictions import number_is_possible
from compliance.models import DecisionRecord
from compliance.services import decision_make
from core.api import (
    AwareDateTimeField,
    E164Field,
    HourMinuteField,
    PhoneNumberInputField,
    StrictTypes,
)


class CampaignSerializer(StrictTypes, serializers.ModelSerializer):
    caller_id = PhoneNumberInputField(help_text="E.164; must accept do-not-call requests.")
    window_start = HourMinuteField(required=False, allow_null=True)
    window_end = HourMinuteField(required=False, allow_null=True)
    starts_at = AwareDateTimeField(required=False, allow_null=True)
    ends_at = AwareDateTimeField(required=False, allow_null=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "purpose",
            "dialing_mode",
            "subject",
            "caller_id",
            "status",
            "window_start",
            "window_end",
            "max_attempts_per_day",
            "litigator_policy",
            "starts_at",
            "ends_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Optional: stored when the campaign is created (block for marketing, flag for informational).
        extra_kwargs = {"litigator_policy": {"required": False, "allow_blank": False}}

    def validate(self, attrs):
        merged = {
            **({f: getattr(self.instance, f) for f in services.CAMPAIGN_FIELDS} if self.instance else {}),
            **attrs,
        }
        if (merged.get("window_start") is None) != (merged.get("window_end") is None):
            raise serializers.ValidationError({"window_end": ["Give both ends of the window, or neither."]})
        if merged.get("window_start") and merged["window_start"] >= merged["window_end"]:
            raise serializers.ValidationError({"window_end": ["The window must end after it starts."]})
        if merged.get("starts_at") and merged.get("ends_at") and merged["starts_at"] >= merged["ends_at"]:
            raise serializers.ValidationError({"ends_at": ["The campaign must end after it starts."]})
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["caller_id"] = str(instance.caller_id)
        return data

    def create(self, validated_data):
        return services.campaign_create(
            fields=validated_data, by=self.context["request"].user, reason="created through the API"
        )

    def update(self, instance, validated_data):
        return services.campaign_update(
            campaign=instance,
            fields=validated_data,
            by=self.context["request"].user,
            reason="changed through the API",
        )


class ManagersWrite(permissions.BasePermission):
    message = "Only managers create or change campaigns."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or has_role(request.user, MANAGERS)


class CampaignViewSet(viewsets.ModelViewSet):
    """Campaigns. Everyone with a role reads; managers create and change.
    Campaigns are never deleted (their calls must stay explainable)."""

    serializer_class = CampaignSerializer
    permission_classes = [HasAnyRole, ManagersWrite]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    queryset = Campaign.objects.all()


class CheckSerializer(StrictTypes, serializers.Serializer):
    phone_number = serializers.CharField(max_length=40)
    # The campaign's row is read by the decision's own statement (CheckView), not here.
    campaign = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The campaign's id.")
    at = AwareDateTimeField(required=False, help_text="The instant to decide for; default now.")

    def validate_phone_number(self, value):
        if not number_is_possible(value):
            raise serializers.ValidationError("Not a phone number: too short, too long or not digits.")
        return value


class CheckView(APIView):
    """Would a call to this number in this campaign at this instant be
    allowed? Every blocking reason is listed; the decision is logged. The
    campaign is read by the decision's facts query (compliance.facts.ContextRow),
    so the check costs three statements: the token with its user and roles,
    the facts, the log's row."""

    permission_classes = [HasAnyRole]

    @extend_schema(
        request=CheckSerializer,
        responses={
            200: inline_serializer(
                "CheckResult",
                {
                    "allowed": serializers.BooleanField(),
                    "reasons": serializers.ListField(child=serializers.CharField()),
                    "evidence": serializers.DictField(),
                    "decision": serializers.IntegerField(),
                    "explanation": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request):
        serializer = CheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            decided = decision_make(
                number=data["phone_number"],
                context=campaign_context_row(campaign_id=data["campaign"]),
                at=data.get("at") or timezone.now(),
                kind=DecisionRecord.Kind.CHECK,
                actor=request.user,
            )
        except ContextMissing:
            raise serializers.ValidationError(
                {"campaign": [f'Invalid pk "{data["campaign"]}" - object does not exist.']}
            ) from None
        record = decided.record
        return Response(
            {
                "allowed": decided.decision.allowed,
                "reasons": list(decided.decision.reasons),
                "evidence": record.evidence,
                "decision": record.pk,
                "explanation": request.build_absolute_uri(reverse("decision-explain", args=[record.pk])),
            }
        )


class TargetsAddSerializer(StrictTypes, serializers.Serializer):
    phone_numbers = serializers.ListField(child=PhoneNumberInputField(), allow_empty=False, max_length=10_000)
    priority = serializers.IntegerField(required=False, default=0, min_value=-100, max_value=100)


class TargetsView(APIView):
    """Queue numbers in a campaign. Numbers no customer has are reported in
    `unknown`, numbers already queued in `already_targeted`."""

    permission_classes = [HasRole(MANAGERS)]

    @extend_schema(
        request=TargetsAddSerializer,
        responses={
            201: inline_serializer(
                "TargetsAdded",
                {
                    "added": serializers.IntegerField(),
                    "already_targeted": serializers.ListField(child=E164Field()),
                    "unknown": serializers.ListField(child=E164Field()),
                },
            )
        },
    )
    def post(self, request, pk: int):
        campaign = get_object_or_404(Campaign, pk=pk)
        serializer = TargetsAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.targets_add(
            campaign=campaign,
            numbers=serializer.validated_data["phone_numbers"],
            priority=serializer.validated_data["priority"],
            by=request.user,
        )
        return Response(
            {"added": result.added, "already_targeted": result.already_targeted, "unknown": result.unknown},
            status=status.HTTP_201_CREATED,
        )


class DialerNextSerializer(StrictTypes, serializers.Serializer):
    # The campaign's row is read with the agent's training by the hand-off (DialerNextView), not here.
    campaign = serializers.IntegerField(help_text="The campaign's id.")


class DialerNextView(APIView):
    """The next number this agent may call now, leased to them; 204 when none
    may be called now. Six statements when the first target claimed may be
    called (campaigns.dialer): the token with its user and roles, the
    campaign with the agent's training, the claim with the number's lock, the
    facts, the decision's row, the lease with its history and the attempt."""

    permission_classes = [HasRole(AGENTS)]

    @extend_schema(
        request=DialerNextSerializer,
        responses={
            200: inline_serializer(
                "HandOff",
                {
                    "attempt": serializers.IntegerField(),
                    "target": serializers.IntegerField(),
                    "phone_number": E164Field(),
                    "customer": serializers.DictField(),
                    "decision": serializers.DictField(),
                    "lease_until": serializers.DateTimeField(),
                },
            ),
            204: None,
            409: OpenApiResponse(
                description="The campaign cannot be dialled now (not active, or outside its dates)."
            ),
        },
    )
    def post(self, request):
        serializer = DialerNextSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            handoff = dialer.dialer_next(campaign=serializer.validated_data["campaign"], agent=request.user)
        except Campaign.DoesNotExist as exc:
            raise serializers.ValidationError({"campaign": [str(exc)]}) from None
        except dialer.TrainingRequired as exc:
            raise PermissionDenied(str(exc)) from exc
        except dialer.CampaignNotCallable as exc:
            return Response({"campaign": [str(exc)]}, status=status.HTTP_409_CONFLICT)
        if handoff is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(handoff_json(handoff, request))


def handoff_json(handoff: dialer.HandOff, request) -> dict:
    phone = handoff.attempt.phone_number
    customer = phone.customer
    return {
        "attempt": handoff.attempt.pk,
        "target": handoff.target.pk,
        "phone_number": str(phone.number),
        "customer": {
            "id": customer.pk,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "state": customer.state,
        },
        "decision": {
            "id": handoff.record.pk,
            "allowed": handoff.decision.allowed,
            "reasons": list(handoff.decision.reasons),
            "evidence": handoff.record.evidence,
            "explanation": request.build_absolute_uri(reverse("decision-explain", args=[handoff.record.pk])),
        },
        "lease_until": handoff.target.lease_until,
    }


class DispositionSerializer(StrictTypes, serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CallAttempt.Outcome.choices)
    callback_at = AwareDateTimeField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class DispositionView(APIView):
    """How the call went. `do_not_call` is an opt-out (via agent), effective
    at once. Only the agent the call was handed to records it (404 for others)."""

    permission_classes = [HasRole(AGENTS)]

    @extend_schema(
        request=DispositionSerializer,
        responses={
            200: inline_serializer(
                "Disposition", {"attempt": serializers.IntegerField(), "outcome": serializers.CharField()}
            )
        },
    )
    def post(self, request, pk: int):
        serializer = DispositionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            # The caller's own attempts only, read (locked) by the service: anyone
            # else's is a 404, as if it did not exist.
            attempt = dialer.attempt_dispose(attempt=pk, agent=request.user, **serializer.validated_data)
        except CallAttempt.DoesNotExist:
            raise Http404 from None
        except dialer.DispositionError as exc:
            return Response({"outcome": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"attempt": attempt.pk, "outcome": attempt.outcome})
