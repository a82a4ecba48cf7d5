import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import ALL_ROLES, ROLE_PERMISSIONS
from tests.conftest import PASSWORD
from tests.otp import login_with_otp, totp_code, totp_device_for

pytestmark = pytest.mark.django_db


def login(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, follow=False)


def test_migrations_create_the_three_contract_groups_with_their_permissions():
    for role in ALL_ROLES:
        group = Group.objects.get(name=role)
        held = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert held == set(ROLE_PERMISSIONS[role])


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("agent", "/agent/"),
        ("compliance_officer", "/compliance/"),
        ("manager", "/admin/campaigns/campaign/"),
        ("superuser", "/admin/"),
    ],
)
def test_login_lands_each_role_on_its_own_page(client, request, persona, landing):
    user = request.getfixturevalue(persona)
    response = login(client, user)
    assert response.status_code == 302
    if persona in ("compliance_officer", "superuser"):  # two-factor after the password
        device = totp_device_for(user)
        gate = client.get(response.url)
        assert gate.status_code == 302 and gate.url.startswith(reverse("two-factor-verify"))
        response = client.post(gate.url, {"code": totp_code(device), "next": "/"})
        assert response.status_code == 302 and response.url == "/"
    home = client.get(response.url)
    assert home.status_code == 302
    assert home.url == landing
    assert client.get(landing).status_code == 200


def test_wrong_password_stays_on_the_login_page_with_an_error(client, agent):
    response = client.post(reverse("login"), {"username": agent.username, "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_navigation_shows_only_what_the_role_may_use(client, agent, compliance_officer):
    client.force_login(agent)
    page = client.get("/agent/").content.decode()
    assert "Dialer &amp; tickets" in page
    assert "/compliance/" not in page
    assert "/admin/" not in page

    login_with_otp(client, compliance_officer)
    page = client.get("/compliance/").content.decode()
    assert "/compliance/" in page
    assert "/agent/" not in page


def test_an_outsider_sees_nothing(client, outsider):
    client.force_login(outsider)
    assert client.get("/").status_code == 403
    assert "no role" in client.get("/").content.decode()
    assert client.get("/agent/").status_code == 403
    assert client.get("/compliance/").status_code == 403
    admin = client.get("/admin/")
    assert admin.status_code == 302 and "/admin/login/" in admin.url
    assert client.get("/api/v1/customers/").status_code in (403, 404)
    assert client.get("/api/schema/").status_code == 403


def test_an_agent_cannot_open_audit_pages_or_the_admin(client, agent):
    client.force_login(agent)
    assert client.get("/compliance/").status_code == 403
    assert client.get("/admin/").status_code == 302


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/agent/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    assert client.get("/api/schema/").status_code in (401, 403)


def test_logout_ends_the_session(client, agent):
    client.force_login(agent)
    client.post(reverse("logout"))
    assert client.get("/agent/").status_code == 302


def test_token_authenticates_api_calls(client, manager):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=manager)
    response = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def token_for(user) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=user).key


def test_a_role_taken_away_stops_the_token_at_the_next_request(client, agent, outsider):
    from accounts.roles import AGENTS

    header = f"Token {token_for(agent)}"
    url = "/api/v1/customers/?phone=%2B12127360001"  # agents look customers up by number
    assert client.get(url, HTTP_AUTHORIZATION=header).status_code == 200
    agent.groups.remove(Group.objects.get(name=AGENTS))
    assert client.get(url, HTTP_AUTHORIZATION=header).status_code == 403
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {token_for(outsider)}").status_code == 403


@pytest.mark.parametrize("problem", ["unknown token", "inactive user"])
def test_a_bad_token_is_refused_with_401(client, agent, problem):
    key = token_for(agent)
    if problem == "unknown token":
        key = key[::-1]
    else:
        agent.is_active = False
        agent.save()
    assert client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
