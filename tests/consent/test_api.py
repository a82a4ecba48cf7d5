import pytest
from rest_framework.test import APIClient

from consent.models import ConsentGrant, DncRequest
from tests.factories import ConsentGrantFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

GRANT = {
    "phone_number": "+13055550123",
    "purpose": "marketing",
    "channel": "voice",
    "written": True,
    "source": "web_form",
    "evidence": {"disclosure_text": "I agree to autodialed marketing calls.", "ip": "203.0.113.9"},
    "granted_at": "2026-01-05T10:00:00+00:00",
}


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_granting_consent_with_the_contract_fields(manager):
    PhoneNumberFactory(number="+13055550123")
    response = api_for(manager).post("/api/v1/consents/", GRANT, format="json")
    assert response.status_code == 201, response.json()
    grant = ConsentGrant.objects.get(pk=response.json()["id"])
    assert grant.written and grant.purpose == "marketing" and grant.evidence["ip"] == "203.0.113.9"
    assert grant.recorded_by == manager
    assert grant.history.get().history_user == manager
    assert response.json()["phone_number"] == "+13055550123"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone_number": "+13055550999"}, "phone_number"),  # no customer has it
        ({"phone_number": "555"}, "phone_number"),
        ({"purpose": "sales"}, "purpose"),
        ({"channel": "fax"}, "channel"),
        ({"source": "rumour"}, "source"),
        ({"evidence": {}}, "evidence"),
        ({"evidence": {"disclosure_text": "  "}}, "evidence"),
        ({"evidence": "I agree"}, "evidence"),
        ({"granted_at": "2026-01-05 10:00"}, "granted_at"),
        ({"granted_at": "2999-01-01T00:00:00+00:00"}, "granted_at"),
        ({"expires_at": "2025-01-01T00:00:00+00:00"}, "__all__"),
        ({"written": "maybe"}, "written"),
    ],
)
def test_bad_consent_input_is_a_400_and_records_nothing(manager, change, field):
    PhoneNumberFactory(number="+13055550123")
    response = api_for(manager).post("/api/v1/consents/", {**GRANT, **change}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body or (field == "__all__" and "non_field_errors" in body), body
    assert not ConsentGrant.objects.exists()


@pytest.mark.parametrize(
    "path", ["/api/v1/consents/revoke/", "/api/v1/dnc/internal/", "/api/v1/sms/inbound/"]
)
def test_a_bad_number_is_rejected_on_every_opt_out_path(agent, superuser, path):
    payload = {"phone_number": "12", "via": "api", "reason": "x", "from": "12", "body": "STOP"}
    sender = superuser if path == "/api/v1/sms/inbound/" else agent  # the webhook is not the agents'
    response = api_for(sender).post(path, payload, format="json")
    assert response.status_code == 400
    assert not DncRequest.objects.exists()


def test_revoke_with_an_unknown_channel_is_a_400(agent):
    response = api_for(agent).post(
        "/api/v1/consents/revoke/", {"phone_number": "+13055550123", "via": "fax"}, format="json"
    )
    assert response.status_code == 400
    assert "via" in response.json()


def test_agents_cannot_read_consent_evidence(agent, compliance_officer):
    ConsentGrantFactory()
    assert api_for(agent).get("/api/v1/consents/").status_code == 403
    assert api_for(agent).get("/api/v1/dnc/internal/").status_code == 403
    listed = api_for(compliance_officer).get("/api/v1/consents/").json()["results"]
    assert listed[0]["evidence"]["disclosure_text"]


def test_only_managers_record_consent(agent, compliance_officer):
    PhoneNumberFactory(number="+13055550123")
    assert api_for(agent).post("/api/v1/consents/", GRANT, format="json").status_code == 403
    assert api_for(compliance_officer).post("/api/v1/consents/", GRANT, format="json").status_code == 403


def test_consents_and_dnc_requests_cannot_be_edited_or_deleted_through_the_api(superuser):
    grant = ConsentGrantFactory()
    api = api_for(superuser)
    for method in ("put", "patch", "delete"):
        assert getattr(api, method)(f"/api/v1/consents/{grant.pk}/", {}, format="json").status_code == 405
    api.post("/api/v1/dnc/internal/", {"phone_number": "+12125550100"}, format="json")
    request = DncRequest.objects.get()
    assert api.delete(f"/api/v1/dnc/internal/{request.pk}/").status_code == 404
