"""The API's HTML docs send a visitor who is not signed in to the login page
and back (issue 16, item 10: a bare unstyled 401 before); the schema and the
API keep their JSON 401."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_an_anonymous_visitor_of_the_docs_is_sent_to_log_in_and_back(client, agent, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"
    login = client.get(response.url)
    assert login.status_code == 200 and 'name="password"' in login.content.decode()
    back = client.post(response.url, {"username": agent.username, "password": PASSWORD, "next": url})
    assert back.status_code == 302 and back.url == url
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/tickets/"])
def test_the_api_still_answers_json_401(client, url):
    response = client.get(url)

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "credentials were not provided" in response.json()["detail"]


def test_the_schema_a_machine_reads_still_answers_401(client):
    response = client.get("/api/schema/")

    assert response.status_code == 401
    assert "credentials were not provided" in response.content.decode()


def test_a_signed_in_user_without_a_role_gets_the_styled_403_page(client, outsider):
    client.force_login(outsider)

    response = client.get("/api/docs/")

    assert response.status_code == 403
    assert "You cannot open this page" in response.content.decode()
