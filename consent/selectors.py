"""Reads of consent, DNC requests and suppression."""

from django.db.models import QuerySet

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
