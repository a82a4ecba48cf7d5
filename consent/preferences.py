"""The customer's preference page: a signed, expiring link per customer."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from customers.models import Customer

_SALT = "consentdesk.preferences"


class PreferenceLinkInvalid(Exception):
    """The link was tampered with, has expired, or its customer is gone."""


def preference_token(*, customer: Customer) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(str(customer.pk))


def preference_url(*, customer: Customer) -> str:
    return reverse("preferences", args=[preference_token(customer=customer)])


def preference_customer(*, token: str) -> Customer:
    max_age = settings.PREFERENCE_LINK_MAX_AGE_DAYS * 86400
    try:
        customer_id = signing.TimestampSigner(salt=_SALT).unsign(token, max_age=max_age)
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature
        raise PreferenceLinkInvalid(str(exc)) from exc
    customer = Customer.objects.prefetch_related("phone_numbers__consents").filter(pk=customer_id).first()
    if customer is None or customer.is_erased:
        raise PreferenceLinkInvalid("no such customer")
    return customer
