"""Demo customers with consents (written and oral, some revoked, some
expired) and company DNC requests, across states with different rules."""

import random
from datetime import timedelta

from django.utils import timezone

from consent.models import ConsentGrant, OptOutVia
from consent.services import consent_grant, consent_revoke
from customers.models import Customer, PhoneNumber
from customers.services import NumberInput, customer_create

DEMO_EMAIL_DOMAIN = "demo.example.com"

# (area code, state, ZIP): places whose rules differ (windows, Sundays, caps, zones).
PLACES = [
    ("212", "NY", "10001"),
    ("305", "FL", "33101"),
    ("312", "IL", "60601"),
    ("415", "CA", "94103"),
    ("512", "TX", "78701"),
    ("206", "WA", "98101"),
    ("801", "UT", "84101"),
    ("401", "RI", "02903"),
    ("860", "CT", "06103"),
    ("602", "AZ", "85004"),
    ("208", "ID", "83702"),
    ("405", "OK", "73102"),
    ("410", "MD", "21201"),
    ("215", "PA", "19103"),
]
FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Kim",
    "Luis",
    "Maya",
]
LAST = ["Alvarez", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan"]
DISCLOSURE_WRITTEN = (
    "By checking this box I agree that Northwind Retail may call and text me at the number above with "
    "marketing offers using an automatic telephone dialing system or prerecorded voice. Consent is not a "
    "condition of purchase. Reply STOP to opt out."
)
DISCLOSURE_ORAL = "Customer agreed on a recorded call to be called about orders and promotions."


def demo_customers_seed(*, by, count: int = 300) -> int:
    """Creates the demo customers once; returns how many exist."""
    existing = Customer.objects.filter(email__endswith="@" + DEMO_EMAIL_DOMAIN).count()
    if existing:
        return existing
    rng = random.Random(2026)
    now = timezone.now()
    for i in range(count):
        area, state, zip_code = PLACES[i % len(PLACES)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        number = f"+1{area}{rng.randint(720, 799)}{i:04d}"
        customer = customer_create(
            fields={
                "first_name": first,
                "last_name": last,
                "email": f"{first}.{last}.{i}@{DEMO_EMAIL_DOMAIN}".lower(),
                "state": state,
                "postal_code": zip_code,
                "last_purchase_at": now - timedelta(days=rng.randint(5, 700)) if rng.random() < 0.6 else None,
                "last_inquiry_at": now - timedelta(days=rng.randint(1, 150)) if rng.random() < 0.3 else None,
            },
            phone_numbers=[NumberInput(number, rng.choice(["mobile", "mobile", "landline", "voip"]))],
            by=by,
            reason="demo data",
        )
        phone = PhoneNumber.objects.get(customer=customer)
        _demo_consents(rng, phone, i, by=by, now=now)
    return count


def _demo_consents(rng: random.Random, phone: PhoneNumber, i: int, *, by, now) -> None:
    roll = i % 10
    if roll == 9:
        return  # no consent at all
    written = roll < 6
    granted_at = now - timedelta(days=rng.randint(10, 400))
    consent_grant(
        phone=phone,
        purpose="marketing" if roll != 7 else "informational",
        channel="voice",
        written=written,
        source=ConsentGrant.Source.WEB_FORM if written else ConsentGrant.Source.VERBAL,
        evidence={
            "disclosure_text": DISCLOSURE_WRITTEN if written else DISCLOSURE_ORAL,
            **({"ip": f"198.51.100.{i % 250}", "form_reference": f"checkout-{1000 + i}"} if written else {}),
            **({} if written else {"recording_reference": f"rec-{20260000 + i}"}),
        },
        granted_at=granted_at,
        expires_at=(now - timedelta(days=3)) if roll == 8 else None,
        by=by,
        reason="demo data",
    )
    if i % 23 == 5:
        consent_revoke(number=str(phone.number), via=OptOutVia.SMS, by=by, note="Replied STOP (demo)")
    elif i % 29 == 7:
        consent_revoke(
            number=str(phone.number), via=OptOutVia.AGENT, by=by, note="Asked not to be called (demo)"
        )
