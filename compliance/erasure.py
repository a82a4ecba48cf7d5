"""Erasure (GDPR art. 17, CCPA 1798.105): personal data removed or
anonymised everywhere it was, history included; the numbers survive only as
suppression hashes (with date, source and reason) so that they stay blocked.

What the law makes us keep survives without the person in it: consent
records keep their dates, purpose and source (not the IP, user agent or
recording reference), decisions keep their reasons (the chain covers the
number's hash, not the number)."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.models import DecisionRecord
from config.history import history_save
from consent.models import ConsentGrant, DncRequest, InboundMessage
from consent.services import suppression_add
from customers.models import Customer, PhoneNumber

ERASED_EVIDENCE = {"disclosure_text": "(erased)", "erased": True}
CUSTOMER_PERSONAL_FIELDS = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "state": "",
    "postal_code": "",
    "last_purchase_at": None,
    "last_inquiry_at": None,
}


@dataclass(frozen=True)
class Erasure:
    customer: Customer
    numbers_suppressed: int
    already_erased: bool = False


@transaction.atomic
def customer_erase(*, customer: Customer, by, source: str, reason: str) -> Erasure:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_erased:
        return Erasure(customer=customer, numbers_suppressed=0, already_erased=True)
    if customer.legal_hold:
        raise ValidationError(
            f"This customer is on legal hold ({customer.legal_hold_reason}); erasure is refused."
        )
    now = timezone.now()
    phones = list(PhoneNumber.objects.select_for_update().filter(customer=customer, number__isnull=False))
    numbers = [str(p.number) for p in phones]
    for e164 in numbers:
        suppression_add(e164=e164, source=source, reason=f"erasure: {reason}"[:200])

    grants = list(ConsentGrant.objects.select_for_update().filter(phone_number__customer=customer))
    for grant in grants:
        grant.evidence = ERASED_EVIDENCE
        if grant.revoked_at is None:
            grant.revoked_at, grant.revoked_via, grant.revoked_by = (
                now,
                "api" if source == "api" else "admin",
                None,
            )
        grant.revocation_note = "customer erased"
        history_save(grant, by=by, reason="erasure")
    ConsentGrant.history.filter(phone_number_id__in=[p.pk for p in phones]).update(evidence=ERASED_EVIDENCE)

    DncRequest.objects.filter(number__in=numbers).delete()
    DncRequest.history.filter(number__in=numbers).delete()  # after: deleting writes a history row
    InboundMessage.objects.filter(from_number__in=numbers).delete()
    DecisionRecord.objects.filter(phone_number__in=numbers).update(phone_number="(erased)")

    for phone in phones:
        phone.number = None
        history_save(phone, by=by, reason="erasure")
    PhoneNumber.history.filter(customer_id=customer.pk).update(number=None)

    for name, value in CUSTOMER_PERSONAL_FIELDS.items():
        setattr(customer, name, value)
    customer.first_name = "Erased"
    customer.last_name = f"#{customer.pk}"
    customer.erased_at = now
    history_save(customer, by=by, reason=f"erasure ({source})")
    Customer.history.filter(id=customer.pk).update(
        **{**CUSTOMER_PERSONAL_FIELDS, "first_name": "Erased", "last_name": f"#{customer.pk}"}
    )
    return Erasure(customer=customer, numbers_suppressed=len(numbers))
