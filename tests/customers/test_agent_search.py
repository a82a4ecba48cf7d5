"""Agents find the customer on the line by number, and nothing more: no
listing of everyone, no email, no legal-hold reason, a small page."""

import pytest
from rest_framework.test import APIClient

from tests.factories import CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def held():
    customer = CustomerFactory(
        first_name="Grace",
        email="grace@example.org",
        legal_hold=True,
        legal_hold_reason="litigation 2026-114",
    )
    PhoneNumberFactory(customer=customer, number="+12127360042")
    return customer


def test_an_agent_cannot_list_every_customer(agent, held):
    for _ in range(3):
        PhoneNumberFactory()

    response = _api(agent).get("/api/v1/customers/", {"limit": 500})

    assert response.status_code == 400
    assert "phone" in response.json()
    assert "grace@example.org" not in response.content.decode()


def test_an_agent_finds_a_customer_by_number_without_email_or_hold_reason(agent, held):
    response = _api(agent).get("/api/v1/customers/", {"phone": "(212) 736-0042"})

    assert response.status_code == 200
    [found] = response.json()["results"]
    assert found["id"] == held.pk and found["first_name"] == "Grace"
    assert found["phone_numbers"][0]["number"] == "+12127360042"
    assert {"email", "legal_hold_reason", "last_purchase_at", "last_inquiry_at"}.isdisjoint(found)
    assert "litigation" not in response.content.decode()


def test_an_agent_cannot_read_a_customer_by_id(agent, held):
    response = _api(agent).get(f"/api/v1/customers/{held.pk}/")

    assert response.status_code == 403
    assert "grace@example.org" not in response.content.decode()


def test_an_agent_page_holds_at_most_20(agent, held):
    api = _api(agent)
    assert api.get("/api/v1/customers/", {"phone": "+12127360042", "limit": 20}).status_code == 200
    response = api.get("/api/v1/customers/", {"phone": "+12127360042", "limit": 21})
    assert response.status_code == 400 and "limit" in response.json()


def test_managers_and_compliance_officers_keep_the_contract_fields(manager, compliance_officer, held):
    for user in (manager, compliance_officer):
        response = _api(user).get("/api/v1/customers/", {"limit": 500})
        assert response.status_code == 200
        [found] = response.json()["results"]
        assert found["email"] == "grace@example.org"
        assert found["legal_hold"] is True and found["legal_hold_reason"] == "litigation 2026-114"
