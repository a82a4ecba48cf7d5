"""Bad input is a 400 naming the field (or a 404), never a 500: each input
here gave a 500 in the security review (issue 13)."""

import json

import pytest
from rest_framework.test import APIClient

from customers.models import PhoneNumber
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory, TicketFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

IMPOSSIBLE = "2026-13-45T00:00:00Z"


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def _post_raw(api, url: str, body: str, method: str = "post"):
    return getattr(api, method)(url, data=body.encode(), content_type="application/json")


def _field_errors(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    return response.json()


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/compliance/check/", {"phone_number": "+12125550123", "campaign": 0}, "at"),
        (
            "/api/v1/consents/",
            {
                "phone_number": "+12125550123",
                "purpose": "marketing",
                "channel": "voice",
                "written": True,
                "source": "web_form",
                "evidence": {"disclosure_text": "I agree."},
            },
            "granted_at",
        ),
        ("/api/v1/customers/", {"first_name": "Dana", "last_name": "Reyes"}, "last_purchase_at"),
        (
            "/api/v1/campaigns/",
            {
                "name": "Spring",
                "purpose": "informational",
                "dialing_mode": "manual",
                "subject": "orders",
                "caller_id": "+12125550100",
            },
            "starts_at",
        ),
    ],
)
def test_an_impossible_date_is_a_400_naming_the_field(api, url, body, field):
    errors = _field_errors(api.post(url, {**body, field: IMPOSSIBLE}, format="json"))
    assert field in errors, errors


def test_an_impossible_date_on_a_campaign_update_is_a_400(api):
    campaign = CampaignFactory()
    errors = _field_errors(
        api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"ends_at": IMPOSSIBLE}, format="json")
    )
    assert "ends_at" in errors


def test_a_nul_in_json_text_is_a_field_error(api):
    phone = PhoneNumberFactory()
    body = {
        "phone_number": str(phone.number),
        "purpose": "marketing",
        "channel": "voice",
        "written": True,
        "source": "web_form",
        "evidence": {"disclosure_text": "I agree.\u0000"},
        "granted_at": "2026-01-05T10:00:00+00:00",
    }
    errors = _field_errors(api.post("/api/v1/consents/", body, format="json"))
    assert "evidence" in errors
    assert "NUL" in json.dumps(errors)


def test_a_nul_in_a_json_key_is_a_field_error(api):
    phone = PhoneNumberFactory()
    body = {
        "phone_number": str(phone.number),
        "purpose": "marketing",
        "channel": "voice",
        "written": True,
        "source": "web_form",
        "evidence": {"disclosure_text": "I agree.", "form\u0000id": "7"},
        "granted_at": "2026-01-05T10:00:00+00:00",
    }
    errors = _field_errors(api.post("/api/v1/consents/", body, format="json"))
    assert "evidence" in errors


def test_a_nul_in_a_name_is_a_field_error(api):
    errors = _field_errors(
        api.post("/api/v1/customers/", {"first_name": "Da\u0000na", "last_name": "Reyes"}, format="json")
    )
    assert "first_name" in errors


def test_arrays_nested_5000_deep_are_a_400_with_a_clear_message(api):
    body = "[" * 5000 + "]" * 5000
    response = _post_raw(api, "/api/v1/customers/", body)
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_objects_nested_deeper_than_the_limit_are_a_400(api):
    body = '{"a":' * 200 + "1" + "}" * 200
    response = _post_raw(api, "/api/v1/customers/", body)
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_a_body_over_the_size_limit_is_refused(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"first_name": "D" * 2000, "last_name": "Reyes"})
    response = _post_raw(api, "/api/v1/customers/", body)
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]


def test_malformed_json_is_a_400(api):
    response = _post_raw(api, "/api/v1/customers/", '{"first_name": ')
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_dropping_a_number_queued_in_a_campaign_is_a_400_naming_it(api):
    customer = CustomerFactory()
    kept = PhoneNumberFactory(customer=customer, number="+12125550111")
    queued = PhoneNumberFactory(customer=customer, number="+12125550122")
    campaign = CampaignFactory()
    response = api.post(
        f"/api/v1/campaigns/{campaign.pk}/targets/", {"phone_numbers": [str(queued.number)]}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone_numbers": [{"number": str(kept.number), "kind": "mobile"}],
    }
    errors = _field_errors(api.put(f"/api/v1/customers/{customer.pk}/", body, format="json"))
    assert "+12125550122" in " ".join(errors["phone_numbers"])
    assert PhoneNumber.objects.filter(pk=queued.pk).exists()


@pytest.mark.parametrize("limit", ["false", "0", "-1", "abc", "501", "1.5"])
def test_a_bad_page_size_is_a_400_naming_limit(api, limit):
    errors = _field_errors(api.get("/api/v1/customers/", {"limit": limit}))
    assert "limit" in errors


@pytest.mark.parametrize("cursor", ["false", "not-a-cursor", "cD0xMjM"])
def test_a_bad_cursor_is_a_400_naming_cursor(api, cursor):
    response = api.get("/api/v1/customers/", {"cursor": cursor})
    errors = _field_errors(response)
    assert "cursor" in errors


def test_a_good_page_size_and_the_next_cursor_work(api):
    CustomerFactory.create_batch(3)
    first = api.get("/api/v1/customers/", {"limit": "2"})
    assert first.status_code == 200
    assert len(first.json()["results"]) == 2
    second = api.get(first.json()["next"])
    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


def test_a_huge_ticket_page_number_is_a_404(client, agent):
    TicketFactory()
    client.force_login(agent)
    assert client.get("/tickets/", {"page": "99999999999999999999"}).status_code == 404
    assert client.get("/tickets/", {"page": "2"}).status_code == 200


@pytest.mark.parametrize("query", [{"until": "9999-12-31"}, {"until": "0001-01-01"}, {"since": "0001-01-01"}])
def test_the_timeline_refuses_dates_out_of_range_with_a_field_message(client, compliance_officer, query):
    login_with_otp(client, compliance_officer)
    response = client.get("/compliance/timeline/", {"number": "+12125550123", **query})
    assert response.status_code == 400
    assert "between" in response.content.decode()


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01"])
def test_the_reports_refuse_dates_out_of_range_with_a_field_message(client, compliance_officer, until):
    login_with_otp(client, compliance_officer)
    response = client.get("/compliance/reports/", {"until": until, "days": "90"})
    assert response.status_code == 400
    assert "between" in response.content.decode()
