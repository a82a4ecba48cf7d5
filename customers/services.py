"""Writes of customers and their numbers, each with history (who and why)."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.access import user_may_set_legal_hold
from core.history import history_note, history_save
from core.phones import phone_normalize
from customers.models import Customer, PhoneNumber

CUSTOMER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "state",
    "postal_code",
    "last_purchase_at",
    "last_inquiry_at",
)  # not the legal hold: only customer_legal_hold_set changes it


@dataclass(frozen=True)
class NumberInput:
    number: str
    kind: str = PhoneNumber.Kind.UNKNOWN


def _normalized_numbers(numbers: Sequence[NumberInput], *, owner: Customer | None) -> list[NumberInput]:
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    normalized = []
    for index, item in enumerate(numbers):
        try:
            e164 = phone_normalize(item.number)
        except ValidationError as exc:
            errors.setdefault("phone_numbers", []).append(f"#{index + 1}: {' '.join(exc.messages)}")
            continue
        if item.kind not in PhoneNumber.Kind.values:
            errors.setdefault("phone_numbers", []).append(f"#{index + 1}: unknown kind '{item.kind}'.")
            continue
        if e164 in seen:
            errors.setdefault("phone_numbers", []).append(f"#{index + 1}: {e164} is listed twice.")
            continue
        seen.add(e164)
        normalized.append(NumberInput(e164, item.kind))
    taken = PhoneNumber.objects.filter(number__in=seen)
    if owner is not None:
        taken = taken.exclude(customer=owner)
    for e164 in taken.values_list("number", flat=True):
        errors.setdefault("phone_numbers", []).append(f"{e164} already belongs to another customer.")
    if errors:
        raise ValidationError(errors)
    return normalized


@transaction.atomic
def customer_create(*, fields: dict, phone_numbers: Sequence[NumberInput], by, reason: str) -> Customer:
    customer = Customer(**{k: v for k, v in fields.items() if k in CUSTOMER_FIELDS})
    customer.full_clean()
    numbers = _normalized_numbers(phone_numbers, owner=None)
    history_save(customer, by=by, reason=reason)
    for item in numbers:
        history_save(PhoneNumber(customer=customer, number=item.number, kind=item.kind), by=by, reason=reason)
    return customer


@transaction.atomic
def customer_update(
    *, customer: Customer, fields: dict, phone_numbers: Sequence[NumberInput] | None, by, reason: str
) -> Customer:
    """Change a customer's fields; when `phone_numbers` is given, the
    customer's numbers become exactly those (a number with consent records
    cannot be dropped: its record must survive)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_erased:
        raise ValidationError("This customer was erased; their record cannot change.")
    for name, value in fields.items():
        if name in CUSTOMER_FIELDS:
            setattr(customer, name, value)
    customer.full_clean()
    history_save(customer, by=by, reason=reason)
    if phone_numbers is not None:
        _numbers_replace(customer, _normalized_numbers(phone_numbers, owner=customer), by=by, reason=reason)
    return customer


def _numbers_replace(customer: Customer, numbers: list[NumberInput], *, by, reason: str) -> None:
    wanted = {item.number: item.kind for item in numbers}
    current = {str(p.number): p for p in customer.phone_numbers.select_for_update()}
    for e164, phone in current.items():
        if e164 not in wanted:
            if phone.consents.exists():
                raise ValidationError(
                    {"phone_numbers": [f"{e164} has consent records and cannot be removed; erase instead."]}
                )
            history_note(phone, by=by, reason=reason)
            try:
                phone.delete()
            except ProtectedError as exc:
                raise ValidationError(
                    {"phone_numbers": [f"{e164} has calls or campaign targets and cannot be removed."]}
                ) from exc
        elif phone.kind != wanted[e164]:
            phone.kind = wanted[e164]
            history_save(phone, by=by, reason=reason)
    for e164, kind in wanted.items():
        if e164 not in current:
            history_save(PhoneNumber(customer=customer, number=e164, kind=kind), by=by, reason=reason)


@transaction.atomic
def customer_delete(*, customer: Customer, by, reason: str) -> None:
    """Delete a customer entered by mistake. One with consent records, or on
    legal hold, must be erased instead (records the law makes us keep)."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.legal_hold:
        raise ValidationError("This customer is on legal hold and cannot be deleted.")
    if PhoneNumber.objects.filter(customer=customer, consents__isnull=False).exists():
        raise ValidationError("This customer has consent records; use erasure instead of deletion.")
    try:
        with transaction.atomic():
            for phone in customer.phone_numbers.all():
                history_note(phone, by=by, reason=reason)
                phone.delete()
            history_note(customer, by=by, reason=reason)
            customer.delete()
    except ProtectedError as exc:
        raise ValidationError(
            "Calls or tickets refer to this customer; use erasure instead of deletion."
        ) from exc


@transaction.atomic
def customer_legal_hold_set(*, customer: Customer, on: bool, reason: str, by) -> Customer:
    """Set (`on`) or lift a legal hold. A hold stops erasure and every
    retention purge, so only compliance officers (and superusers) change it,
    always with a reason; the history keeps who, when and why of each change."""
    if not user_may_set_legal_hold(by):
        raise PermissionDenied("Only compliance officers set or lift legal holds.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give the reason for setting or lifting the hold."]})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.is_erased:
        raise ValidationError("This customer was erased; there is nothing left to hold.")
    customer.legal_hold, customer.legal_hold_reason = on, reason
    return history_save(
        customer,
        by=by,
        reason="legal hold set" if on else "legal hold lifted",
        update_fields=["legal_hold", "legal_hold_reason", "updated_at"],
    )


@transaction.atomic
def phone_number_mark_reassigned(*, phone: PhoneNumber, by, reason: str) -> PhoneNumber:
    """Record that `phone` now belongs to someone else (an RND "yes", the
    person who answered said so): every consent and business relationship
    from before now is void for it. The number's row is locked as the
    dialer's hand-off locks it, so no later hand-off relies on a voided
    consent. The history keeps who, when and why; a number already marked
    keeps its first date."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the number is reassigned (kept in its history)."]})
    phone = PhoneNumber.objects.select_for_update().get(pk=phone.pk)
    if phone.number is None:
        raise ValidationError("This number was erased.")
    if phone.reassigned_at is not None:
        raise ValidationError(f"Already marked reassigned on {phone.reassigned_at:%Y-%m-%d}.")
    phone.reassigned_at = timezone.now()
    return history_save(
        phone, by=by, reason=f"marked reassigned: {reason}"[:100], update_fields=["reassigned_at"]
    )
