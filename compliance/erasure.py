"""Erasure (GDPR art. 17, CCPA 1798.105): personal data removed or
anonymised everywhere it was, history included; the numbers survive only as
suppression hashes (with date, source and reason) so that they stay blocked.

What the law makes us keep survives without the person in it: consent
records keep their dates, purpose and source (not the IP, user agent or
recording reference), decisions keep their reasons (the chain covers the
number's hash, not the number; so does the RND query ledger's).

This is the one entry point: the erase API (`via="api"`), the help desk's
erasure request (`"ticket"`), the retention purge's anonymise step
(`"retention"`, through core.erasure's registered eraser) all come here. After
the core fields, every app's registered erasure hook (core.erasure) runs in
the same transaction: tickets and comments, call notes, access-log targets,
cached files. How the erasure came is recorded in the history reasons, the
suppression entry's source and the consents' `revoked_via`."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.decision_log import decision_log_erase
from compliance.rnd.chain import rnd_ledger_erase
from consent.models import ConsentGrant, DncRequest, InboundMessage
from consent.services import number_hash, suppression_add
from core.erasure import ERASURE_VIAS, TEXT_MARK, ErasureContext, erasure_hooks_run
from core.history import history_save
from customers.models import Customer, PhoneNumber

ERASED_EVIDENCE = {"disclosure_text": TEXT_MARK, "erased": True}
CUSTOMER_PERSONAL_FIELDS = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "state": "",
    "postal_code": "",
    "last_purchase_at": None,
    "last_inquiry_at": None,
}


# The contract's `revoked_via` (api | agent | ticket | sms | web | admin) for
# each way an erasure comes; the real `via` is in the history reasons.
REVOKED_VIA = {"api": "api", "ticket": "ticket", "retention": "admin", "admin": "admin", "command": "admin"}


@dataclass(frozen=True)
class Erasure:
    customer: Customer
    numbers_suppressed: int
    already_erased: bool = False


@transaction.atomic
def customer_erase(*, customer: Customer, by, via: str, reason: str) -> Erasure:
    """Erase `customer`; `via` is how the request came (core.erasure.ERASURE_VIAS)."""
    if via not in ERASURE_VIAS:
        raise ValueError(f"unknown erasure via {via!r}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_erased:
        return Erasure(customer=customer, numbers_suppressed=0, already_erased=True)
    if customer.legal_hold:
        raise ValidationError(
            f"This customer is on legal hold ({customer.legal_hold_reason}); erasure is refused."
        )
    now = timezone.now()
    history_reason = f"erasure ({via})"
    phones = list(PhoneNumber.objects.select_for_update().filter(customer=customer, number__isnull=False))
    numbers = [str(p.number) for p in phones]
    emails = {customer.email, *Customer.history.filter(id=customer.pk).values_list("email", flat=True)}
    context = ErasureContext(
        customer_id=customer.pk,
        numbers=tuple(numbers),
        first_name=customer.first_name,
        last_name=customer.last_name,
        emails=tuple(sorted(e for e in emails if e)),
        by=by,
        via=via,
        at=now,
        keyed_hash=number_hash,
    )
    for e164 in numbers:
        suppression_add(e164=e164, source=via, reason=f"erasure: {reason}"[:200])

    grants = list(ConsentGrant.objects.select_for_update().filter(phone_number__customer=customer))
    for grant in grants:
        grant.evidence = ERASED_EVIDENCE
        if grant.revoked_at is None:
            grant.revoked_at, grant.revoked_via, grant.revoked_by = (
                now,
                REVOKED_VIA[via],
                None,
            )
        grant.revocation_note = "customer erased"
        history_save(grant, by=by, reason=history_reason)
    ConsentGrant.history.filter(phone_number_id__in=[p.pk for p in phones]).update(evidence=ERASED_EVIDENCE)

    DncRequest.objects.filter(number__in=numbers).delete()
    DncRequest.history.filter(number__in=numbers).delete()  # after: deleting writes a history row
    InboundMessage.objects.filter(from_number__in=numbers).delete()
    decision_log_erase(numbers)  # the owner's door: the app's role cannot update the log
    rnd_ledger_erase(numbers)  # the same for the RND query ledger (migration 0011)

    for phone in phones:
        phone.number = None
        history_save(phone, by=by, reason=history_reason)
    PhoneNumber.history.filter(customer_id=customer.pk).update(number=None)

    for name, value in CUSTOMER_PERSONAL_FIELDS.items():
        setattr(customer, name, value)
    customer.first_name = "Erased"
    customer.last_name = f"#{customer.pk}"
    customer.erased_at = now
    history_save(customer, by=by, reason=history_reason)
    Customer.history.filter(id=customer.pk).update(
        **{**CUSTOMER_PERSONAL_FIELDS, "first_name": "Erased", "last_name": f"#{customer.pk}"}
    )
    erasure_hooks_run(context)
    return Erasure(customer=customer, numbers_suppressed=len(numbers))
