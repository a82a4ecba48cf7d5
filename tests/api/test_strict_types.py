"""JSON values of the type the schema gives, or a 400 naming the field:
schemathesis found the API accepting 0 for a boolean and 0 for a string
(DRF coerces), and a few more inputs the schema calls invalid."""

import pytest
from rest_framework.test import APIClient

from consent.models import DncRequest
from tests.factories import CustomerFactory, PhoneNumberFactory, QueueFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def _errors(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    return response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "Hello", "public": 0}, "public"),  # a number for a boolean
        ({"body": 0, "public": False}, "body"),  # a number for a string
        ({"body": "Hello", "public": "true"}, "public"),  # a string for a boolean
    ],
)
def test_a_value_of_the_wrong_json_type_is_a_400_naming_the_field(api, body, field):
    ticket = TicketFactory()
    errors = _errors(api.post(f"/api/v1/tickets/{ticket.pk}/comments/", body, format="json"))
    assert list(errors) == [field]


def test_a_string_for_an_integer_is_refused(api):
    queue = QueueFactory()
    body = {"queue": str(queue.pk), "subject": "Hi", "type": "question", "channel": "email"}
    assert "queue" in _errors(api.post("/api/v1/tickets/", body, format="json"))


def test_nested_values_are_checked_too(api):
    body = {"first_name": "Dana", "last_name": "Reyes", "phone_numbers": [{"number": 2125550123}]}
    errors = _errors(api.post("/api/v1/customers/", body, format="json"))
    assert errors == {"phone_numbers": [{"number": ["Not a valid string."]}]}


def test_right_types_still_pass(api):
    ticket = TicketFactory()
    response = api.post(
        f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Hi", "public": True}, format="json"
    )
    assert response.status_code == 201


def test_query_values_must_have_their_type_s_text_form(api):
    assert "queue" in _errors(api.get("/api/v1/tickets/", {"queue": "1.0"}))
    assert "overdue" in _errors(api.get("/api/v1/tickets/", {"overdue": "0"}))
    assert "status" in _errors(api.get("/api/v1/tickets/", {"status": ""}))
    assert api.get("/api/v1/tickets/", {"queue": "1", "overdue": "true"}).status_code == 200


def test_a_patch_listing_a_number_without_its_number_is_a_400_not_a_500(api):
    customer = CustomerFactory()
    response = api.patch(
        f"/api/v1/customers/{customer.pk}/", {"phone_numbers": [{"kind": "unknown"}]}, format="json"
    )
    errors = _errors(response)["phone_numbers"]
    first = errors[0] if isinstance(errors, list) else errors["0"]  # DRF keys a partial list's errors
    assert first == {"number": ["This field is required."]}


def test_an_opt_out_with_a_long_note_is_recorded_not_a_500(api):
    phone = PhoneNumberFactory()
    note = "The customer explained at length. " * 50
    response = api.post(
        "/api/v1/consents/revoke/",
        {"phone_number": str(phone.number), "via": "api", "note": note[:2000]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    request = DncRequest.objects.get(pk=response.json()["dnc_request"])
    assert request.reason == note[:2000].strip()
    reason = request.history.get().history_change_reason
    assert len(reason) == 100 and reason.startswith("opt-out via api: The customer") and reason.endswith("…")


def test_erasing_with_a_json_null_body_is_a_400(compliance_officer):
    api = APIClient()
    api.force_authenticate(compliance_officer)
    customer = CustomerFactory()
    response = api.post(f"/api/v1/customers/{customer.pk}/erase/", "null", content_type="application/json")
    assert response.status_code == 400
    assert api.post(f"/api/v1/customers/{customer.pk}/erase/").status_code == 200


def test_an_unknown_api_url_answers_json_404(api):
    for url in ["/api/v1/customers/abc/", "/api/v1/nothing-here/"]:
        response = api.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}
