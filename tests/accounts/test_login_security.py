"""Login like a trusted back office: lockout, the access log, password reset,
two-factor for compliance officers and superusers, idle expiry."""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import AccessLog
from tests.conftest import PASSWORD
from tests.otp import login_with_otp, totp_code, totp_device_for

pytestmark = pytest.mark.django_db


def password_login(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


# --- Lockout ------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_login_and_even_the_right_one_is_refused_until_cool_off(
    client, agent, settings
):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert password_login(client, agent.username, "wrong-password").status_code == 200
    locked = password_login(client, agent.username, "wrong-password")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert '<header class="topbar">' in locked.content.decode()  # the app's own layout

    refused = password_login(client, agent.username, PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action="login refused (locked out)", target=agent.username).exists()

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        welcome = password_login(client, agent.username, PASSWORD)
    assert welcome.status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_a_lockout_is_per_username_and_address(client, agent, manager):
    for _ in range(5):
        password_login(client, agent.username, "wrong-password")
    assert password_login(client, manager.username, PASSWORD).status_code == 302
    other_address = client.post(
        reverse("login"), {"username": agent.username, "password": PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )
    assert other_address.status_code == 302


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, agent):
    for i in range(5):
        client.post(
            reverse("login"),
            {"username": agent.username, "password": "wrong-password"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        )
    again = client.post(
        reverse("login"),
        {"username": agent.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert again.status_code == 429


def test_force_login_in_tests_is_not_affected_by_the_lockout(client, agent):
    for _ in range(6):
        password_login(client, agent.username, "wrong-password")
    client.force_login(agent)
    assert client.get("/agent/").status_code == 200


# --- Access log ----------------------------------------------------------------------


def test_a_failed_login_is_logged_with_the_username_and_address_never_the_password(client, agent):
    password_login(client, agent.username, "hunter2-wrong")
    password_login(client, "nobody-" + "x" * 300, "hunter2-wrong")

    known = AccessLog.objects.get(action="login failed", user=agent)
    assert (known.target, known.ip, known.path) == (agent.username, "127.0.0.1", "/login/")
    unknown = AccessLog.objects.get(action="login failed", user=None)
    assert unknown.target.startswith("nobody-x") and len(unknown.target) == 150
    assert not AccessLog.objects.filter(target__contains="hunter2").exists()
    assert not AccessLog.objects.filter(path__contains="hunter2").exists()


def test_a_successful_login_and_the_logout_are_logged(client, agent):
    assert password_login(client, agent.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    actions = list(AccessLog.objects.filter(user=agent).order_by("id").values_list("action", "target", "ip"))
    assert actions == [
        ("logged in", agent.username, "127.0.0.1"),
        ("logged out", agent.username, "127.0.0.1"),
    ]


def test_odd_usernames_are_a_failed_login_not_a_500(client):
    assert password_login(client, "evil\x00name", "whatever-pass").status_code == 200
    for _ in range(6):
        assert password_login(client, "y" * 400, "whatever-pass").status_code in (200, 429)
    assert AccessLog.objects.filter(target="y" * 150, user=None).count() == 6
    assert AccessLog.objects.filter(target="y" * 150, action="login refused (locked out)").exists()


# --- Password reset ------------------------------------------------------------------


def test_the_login_page_links_to_password_reset(client):
    assert 'href="/password-reset/"' in client.get(reverse("login")).content.decode()


def test_password_reset_sends_a_link_that_sets_a_new_password(client, agent):
    agent.email = "alice@example.com"
    agent.save()
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your ConsentDesk password"
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    new_password = "a-brand-new-passphrase-42"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    agent.refresh_from_db()
    assert agent.check_password(new_password)
    assert AccessLog.objects.filter(user=agent, action="password reset by email").exists()
    assert password_login(client, agent.username, new_password).status_code == 302


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "stranger@example.com"})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_used_reset_link_no_longer_works(client, agent):
    agent.email = "alice@example.com"
    agent.save()
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    link = re.search(r"http://testserver(/password-reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    url = form.redirect_chain[-1][0]
    client.post(url, {"new_password1": "first-new-passphrase-1", "new_password2": "first-new-passphrase-1"})
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


# --- Two-factor ----------------------------------------------------------------------


def current_code(device: TOTPDevice) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:06d}"


def test_an_officer_without_a_device_enrols_with_a_real_code_and_reaches_the_page(client, compliance_officer):
    assert password_login(client, compliance_officer.username, PASSWORD).status_code == 302
    gate = client.get("/compliance/")
    assert gate.status_code == 302
    assert gate.url == reverse("two-factor-setup") + "?next=%2Fcompliance%2F"

    page = client.get(gate.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "Set up two-factor sign-in" in html
    device = TOTPDevice.objects.get(user=compliance_officer, confirmed=False)
    secret = page.context["secret_groups"]
    assert secret in html and re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", secret)
    assert page.context["otpauth_uri"].startswith("otpauth://totp/")

    wrong = client.post(gate.url, {"code": "000000" if current_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "did not match" in wrong.content.decode()
    # A person takes longer than django-otp's one-second throttle to type the next code.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    device.refresh_from_db()
    done = client.post(gate.url, {"code": current_code(device), "next": "/compliance/"})
    assert done.status_code == 302 and done.url == "/compliance/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/compliance/").status_code == 200
    assert AccessLog.objects.filter(user=compliance_officer, action="enrolled two-factor").exists()


def test_an_officer_with_a_device_passes_the_verify_page_after_the_password(client, compliance_officer):
    device = totp_device_for(compliance_officer)
    password_login(client, compliance_officer.username, PASSWORD)
    gate = client.get("/compliance/reports/")
    assert gate.url == reverse("two-factor-verify") + "?next=%2Fcompliance%2Freports%2F"
    assert client.post(gate.url, {"code": "12345"}).status_code == 400
    done = client.post(gate.url, {"code": totp_code(device), "next": "/compliance/reports/"})
    assert done.status_code == 302 and done.url == "/compliance/reports/"
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/compliance/reports/").status_code == 200
    assert AccessLog.objects.filter(user=compliance_officer, action="passed two-factor").exists()


def test_a_stolen_password_cannot_enrol_a_second_device(client, compliance_officer):
    totp_device_for(compliance_officer)
    password_login(client, compliance_officer.username, PASSWORD)
    response = client.get(reverse("two-factor-setup"))
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor-verify"))
    assert not TOTPDevice.objects.filter(user=compliance_officer, confirmed=False).exists()


def test_verify_sends_only_to_this_site(client, compliance_officer):
    device = totp_device_for(compliance_officer)
    client.force_login(compliance_officer)
    done = client.post(
        reverse("two-factor-verify"), {"code": totp_code(device), "next": "https://evil.example/"}
    )
    assert done.status_code == 302 and done.url == "/"


@pytest.mark.parametrize("persona", ["compliance_officer", "superuser"])
def test_an_unverified_officer_or_superuser_is_sent_to_two_factor_from_pages_and_the_admin(
    client, request, persona
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for url in ("/compliance/", "/admin/", "/admin/accounts/accesslog/", "/tickets/", "/api/docs/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("two-factor-setup")), url
    assert client.get("/healthz").status_code == 200
    assert client.get(reverse("two-factor-setup")).status_code == 200


def test_an_unverified_session_gets_403_from_the_api_with_a_message(client, compliance_officer):
    client.force_login(compliance_officer)
    response = client.get("/api/v1/customers/")
    assert response.status_code == 403
    assert "Two-factor verification required" in response.json()["detail"]


def test_an_htmx_request_of_an_unverified_session_is_redirected_by_hx_redirect(client, compliance_officer):
    client.force_login(compliance_officer)
    response = client.get("/compliance/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("two-factor-setup"))


def test_an_api_token_is_its_own_credential_and_needs_no_code(client, compliance_officer, superuser):
    for user in (compliance_officer, superuser):
        token = Token.objects.create(user=user)
        response = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token.key}")
        assert response.status_code == 200
    bad = client.get("/api/schema/", HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.status_code == 401


def test_a_token_request_with_an_unverified_session_cookie_is_judged_by_the_token(client, compliance_officer):
    client.force_login(compliance_officer)
    token = Token.objects.create(user=compliance_officer)
    assert client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_an_agent_and_a_manager_are_not_asked_for_a_code(client, agent, manager):
    password_login(client, agent.username, PASSWORD)
    assert client.get("/agent/").status_code == 200
    client.force_login(manager)
    assert client.get("/admin/campaigns/campaign/").status_code == 200


def test_an_agent_may_enrol_and_is_then_asked_for_the_code(client, agent):
    client.force_login(agent)
    page = client.get(reverse("two-factor-setup"))
    assert page.status_code == 200 and "Optional for your role" in page.content.decode()
    device = TOTPDevice.objects.get(user=agent)
    client.post(reverse("two-factor-setup"), {"code": current_code(device)})
    client.post(reverse("logout"))

    password_login(client, agent.username, PASSWORD)
    assert client.get("/agent/").url.startswith(reverse("two-factor-verify"))


def test_two_factor_off_lets_an_officer_in_with_the_password_alone(client, compliance_officer, settings):
    settings.CONSENTDESK_REQUIRE_2FA = False
    password_login(client, compliance_officer.username, PASSWORD)
    assert client.get("/compliance/").status_code == 200


def test_a_superuser_cannot_remove_the_device_of_their_own_session(client, superuser, compliance_officer):
    own = login_with_otp(client, superuser)
    other = totp_device_for(compliance_officer)
    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200 and "delete_selected" not in listing.content.decode()
    assert client.post(f"/admin/otp_totp/totpdevice/{own.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"/admin/otp_totp/totpdevice/{other.pk}/change/").content.decode()
    assert other.key not in page
    assert client.post(f"/admin/otp_totp/totpdevice/{other.pk}/delete/", {"post": "yes"}).status_code == 302
    assert list(TOTPDevice.objects.all()) == [own]


def test_a_compliance_officer_cannot_see_devices_in_the_admin(client, compliance_officer):
    login_with_otp(client, compliance_officer)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 403


# --- Idle sessions -------------------------------------------------------------------


def test_a_session_idle_longer_than_the_setting_is_over(client, agent, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        password_login(client, agent.username, PASSWORD)
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        assert client.get("/agent/").status_code == 200  # moves the deadline on
    with time_machine.travel(start + dt.timedelta(minutes=45), tick=False):
        assert client.get("/agent/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=76), tick=False):
        response = client.get("/agent/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
