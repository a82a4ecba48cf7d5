"""core.api.exception_handler: errors that used to escape as a 500 answer
in the API's JSON error shape."""

from django.core.exceptions import RequestDataTooBig
from django.db.models import ProtectedError

from core.api import exception_handler


def test_a_refused_delete_of_a_row_others_keep_is_a_409_with_a_message():
    response = exception_handler(ProtectedError("protected", set()), {})
    assert response.status_code == 409
    assert "cannot be removed" in response.data["detail"]


def test_a_body_over_the_size_limit_is_a_413():
    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert "too large" in response.data["detail"]


def test_a_write_to_an_api_url_without_its_slash_is_a_404_naming_the_url(client, settings, manager):
    client.force_login(manager)

    def patch():
        return client.patch(
            "/api/v1/customers/1", data={"legal_hold": False}, content_type="application/json"
        )

    # With DEBUG on (the demo) Django's slash redirect raised a RuntimeError (a 500).
    settings.DEBUG = True
    assert patch().status_code == 404
    settings.DEBUG = False
    response = patch()
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found. API URLs end with a slash: /api/v1/customers/1/"}


def test_a_page_without_its_slash_still_redirects(client, agent):
    client.force_login(agent)
    response = client.get("/tickets")
    assert response.status_code == 301
    assert response["Location"] == "/tickets/"
