"""The API's JSON parser, on its own so that DRF's settings can name it:
core.api imports rest_framework.views, which reads the parser setting
while it loads, so a parser defined there cannot be imported first."""

import json

from django.conf import settings
from rest_framework import exceptions, parsers

NUL_MESSAGE = "NUL characters (\\u0000) are not allowed."


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


def _json_problem(data, *, max_depth: int) -> tuple[str, str] | None:
    """Walk parsed JSON without recursion. Returns ("nul", field) for a NUL
    character in a string or a key, ("deep", field) for containers nested
    deeper than `max_depth`, or None; `field` is the top-level key it sits
    under ("" when the body is not an object or the key itself is bad)."""
    stack = [(data, 1, "")]
    while stack:
        value, depth, field = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return "nul", field
        elif isinstance(value, dict | list):
            if depth > max_depth:
                return "deep", field
            pairs = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in pairs:
                if key is not None and "\x00" in key:
                    return "nul", field
                stack.append((item, depth + 1, field if depth > 1 or key is None else key))
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with limits: a body over DATA_UPLOAD_MAX_MEMORY_SIZE
    is a 413, arrays or objects nested deeper than `max_depth` a 400 (before
    Python's recursion limit is reached), and a NUL character in any string
    or key a 400 naming the top-level field (PostgreSQL cannot store one)."""

    max_depth = 32

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(f"The request body is too large: at most {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise exceptions.ParseError(
                f"JSON parse error - arrays or objects nested more than {self.max_depth} deep."
            ) from exc
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        problem = _json_problem(data, max_depth=self.max_depth)
        if problem and problem[0] == "deep":
            raise exceptions.ParseError(
                f"JSON parse error - arrays or objects nested more than {self.max_depth} deep."
            )
        if problem:
            raise exceptions.ValidationError({problem[1] or "non_field_errors": [NUL_MESSAGE]})
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
