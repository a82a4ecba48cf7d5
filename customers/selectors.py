"""Reads of customers and their numbers."""

from django.db.models import Prefetch, QuerySet

from customers.models import Customer, PhoneNumber


def customer_list(*, phone_e164: str | None = None) -> QuerySet[Customer]:
    customers = Customer.objects.prefetch_related(
        Prefetch("phone_numbers", queryset=PhoneNumber.objects.order_by("id"))
    )
    if phone_e164:
        customers = customers.filter(phone_numbers__number=phone_e164)
    return customers


def phone_number_get(*, e164: str) -> PhoneNumber | None:
    return PhoneNumber.objects.select_related("customer").filter(number=e164).first()
