"""OpenAPI schema hooks: the error answers every operation can give, in one
shared shape, so the schema says what the API really answers (schemathesis
checks it in CI)."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from core.api import HOUR_MINUTE_PATTERN

E164_PATTERN = r"^\+[1-9]\d{1,14}$"
ERROR_COMPONENT = "Error"


class PhoneNumberFieldSchema(OpenApiSerializerFieldExtension):
    """A phone number goes in in any common format and comes out as E.164."""

    target_class = "core.api.PhoneNumberInputField"

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            answer = {"type": "string", "pattern": E164_PATTERN, "example": "+13055550123"}
            return {**answer, "nullable": True} if self.target.erasable else answer
        return {"type": "string", "example": "+13055550123"}


class HourMinuteFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "core.api.HourMinuteField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": HOUR_MINUTE_PATTERN, "example": "09:00"}


class E164FieldSchema(OpenApiSerializerFieldExtension):
    target_class = "core.api.E164Field"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": E164_PATTERN, "example": "+13055550123"}


ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "An error. `detail` for one about the whole request (authentication, permission, "
        "not found, malformed JSON, a conflict); otherwise one entry per field with its "
        "messages (`non_field_errors` for the request as a whole; a nested field nests)."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {}},
            {"type": "object"},
        ]
    },
}

WHY = {
    "400": "Invalid input: a message per field, or `detail` for a malformed body.",
    "401": "No credentials, or a bad token.",
    "403": "Authenticated, but this role may not do this.",
    "404": "No such object (or not one this user may see).",
    "413": "The request body is too large.",
}


def _error_response(code: str) -> dict:
    return {
        "description": WHY.get(code, "Error."),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}},
    }


def error_responses(result, generator, request, public):
    """Add the error answers DRF gives to every operation: 401 and 403
    everywhere (every operation needs a role), 400 where there is input to
    refuse (a body or query parameters) or a write a service may refuse, 404 where the path names an object,
    413 where there is a body. Status codes a view documents itself stay."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            parameters = operation.get("parameters", [])
            codes = ["401", "403"]
            writes = method in ("post", "put", "patch", "delete")  # services refuse with a 400 too
            if writes or "requestBody" in operation or any(p["in"] == "query" for p in parameters):
                codes.append("400")
            if any(p["in"] == "path" for p in parameters):
                codes.append("404")
            if "requestBody" in operation:
                codes.append("413")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, _error_response(code))
            for code, response in responses.items():
                if code[0] in "45" and "content" not in response:
                    response.update(_error_response(code))
    return result
