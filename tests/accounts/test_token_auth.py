"""API tokens (accounts.authentication): the token, its user and the user's
roles in one query, read again on every request, so that a role taken away or
a user deactivated stops the token at the very next request."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts.roles import AGENTS, MANAGERS

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/?phone=%2B12127360001"  # every role looks customers up by number


def header(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def test_the_token_its_user_and_roles_are_one_query(client, agent):
    auth = header(agent)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(CUSTOMERS, **auth).status_code == 200
    reads = [q["sql"] for q in queries if "authtoken_token" in q["sql"] or "auth_group" in q["sql"]]
    assert len(reads) == 1, reads
    assert "auth_user_groups" in reads[0] and '"auth_user"' in reads[0]


def test_a_role_taken_away_or_given_counts_from_the_next_request(client, agent):
    auth = header(agent)
    assert client.get(CUSTOMERS, **auth).status_code == 200
    agent.groups.remove(Group.objects.get(name=AGENTS))
    response = client.get(CUSTOMERS, **auth)
    assert response.status_code == 403 and "no ConsentDesk role" in response.json()["detail"]
    agent.groups.add(Group.objects.get(name=MANAGERS))
    assert client.get(CUSTOMERS, **auth).status_code == 200
    campaign = {"name": "Spring", "purpose": "informational", "dialing_mode": "manual", "subject": "orders"}
    created = client.post(
        "/api/v1/campaigns/",
        {**campaign, "caller_id": "+12125550100", "status": "draft"},
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201, created.json()  # a manager's right, read with the token


def test_a_user_deactivated_is_refused_at_the_next_request(client, agent):
    auth = header(agent)
    assert client.get(CUSTOMERS, **auth).status_code == 200
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = client.get(CUSTOMERS, **auth)
    assert response.status_code == 401 and response.json()["detail"] == "User inactive or deleted."
    assert response["WWW-Authenticate"] == "Token"


def test_an_unknown_token_is_refused_with_401(client):
    response = client.get(CUSTOMERS, HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401 and response.json()["detail"] == "Invalid token."


def test_a_superuser_without_a_group_holds_every_role(client, superuser):
    assert client.get(CUSTOMERS, **header(superuser)).status_code == 200


def test_a_user_without_a_role_is_refused(client, outsider):
    assert client.get(CUSTOMERS, **header(outsider)).status_code == 403
