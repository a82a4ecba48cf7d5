import pytest
from rest_framework.test import APIClient

from customers.models import Customer, PhoneNumber
from tests.factories import ConsentGrantFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


CONTRACT_CUSTOMER = {
    "first_name": "Dana",
    "last_name": "Reyes",
    "email": "dana@example.com",
    "state": "FL",
    "postal_code": "33101",
    "last_purchase_at": "2026-01-05T10:00:00+00:00",
    "last_inquiry_at": None,
    "phone_numbers": [
        {"number": "+13055550123", "kind": "mobile"},
        {"number": "(212) 555-0199", "kind": "landline"},
    ],
}


def test_creating_a_customer_answers_with_id_and_e164_numbers(api, manager):
    response = api.post("/api/v1/customers/", CONTRACT_CUSTOMER, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert isinstance(body["id"], int)
    assert [(p["number"], p["kind"]) for p in body["phone_numbers"]] == [
        ("+13055550123", "mobile"),
        ("+12125550199", "landline"),
    ]
    assert all(isinstance(p["id"], int) for p in body["phone_numbers"])
    customer = Customer.objects.get(pk=body["id"])
    record = customer.history.get()
    assert record.history_user == manager
    assert record.history_change_reason == "created through the API"
    assert PhoneNumber.history.filter(customer_id=customer.pk, history_user=manager).count() == 2


def test_search_by_number_accepts_any_format(api):
    api.post("/api/v1/customers/", CONTRACT_CUSTOMER, format="json")
    for query in ["+13055550123", "(305) 555-0123", "305.555.0123", "1 305 555 0123"]:
        response = api.get("/api/v1/customers/", {"phone": query})
        assert response.status_code == 200
        assert [c["last_name"] for c in response.json()["results"]] == ["Reyes"], query
    assert api.get("/api/v1/customers/", {"phone": "+13055550999"}).json()["results"] == []


def test_search_by_a_malformed_number_is_a_400_naming_the_parameter(api):
    response = api.get("/api/v1/customers/", {"phone": "call me"})
    assert response.status_code == 400
    assert "phone" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone_numbers": [{"number": "+1555", "kind": "mobile"}]}, "phone_numbers"),
        ({"phone_numbers": [{"number": "not a number", "kind": "mobile"}]}, "phone_numbers"),
        ({"phone_numbers": [{"number": "+13055550123", "kind": "pager"}]}, "phone_numbers"),
        ({"state": "XX"}, "state"),
        ({"postal_code": "3310"}, "postal_code"),
        ({"email": "not-an-email"}, "email"),
        ({"last_purchase_at": "2026-01-05T10:00:00"}, "last_purchase_at"),
        ({"last_purchase_at": "yesterday"}, "last_purchase_at"),
        ({"legal_hold": True, "legal_hold_reason": "litigation"}, "legal_hold"),
        ({"first_name": ""}, "first_name"),
    ],
)
def test_bad_customer_input_is_a_400_with_field_errors_and_changes_nothing(api, change, field):
    response = api.post("/api/v1/customers/", {**CONTRACT_CUSTOMER, **change}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body or (field == "__all__" and ("non_field_errors" in body or "__all__" in body)), body
    assert not Customer.objects.exists()
    assert not PhoneNumber.objects.exists()


def test_a_number_of_another_customer_is_refused(api):
    PhoneNumberFactory(number="+13055550123")
    response = api.post("/api/v1/customers/", CONTRACT_CUSTOMER, format="json")
    assert response.status_code == 400
    assert "already belongs" in str(response.json()["phone_numbers"])


@pytest.mark.parametrize("payload", [None, [], "text", {"phone_numbers": "x"}, {"phone_numbers": [1]}])
def test_garbage_payloads_never_cause_a_500(api, payload):
    response = api.post("/api/v1/customers/", payload, format="json")
    assert response.status_code == 400


def test_update_replaces_numbers_but_keeps_one_with_consent_records(api):
    phone = PhoneNumberFactory(number="+13055550123")
    ConsentGrantFactory(phone_number=phone)
    url = f"/api/v1/customers/{phone.customer_id}/"
    response = api.patch(
        url, {"phone_numbers": [{"number": "+12125550100", "kind": "mobile"}]}, format="json"
    )
    assert response.status_code == 400
    assert "consent records" in str(response.json())
    response = api.patch(
        url,
        {"phone_numbers": [{"number": "+13055550123", "kind": "landline"}, {"number": "+12125550100"}]},
        format="json",
    )
    assert response.status_code == 200
    assert {(p["number"], p["kind"]) for p in response.json()["phone_numbers"]} == {
        ("+13055550123", "landline"),
        ("+12125550100", "unknown"),
    }


def test_deleting_a_customer_with_consent_records_is_refused(api):
    phone = PhoneNumberFactory()
    ConsentGrantFactory(phone_number=phone)
    response = api.delete(f"/api/v1/customers/{phone.customer_id}/")
    assert response.status_code == 400
    assert Customer.objects.filter(pk=phone.customer_id).exists()


def test_agents_find_customers_by_number_but_cannot_change_them(agent):
    client = APIClient()
    client.force_authenticate(agent)
    assert client.get("/api/v1/customers/", {"phone": "+13055550123"}).status_code == 200
    assert client.post("/api/v1/customers/", CONTRACT_CUSTOMER, format="json").status_code == 403


def test_token_authentication_with_the_contract_header(manager):
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=manager).key)
    assert client.post("/api/v1/customers/", CONTRACT_CUSTOMER, format="json").status_code == 201


def test_the_list_is_keyset_paginated_with_a_constant_number_of_queries(api, django_assert_max_num_queries):
    for i in range(30):
        PhoneNumberFactory(number=f"+1212555{i:04d}")
    with django_assert_max_num_queries(6):
        first = api.get("/api/v1/customers/", {"limit": 10}).json()
    assert len(first["results"]) == 10
    assert "count" not in first
    with django_assert_max_num_queries(6):
        second = api.get(first["next"]).json()
    assert {c["id"] for c in first["results"]}.isdisjoint({c["id"] for c in second["results"]})
