import pytest
from django.db import connection
from rest_framework.test import APIClient

from consent.models import ConsentGrant, DncRequest, SuppressionEntry
from consent.services import consent_revoke, number_hash, sms_inbound_receive
from customers.models import Customer
from tests.factories import ConsentGrantFactory, CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

NAME, EMAIL, NUMBER = "Zebulon", "zebulon.quirk@example.com", "+13055550177"


def _all_text_columns_containing(needle: str) -> list[str]:
    """Every (table.column) in the public schema whose text contains `needle`."""
    hits = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('character varying', 'text', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s', [f"%{needle}%"])
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


@pytest.fixture
def customer(manager):
    customer = CustomerFactory(
        first_name=NAME, last_name="Quirk", email=EMAIL, state="FL", postal_code="33101"
    )
    phone = PhoneNumberFactory(customer=customer, number=NUMBER)
    ConsentGrantFactory(phone_number=phone, evidence={"disclosure_text": "I agree", "ip": "203.0.113.77"})
    customer.first_name = NAME  # a second history row holding the name
    customer.save()
    consent_revoke(number=NUMBER, via="api", by=manager, note="stop")
    sms_inbound_receive(from_number=NUMBER, body="who is this?", by=manager)
    return customer


def test_erasure_leaves_the_number_only_as_a_suppression_hash(compliance_officer, customer):
    assert _all_text_columns_containing(NAME)  # the search finds what is there before
    api = APIClient()
    api.force_authenticate(compliance_officer)
    response = api.post(f"/api/v1/customers/{customer.pk}/erase/", {"reason": "GDPR request"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["numbers_suppressed"] == 1
    for needle in (NAME, EMAIL, NUMBER, NUMBER[2:], "203.0.113.77"):
        assert _all_text_columns_containing(needle) == [], needle
    entry = SuppressionEntry.objects.get()
    assert entry.number_hash == number_hash(NUMBER)
    assert entry.source == "api" and "GDPR request" in entry.reason
    assert Customer.objects.get(pk=customer.pk).is_erased
    assert ConsentGrant.objects.filter(phone_number__customer=customer).exists(), (
        "the consent record survives"
    )
    assert not DncRequest.objects.exists()


def test_erasure_is_refused_under_legal_hold(compliance_officer):
    customer = CustomerFactory(legal_hold=True, legal_hold_reason="litigation 2026-17")
    PhoneNumberFactory(customer=customer)
    api = APIClient()
    api.force_authenticate(compliance_officer)
    response = api.post(f"/api/v1/customers/{customer.pk}/erase/", {}, format="json")
    assert response.status_code == 409
    assert "legal hold" in response.json()["detail"] and "litigation 2026-17" in response.json()["detail"]
    assert not Customer.objects.get(pk=customer.pk).is_erased
    assert not SuppressionEntry.objects.exists()


def test_only_compliance_officers_erase(agent, manager, customer):
    for user in (agent, manager):
        api = APIClient()
        api.force_authenticate(user)
        assert api.post(f"/api/v1/customers/{customer.pk}/erase/", {}, format="json").status_code == 403
