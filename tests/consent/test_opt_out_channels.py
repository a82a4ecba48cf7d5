"""Every opt-out channel revokes every consent of the number, files a company
DNC request, and leaves history naming the user or the channel."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import override_settings
from rest_framework.test import APIClient

from consent.models import ConsentGrant, DncRequest, InboundMessage
from consent.preferences import preference_url
from consent.services import OPT_OUT_KEYWORDS
from tests.factories import ConsentGrantFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

NUMBER = "+13055550123"


@pytest.fixture
def phone():
    phone = PhoneNumberFactory(number=NUMBER)
    ConsentGrantFactory(phone_number=phone, purpose="marketing", written=True)
    ConsentGrantFactory(phone_number=phone, purpose="informational", written=False, source="verbal")
    ConsentGrantFactory(phone_number=phone, purpose="marketing", channel="sms")
    return phone


def assert_opted_out(phone, *, via: str, user=None):
    grants = ConsentGrant.objects.filter(phone_number=phone)
    assert grants.count() == 3
    assert all(g.revoked_at is not None and g.revoked_via == via for g in grants), [
        (g.revoked_at, g.revoked_via) for g in grants
    ]
    assert all(g.revoked_by == user for g in grants)
    request = DncRequest.objects.get(number=NUMBER)
    assert request.source == via
    assert request.recorded_by == user
    for grant in grants:
        latest = grant.history.first()
        assert latest.revoked_via == via
        assert latest.history_user == user
        assert latest.history_change_reason.startswith(f"opt-out via {via}")
    dnc_history = request.history.get()
    assert dnc_history.history_user == user
    assert dnc_history.history_change_reason.startswith(f"opt-out via {via}")


def test_admin_opt_out_form(client, compliance_officer, phone):
    login_with_otp(client, compliance_officer)
    response = client.post(
        "/admin/consent/dncrequest/add/",
        {"phone": "(305) 555-0123", "reason": "Asked by letter"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Opted out: +13055550123 (3 consent(s) revoked)" in response.content.decode()
    assert_opted_out(phone, via="admin", user=compliance_officer)


def test_admin_action_on_customers(client, manager, phone):
    client.force_login(manager)
    data = {"action": "record_opt_out", ACTION_CHECKBOX_NAME: [phone.customer_id]}
    confirm = client.post("/admin/customers/customer/", data)
    assert confirm.status_code == 200
    assert NUMBER in confirm.content.decode()
    assert not DncRequest.objects.exists(), "the confirmation page must not opt out yet"
    client.post("/admin/customers/customer/", {**data, "apply": "1", "note": "Said so on the phone"})
    assert_opted_out(phone, via="admin", user=manager)


def test_admin_action_on_consents(client, manager, phone):
    client.force_login(manager)
    grant = phone.consents.first()
    data = {
        "action": "record_opt_out",
        ACTION_CHECKBOX_NAME: [grant.pk],
        "apply": "1",
        "note": "Email request",
    }
    client.post("/admin/consent/consentgrant/", data)
    assert_opted_out(phone, via="admin", user=manager)


def test_api_revoke(agent, phone):
    api = APIClient()
    api.force_authenticate(agent)
    response = api.post(
        "/api/v1/consents/revoke/",
        {"phone_number": NUMBER, "via": "api", "note": "integration"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["phone_number"] == NUMBER
    assert sorted(body["revoked"]) == sorted(phone.consents.values_list("id", flat=True))
    assert body["dnc_request"] == DncRequest.objects.get().pk
    assert_opted_out(phone, via="api", user=agent)


@pytest.mark.parametrize(
    "keyword", [*sorted(OPT_OUT_KEYWORDS), "  stop ", "Opt Out", "opt  out\n", "Unsubscribe"]
)
def test_sms_keyword(superuser, phone, keyword):
    api = APIClient()
    api.force_authenticate(superuser)
    response = api.post("/api/v1/sms/inbound/", {"from": "3055550123", "body": keyword}, format="json")
    assert response.status_code == 200
    assert response.json()["action"] == "opted_out"
    assert response.json()["reply"]
    assert_opted_out(phone, via="sms", user=superuser)
    assert DncRequest.objects.get().evidence["sms_body"] == keyword
    assert InboundMessage.objects.get().status == "opted_out"


@pytest.mark.parametrize("body", ["please call me back at work", "STOPP", "nonstop deals?", "yes", ""])
def test_other_texts_are_kept_for_a_human_and_change_nothing(superuser, phone, body):
    api = APIClient()
    api.force_authenticate(superuser)
    response = api.post("/api/v1/sms/inbound/", {"from": NUMBER, "body": body}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "action": "stored_for_review",
        "message": InboundMessage.objects.get().pk,
        "reply": None,
    }
    assert not DncRequest.objects.exists()
    assert not ConsentGrant.objects.filter(revoked_at__isnull=False).exists()


def test_preference_page_one_click(client, phone):
    url = preference_url(customer=phone.customer)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "may call you" in text and "with offers and promotions" in text and "may text you" in text
    response = client.post(url, {"number": "all"})
    assert response.status_code == 200
    assert "will not call or text" in response.content.decode()
    assert_opted_out(phone, via="web", user=None)
    assert DncRequest.objects.get().evidence["ip"] == "127.0.0.1"


def test_preference_link_fails_when_tampered_with(client, phone):
    url = preference_url(customer=phone.customer)
    token = url.rstrip("/").rsplit("/", 1)[1]
    customer_id, rest = token.split(":", 1)
    for bad in [f"{int(customer_id) + 1}:{rest}", token[:-2] + "xx", "garbage"]:
        response = client.get(f"/preferences/{bad}/")
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
        assert client.post(f"/preferences/{bad}/", {"number": "all"}).status_code == 404
    assert not DncRequest.objects.exists()


def test_preference_link_fails_when_expired(client, phone):
    url = preference_url(customer=phone.customer)
    with override_settings(PREFERENCE_LINK_MAX_AGE_DAYS=0):
        assert client.get(url).status_code == 404
        assert client.post(url, {"number": "all"}).status_code == 404
    assert not DncRequest.objects.exists()


def test_a_number_without_a_customer_can_still_be_put_on_the_dnc_list(agent):
    api = APIClient()
    api.force_authenticate(agent)
    response = api.post(
        "/api/v1/dnc/internal/", {"phone_number": "+12127360001", "reason": "cold lead"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["phone_number"] == "+12127360001"
    assert response.json()["source"] == "api"
    assert DncRequest.objects.get().recorded_by == agent
