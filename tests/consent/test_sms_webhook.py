"""The inbound SMS webhook believes only the SMS provider: a request signed
with the webhook secret (JSON) or by Twilio (form-encoded), or the API token
of a user allowed to record inbound texts. A stop word anywhere among the
words of a text opts the sender out at once."""

import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from consent.models import ConsentGrant, DncRequest, InboundMessage
from consent.services import sms_keyword_is_opt_out
from consent.webhooks import sms_webhook_signature, twilio_signature, twilio_signature_valid
from tests.factories import ConsentGrantFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/sms/inbound/"
NUMBER = "+13055550123"
SECRET = "webhook-secret-for-tests-0123456789"
TWILIO_TOKEN = "twilio-auth-token-for-tests-0123"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def phone():
    phone = PhoneNumberFactory(number=NUMBER)
    ConsentGrantFactory(phone_number=phone, purpose="marketing", written=True)
    return phone


def nothing_recorded():
    return (
        not DncRequest.objects.exists()
        and not InboundMessage.objects.exists()
        and not ConsentGrant.objects.filter(revoked_at__isnull=False).exists()
    )


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


# --- who may post ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["agent", "manager", "compliance_officer", "outsider"])
def test_a_staff_token_cannot_record_an_sms_stop(request, phone, persona):
    response = token_client(request.getfixturevalue(persona)).post(
        URL, {"from": NUMBER, "body": "STOP"}, format="json"
    )
    assert response.status_code == 403, response.content
    assert "consent.add_inboundmessage" in response.json()["detail"]
    assert nothing_recorded()


def test_no_credentials_is_a_401_and_records_nothing(phone):
    response = APIClient().post(URL, {"from": NUMBER, "body": "STOP"}, format="json")
    assert response.status_code == 401
    assert "X-ConsentDesk-Signature" in response.json()["detail"]
    assert nothing_recorded()


def test_a_superusers_token_is_accepted(superuser, phone):
    response = token_client(superuser).post(URL, {"from": NUMBER, "body": "STOP"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["action"] == "opted_out"
    assert DncRequest.objects.get().evidence["authenticated_by"] == "API token of root"


def test_a_manager_given_the_permission_is_accepted(manager, phone):
    manager.user_permissions.add(Permission.objects.get(codename="add_inboundmessage"))
    response = token_client(manager).post(URL, {"from": NUMBER, "body": "hello"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["action"] == "stored_for_review"


# --- the webhook secret (JSON) -----------------------------------------------------


def signed_post(raw: bytes, signature: str, **extra):
    return APIClient().post(
        URL, raw, content_type="application/json", HTTP_X_CONSENTDESK_SIGNATURE=signature, **extra
    )


@override_settings(SMS_WEBHOOK_SECRET=SECRET)
def test_a_body_signed_with_the_webhook_secret_opts_out(phone):
    raw = json.dumps({"from": NUMBER, "body": "Stop calling me", "to": "+12125550100"}).encode()
    response = signed_post(raw, sms_webhook_signature(body=raw, secret=SECRET))
    assert response.status_code == 200, response.content
    assert response.json()["action"] == "opted_out" and response.json()["reply"]
    request = DncRequest.objects.get(number=NUMBER)
    assert request.source == "sms" and request.recorded_by is None
    assert request.evidence["sms_to"] == "+12125550100"
    assert request.evidence["authenticated_by"] == "webhook signature"
    assert ConsentGrant.objects.get().revoked_via == "sms"


@override_settings(SMS_WEBHOOK_SECRET=SECRET)
def test_the_signature_covers_the_raw_bytes(phone):
    """A body re-serialised differently (spaces) is not the body that was signed."""
    signed = json.dumps({"from": NUMBER, "body": "STOP"}).encode()
    sent = json.dumps({"from": NUMBER, "body": "STOP"}, separators=(",", ":")).encode()
    response = signed_post(sent, sms_webhook_signature(body=signed, secret=SECRET))
    assert response.status_code == 403
    assert nothing_recorded()


@pytest.mark.parametrize(
    "signature",
    ["", "sha256=", "sha256=" + "0" * 64, "md5=abc", sms_webhook_signature(body=b"{}", secret=SECRET)],
)
@override_settings(SMS_WEBHOOK_SECRET=SECRET)
def test_a_bad_signature_is_refused_and_records_nothing(phone, signature):
    raw = json.dumps({"from": NUMBER, "body": "STOP"}).encode()
    response = signed_post(raw, signature)
    assert response.status_code == 403, response.content
    assert response["Content-Type"].startswith("application/json") and response.json()["detail"]
    assert nothing_recorded()


@override_settings(SMS_WEBHOOK_SECRET=SECRET)
def test_a_signature_with_the_wrong_secret_is_refused(phone):
    raw = json.dumps({"from": NUMBER, "body": "STOP"}).encode()
    response = signed_post(raw, sms_webhook_signature(body=raw, secret="not-the-secret"))
    assert response.status_code == 403
    assert nothing_recorded()


@override_settings(SMS_WEBHOOK_SECRET="")
def test_signed_requests_are_refused_when_no_secret_is_set(phone):
    raw = json.dumps({"from": NUMBER, "body": "STOP"}).encode()
    response = signed_post(raw, sms_webhook_signature(body=raw, secret=""))
    assert response.status_code == 403
    assert "CONSENTDESK_SMS_WEBHOOK_SECRET" in response.json()["detail"]
    assert nothing_recorded()


@override_settings(SMS_WEBHOOK_SECRET=SECRET)
def test_a_signed_body_is_still_validated(phone):
    raw = json.dumps({"from": "12", "body": "STOP"}).encode()
    response = signed_post(raw, sms_webhook_signature(body=raw, secret=SECRET))
    assert response.status_code == 400 and "from" in response.json()
    assert nothing_recorded()


# --- Twilio (form-encoded) -----------------------------------------------------------


def test_twilios_documented_example_signatures():
    """The values of Twilio's own validator tests (token 12345)."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
        "Caller": "+14158675309",
    }
    assert twilio_signature(url=url, params=params.items(), token="12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert twilio_signature(url=url, params=repeated, token="12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    # The URL with and without its port, as Twilio's validators accept it.
    for variant, signature in [
        (url, "kvajT1Ptam85bY51eRf/AJRuM3w="),  # signed with :443
        (url.replace(".com", ".com:1234"), "RSOYDt4T1cUTdK1PDd93/VVr8B8="),  # signed without the port
        (url.replace("https", "http"), "0ZXoZLH/DfblKGATFgpif+LLRf4="),  # signed with :80
    ]:
        assert twilio_signature_valid(url=variant, params=params.items(), header=signature, token="12345")
    assert not twilio_signature_valid(
        url=url, params=params.items(), header="RSOYDt4T1cUTdK1PDd93/VVr8B8=", token="1"
    )


def twilio_post(params: dict, *, signature: str | None = None):
    url = "http://testserver" + URL
    if signature is None:
        signature = twilio_signature(url=url, params=params.items(), token=TWILIO_TOKEN)
    return APIClient().post(URL, urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature)


TWILIO_PARAMS = {
    "MessageSid": "SM0123456789abcdef0123456789abcdef",
    "AccountSid": "AC0123456789abcdef0123456789abcdef",
    "From": NUMBER,
    "To": "+12125550100",
    "Body": "STOP ALL",
    "NumMedia": "0",
}


@override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
def test_a_twilio_signed_stop_opts_out_and_answers_twiml(phone):
    response = twilio_post(TWILIO_PARAMS)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    body = response.content.decode()
    assert body.startswith("<?xml") and "<Response><Message>You will receive no more calls" in body
    request = DncRequest.objects.get(number=NUMBER)
    assert request.source == "sms" and request.evidence["authenticated_by"] == "twilio signature"
    assert InboundMessage.objects.get().status == "opted_out"


@override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
def test_a_twilio_text_for_review_gets_an_empty_twiml_response(phone):
    response = twilio_post({**TWILIO_PARAMS, "Body": "When does my order arrive?"})
    assert response.status_code == 200
    assert response.content.decode().endswith("<Response></Response>")
    assert InboundMessage.objects.get().status == "needs_review" and not DncRequest.objects.exists()


@override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
def test_a_twilio_request_with_a_changed_parameter_is_refused(phone):
    signature = twilio_signature(
        url="http://testserver" + URL,
        params={**TWILIO_PARAMS, "From": "+13055550999"}.items(),
        token=TWILIO_TOKEN,
    )
    response = twilio_post(TWILIO_PARAMS, signature=signature)
    assert response.status_code == 403
    assert nothing_recorded()


@override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
def test_a_twilio_signature_for_another_url_is_refused(phone):
    signature = twilio_signature(
        url="https://elsewhere.example.com" + URL, params=TWILIO_PARAMS.items(), token=TWILIO_TOKEN
    )
    assert twilio_post(TWILIO_PARAMS, signature=signature).status_code == 403
    assert nothing_recorded()


@override_settings(TWILIO_AUTH_TOKEN="")
def test_twilio_requests_are_refused_when_no_auth_token_is_set(phone):
    signature = twilio_signature(url="http://testserver" + URL, params=TWILIO_PARAMS.items(), token="")
    response = twilio_post(TWILIO_PARAMS, signature=signature)
    assert response.status_code == 403 and "CONSENTDESK_TWILIO_AUTH_TOKEN" in response.json()["detail"]
    assert nothing_recorded()


@override_settings(TWILIO_AUTH_TOKEN=TWILIO_TOKEN)
def test_a_signed_twilio_request_with_nul_in_the_body_is_a_400(phone):
    response = twilio_post({**TWILIO_PARAMS, "Body": "STOP\x00"})
    assert response.status_code == 400 and "Body" in response.json()
    assert nothing_recorded()


# --- stop words --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        "Stop calling me",
        "STOP ALL",
        "please unsubscribe!",
        "Unsubscribe.",
        "quit",
        "The END",
        "revoke my consent",
        "cancel, please",
        "opt out",
        "OPT  OUT",
        "opt-out",
        "Optout",
        "¡STOP!",
        "stop2",
    ],
)
def test_a_stop_word_among_the_words_is_an_opt_out(body):
    assert sms_keyword_is_opt_out(body), body


@pytest.mark.parametrize(
    "body",
    ["", "STOPP", "nonstop", "unstoppable deals", "cancellation policy?", "opt in", "out of office", "yes"],
)
def test_a_word_that_only_contains_a_stop_word_is_not(body):
    assert not sms_keyword_is_opt_out(body), body


@pytest.mark.parametrize("body", ["Stop calling me", "STOP ALL", "please unsubscribe!"])
def test_the_issues_examples_opt_out_through_the_webhook(superuser, phone, body):
    response = token_client(superuser).post(URL, {"from": NUMBER, "body": body}, format="json")
    assert response.json()["action"] == "opted_out"
    assert ConsentGrant.objects.get().revoked_via == "sms"
    assert DncRequest.objects.get().evidence["sms_body"] == body
