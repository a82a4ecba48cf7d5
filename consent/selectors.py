"""Reads of consent, DNC requests and suppression."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from consent.models import ConsentGrant, DncRequest, SuppressionEntry
from consent.services import number_hash


def consent_list(*, phone_e164: str | None = None) -> QuerySet[ConsentGrant]:
    grants = ConsentGrant.objects.select_related("phone_number", "recorded_by", "revoked_by")
    if phone_e164:
        grants = grants.filter(phone_number__number=phone_e164)
    return grants


def dnc_request_list(*, phone_e164: str | None = None) -> QuerySet[DncRequest]:
    requests = DncRequest.objects.select_related("recorded_by")
    if phone_e164:
        requests = requests.filter(number=phone_e164)
    return requests


def number_is_suppressed(*, e164: str) -> bool:
    return SuppressionEntry.objects.filter(number_hash=number_hash(e164)).exists()


@dataclass(frozen=True)
class ExpiryOverview:
    expiring_soon: int  # live consents that expire within `ahead`
    expired_recently: int  # live consents that expired within the last `ahead`
    unrecorded: int  # expired, not yet written into the record by the task
    ahead: timedelta


def consent_expiry_overview(*, now: datetime, ahead: timedelta = timedelta(days=30)) -> ExpiryOverview:
    """One aggregate query over live (unrevoked) consents with an expiry."""
    counts = ConsentGrant.objects.filter(revoked_at__isnull=True, expires_at__isnull=False).aggregate(
        soon=Count("id", filter=Q(expires_at__gt=now, expires_at__lte=now + ahead)),
        recent=Count("id", filter=Q(expires_at__lte=now, expires_at__gt=now - ahead)),
        unrecorded=Count("id", filter=Q(expires_at__lte=now, expiry_recorded_at__isnull=True)),
    )
    return ExpiryOverview(
        expiring_soon=counts["soon"],
        expired_recently=counts["recent"],
        unrecorded=counts["unrecorded"],
        ahead=ahead,
    )
