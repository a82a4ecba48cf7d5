"""Reads of consent, DNC requests and suppression."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from consent.models import ConsentGrant, DncRequest, InboundMessage, SuppressionEntry
from consent.services import suppression_hashes, suppression_keys
from customers.models import PhoneNumber


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
    return SuppressionEntry.objects.filter(number_hash__in=suppression_hashes(e164)).exists()


@dataclass(frozen=True)
class SuppressionKeyUsage:
    key_id: str  # "" for entries made before key ids were stored
    entries: int
    role: str  # "current", "old" (in CONSENTDESK_SUPPRESSION_KEYS_OLD), "unknown", "missing"


def suppression_key_usage() -> list[SuppressionKeyUsage]:
    """Suppression entries per key id, with each configured key listed even
    when it has none. "missing": entries made with a key no longer configured
    (their numbers are no longer suppressed until it is put back)."""
    configured = [key_id for key_id, _key in suppression_keys()]
    counts = dict(
        SuppressionEntry.objects.order_by()
        .values_list("key_id")
        .annotate(n=Count("id"))
        .values_list("key_id", "n")
    )
    usage = []
    for position, key_id in enumerate(configured):
        usage.append(
            SuppressionKeyUsage(
                key_id=key_id, entries=counts.pop(key_id, 0), role="old" if position else "current"
            )
        )
    for key_id, entries in sorted(counts.items()):
        usage.append(
            SuppressionKeyUsage(key_id=key_id, entries=entries, role="missing" if key_id else "unknown")
        )
    return usage


def suppression_rehash_candidates():
    """Every clear number the database still holds (customers' numbers, DNC
    requests, inbound texts): the only inputs a suppression hash can be
    re-keyed from. Erasure removes an erased person's number from all of
    them, so usually few of an erased person's entries can be re-keyed."""
    yield from PhoneNumber.objects.filter(number__isnull=False).values_list("number", flat=True).iterator()
    yield from DncRequest.objects.order_by().values_list("number", flat=True).distinct().iterator()
    yield from InboundMessage.objects.order_by().values_list("from_number", flat=True).distinct().iterator()


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
