"""config.api.exception_handler: errors that used to escape as a 500 answer
in the API's JSON error shape."""

from django.core.exceptions import RequestDataTooBig
from django.db.models import ProtectedError

from config.api import exception_handler


def test_a_refused_delete_of_a_row_others_keep_is_a_409_with_a_message():
    response = exception_handler(ProtectedError("protected", set()), {})
    assert response.status_code == 409
    assert "cannot be removed" in response.data["detail"]


def test_a_body_over_the_size_limit_is_a_413():
    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert "too large" in response.data["detail"]
