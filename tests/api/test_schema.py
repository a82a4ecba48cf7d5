"""The OpenAPI schema tells the truth (schemathesis checks the live server
against it in CI, scripts/schemathesis_ci.sh); these pin what it found."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

E164 = r"^\+[1-9]\d{1,14}$"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operation(schema, path: str, method: str) -> dict:
    return schema["paths"][path][method]


def test_every_operation_documents_its_error_answers_with_the_shared_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for code in ("401", "403"):
                assert responses[code]["content"]["application/json"]["schema"] == error, (path, method)
            if "{" in path:
                assert "404" in responses, (path, method)
            if method in ("post", "put", "patch", "delete") or any(
                p["in"] == "query" for p in operation.get("parameters", [])
            ):
                assert "400" in responses, (path, method)


def test_conflicts_are_documented_where_they_happen(schema):
    assert "409" in _operation(schema, "/api/v1/dialer/next/", "post")["responses"]
    assert "409" in _operation(schema, "/api/v1/customers/{id}/erase/", "post")["responses"]


def test_windows_are_hh_mm_strings(schema):
    for name in ("Campaign", "CampaignRequest"):
        window = schema["components"]["schemas"][name]["properties"]["window_start"]
        assert window["type"] == "string" and window["pattern"] == r"^([01]\d|2[0-3]):[0-5]\d$"
        assert window["nullable"] is True


def test_phone_numbers_are_answered_as_e164_and_erased_ones_as_null(schema):
    components = schema["components"]["schemas"]
    assert components["PhoneNumber"]["properties"]["number"]["pattern"] == E164
    assert components["PhoneNumber"]["properties"]["number"]["nullable"] is True
    assert components["Campaign"]["properties"]["caller_id"]["pattern"] == E164
    assert "nullable" not in components["Campaign"]["properties"]["caller_id"]
    # Any common format goes in: no pattern on the request side.
    assert "pattern" not in components["PhoneNumberRequest"]["properties"]["number"]


def test_a_consent_not_revoked_has_an_empty_revoked_via_in_the_schema(schema):
    revoked_via = schema["components"]["schemas"]["ConsentGrant"]["properties"]["revoked_via"]
    refs = [option.get("$ref", "") for option in revoked_via["oneOf"]]
    assert refs == ["#/components/schemas/OptOutViaEnum", "#/components/schemas/BlankEnum"]


def test_the_ticket_assignee_name_may_be_null(schema):
    assert schema["components"]["schemas"]["Ticket"]["properties"]["assignee_username"]["nullable"] is True


def test_page_size_is_bounded_in_the_schema(schema):
    parameters = _operation(schema, "/api/v1/customers/", "get")["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
