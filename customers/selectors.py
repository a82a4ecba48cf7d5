"""Reads of customers and their numbers."""

import re

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet

from core.phones import phone_normalize
from customers.models import Customer, PhoneNumber

SEARCH_MIN_LETTERS = 2


def customer_list(*, phone_e164: str | None = None) -> QuerySet[Customer]:
    customers = Customer.objects.prefetch_related(
        Prefetch("phone_numbers", queryset=PhoneNumber.objects.order_by("id"))
    )
    if phone_e164:
        customers = customers.filter(phone_numbers__number=phone_e164)
    return customers


def customer_search(*, query: str) -> QuerySet[Customer]:
    """Customers (not erased) found by what a person tells an agent: their
    number in any format (an exact match), or their name, each word the start
    of the first or the last name ("gra hug", "Hughes"). Sorted by name,
    numbers prefetched; the caller takes a page.

    A query that could match nearly everyone is refused with a
    ValidationError saying what to type: fewer than two letters, or digits
    that are not a whole number. There is no list of everyone."""
    text = query.strip()
    if customer_search_by_number(text):
        try:
            e164 = phone_normalize(text)
        except ValidationError as exc:
            raise ValidationError("Type the whole phone number, with its area code.") from exc
        customers = customer_list().filter(phone_numbers__number=e164)
    else:
        words = text.replace(",", " ").split()
        if sum(len(word) for word in words) < SEARCH_MIN_LETTERS:
            raise ValidationError(f"Type at least {SEARCH_MIN_LETTERS} letters of a name, or a phone number.")
        customers = customer_list()
        for word in words:
            customers = customers.filter(Q(first_name__istartswith=word) | Q(last_name__istartswith=word))
    return customers.filter(erased_at__isnull=True).order_by("last_name", "first_name", "id")


def customer_search_by_number(query: str) -> bool:
    """A query with a digit is a phone number; anything else, a name."""
    return re.search(r"\d", query) is not None


def phone_number_get(*, e164: str) -> PhoneNumber | None:
    return PhoneNumber.objects.select_related("customer").filter(number=e164).first()
