"""Writes of campaigns, each with history (who and why)."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from campaigns.models import Campaign, CampaignTarget
from consent.models import ConsentGrant
from core.history import history_bulk_create, history_save, history_user
from customers.models import PhoneNumber

CAMPAIGN_FIELDS = (
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
    "script",
    "disclosure",
)


@transaction.atomic
def campaign_create(*, fields: dict, by, reason: str) -> Campaign:
    campaign = Campaign(**{k: v for k, v in fields.items() if k in CAMPAIGN_FIELDS})
    campaign.created_by = history_user(by)
    campaign.full_clean()
    return history_save(campaign, by=by, reason=reason)


@transaction.atomic
def campaign_update(*, campaign: Campaign, fields: dict, by, reason: str) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    for name, value in fields.items():
        if name in CAMPAIGN_FIELDS:
            setattr(campaign, name, value)
    campaign.full_clean()
    return history_save(campaign, by=by, reason=reason)


@dataclass(frozen=True)
class TargetsAdded:
    added: int
    already_targeted: list[str]
    unknown: list[str]


@transaction.atomic
def targets_add(*, campaign: Campaign, numbers: list[str], by, priority: int = 0) -> TargetsAdded:
    """Queue numbers (E.164) of known customers. A number no customer has is
    reported, not added: there is nobody's consent or time zone to check."""
    phones = {
        str(p.number): p
        for p in PhoneNumber.objects.filter(number__in=numbers, customer__erased_at__isnull=True)
    }
    existing = set(
        CampaignTarget.objects.filter(campaign=campaign, phone_number__in=phones.values()).values_list(
            "phone_number__number", flat=True
        )
    )
    now = timezone.now()
    new = [
        CampaignTarget(campaign=campaign, phone_number=phone, priority=priority, next_attempt_at=now)
        for e164, phone in phones.items()
        if e164 not in existing
    ]
    history_bulk_create(CampaignTarget, new, by=by, reason="targets added")
    return TargetsAdded(
        added=len(new),
        already_targeted=sorted(str(n) for n in existing),
        unknown=sorted(set(numbers) - set(phones)),
    )


@transaction.atomic
def campaign_pause(*, campaign: Campaign, why: str, by, reason: str) -> Campaign:
    """Pause an active campaign and say why (shown to managers). The
    campaign row is locked first, so concurrent pauses write one history row;
    a campaign no longer active is left as it is."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.ACTIVE:
        return campaign
    campaign.status = Campaign.Status.PAUSED
    campaign.paused_reason = why
    return history_save(campaign, by=by, reason=reason)


def segment_numbers(
    *,
    states: list[str],
    consent_purpose: str | None,
    consent_written: bool,
    purchased_since: date | None,
    at: datetime,
) -> list[str]:
    """The numbers (E.164) of the customers of a segment, every criterion
    given applying: address in one of `states`; an active voice consent
    (granted, not revoked, not expired at `at`) of `consent_purpose`, written
    if `consent_written`; a last purchase on or after `purchased_since`.
    Erased customers are never in a segment. (Customers have no tags.)"""
    phones = PhoneNumber.objects.filter(customer__erased_at__isnull=True, number__isnull=False)
    if states:
        phones = phones.filter(customer__state__in=states)
    if consent_purpose:
        active = ConsentGrant.objects.filter(
            phone_number=OuterRef("pk"),
            purpose=consent_purpose,
            channel="voice",
            granted_at__lte=at,
            revoked_at__isnull=True,
        ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        if consent_written:
            active = active.filter(written=True)
        phones = phones.filter(Exists(active))
    if purchased_since:
        since = datetime.combine(purchased_since, time(0), tzinfo=timezone.get_current_timezone())
        phones = phones.filter(customer__last_purchase_at__gte=since)
    return [str(number) for number in phones.order_by("pk").values_list("number", flat=True)]
