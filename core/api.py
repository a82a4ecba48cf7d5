"""API plumbing shared by every app: the JSON parser, pagination and error shapes."""

import re
from base64 import b64decode
from urllib import parse

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.http import JsonResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils.dateparse import parse_datetime
from django.views.defaults import page_not_found
from rest_framework import exceptions, pagination, relations, serializers
from rest_framework.views import exception_handler as drf_exception_handler

from core.parsers import RequestTooLarge
from core.phones import phone_normalize

HOUR_MINUTE_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"  # HourMinuteField; the OpenAPI schema says the same
JSON_TYPE_MESSAGES = {
    "string": "Not a valid string.",
    "boolean": "Must be a valid boolean.",
    "integer": "A valid integer is required.",
    "number": "A valid number is required.",
}
QUERY_FORMS = {  # what a query-string value must look like for each JSON type
    "boolean": re.compile(r"true|false"),
    "integer": re.compile(r"-?[0-9]+"),
    "number": re.compile(r"-?[0-9]+(\.[0-9]+)?"),
}


def _json_type(field) -> str | None:
    """The JSON type a writable field takes (as the OpenAPI schema says), or
    None when any type goes (JSON) or the field checks the type itself."""
    if isinstance(field, serializers.BooleanField):
        return "boolean"
    if isinstance(field, serializers.IntegerField | relations.PrimaryKeyRelatedField):
        return "integer"
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return "number"
    if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
        keys = [key for key in field.choices if key != ""]
        return "integer" if keys and all(isinstance(key, int) for key in keys) else "string"
    if isinstance(field, serializers.CharField | serializers.DateTimeField | serializers.DateField):
        return "string"
    if isinstance(field, serializers.TimeField | serializers.DurationField):
        return "string"
    return None


def _value_type_errors(field, value):
    """The errors of a value whose JSON type is not the field's, nested the
    way DRF nests its own errors; None when the types are right (or when the
    value is null or not a container where one is due: the field says so)."""
    if value is None:
        return None
    if isinstance(field, serializers.ListSerializer):
        if not isinstance(value, list):
            return None
        errors = [_object_type_errors(field.child, item) or {} for item in value]
        return errors if any(errors) else None
    if isinstance(field, serializers.Serializer):
        return _object_type_errors(field, value)
    child = getattr(field, "child", None) or getattr(field, "child_relation", None)
    if isinstance(field, serializers.ListField | relations.ManyRelatedField) and child is not None:
        if not isinstance(value, list):
            return None
        errors = {i: e for i, item in enumerate(value) if (e := _value_type_errors(child, item))}
        return errors or None
    expected = _json_type(field)
    right = {
        None: True,
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
    }[expected]
    return None if right else [JSON_TYPE_MESSAGES[expected]]


def _object_type_errors(serializer, data) -> dict | None:
    if not isinstance(data, dict):
        return None
    errors = {}
    for field in serializer._writable_fields:
        if field.field_name in data:
            error = _value_type_errors(field, data[field.field_name])
            if error:
                errors[field.field_name] = error
    return errors or None


class StrictTypes:
    """A serializer mixin: values of the JSON type the schema gives, or a 400
    naming the field. DRF's fields coerce (0 to false, "5" to 5, 5 to "5"),
    which a client sending the wrong type never learns about. Query strings
    (all text) are held to the text form of their type ("true", "12")."""

    def to_internal_value(self, data):
        if isinstance(data, QueryDict):
            errors = {}
            for field in self._writable_fields:
                form = QUERY_FORMS.get(_json_type(field))
                value = data.get(field.field_name)
                if form and value is not None and not form.fullmatch(value):
                    errors[field.field_name] = [JSON_TYPE_MESSAGES[_json_type(field)]]
                elif value == "" and isinstance(field, serializers.ChoiceField) and not field.allow_blank:
                    # DRF reads an empty form value as "not given"; in a query it is no choice.
                    errors[field.field_name] = ['"" is not a valid choice.']
        else:
            errors = _object_type_errors(self, data)
        if errors:
            raise exceptions.ValidationError(errors)
        return super().to_internal_value(data)


class KeysetPagination(pagination.CursorPagination):
    """Keyset (cursor) pagination: constant cost per page and no COUNT(*),
    however big the table is. A `limit` outside 1..max_page_size or a
    cursor this API did not hand out is a 400 naming it, never ignored."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(value)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        invalid = exceptions.ValidationError(
            {self.cursor_query_param: ["Not a cursor of this list: follow the next or previous link."]}
        )
        try:
            decoded = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(decoded, keep_blank_values=True, strict_parsing=bool(decoded))
            position = tokens.get("p", [None])[0]
            reverse = tokens.get("r", ["0"])[0]
            offset = tokens.get("o", ["0"])[0]
            if (
                set(tokens) - {"p", "r", "o"}
                or reverse not in ("0", "1")
                or not (offset.isascii() and offset.isdigit())
            ):
                raise invalid
            if position is not None:
                field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
                value = field.to_python(position)
                if isinstance(value, int) and not -(2**63) <= value < 2**63:
                    raise invalid
        except (ValueError, UnicodeError, DjangoValidationError) as exc:
            raise invalid from exc
        return pagination.Cursor(
            offset=min(int(offset), self.offset_cutoff), reverse=reverse == "1", position=position
        )

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The `next` or `previous` link's cursor; anything else is a 400.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, 1 to {self.max_page_size} (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def not_found(request, exception):
    """handler404: a URL under /api/ that matches no route (e.g. a path id
    that is not a number) answers in the API's JSON error shape."""
    if request.path.startswith("/api/"):
        detail = "Not found."
        if not request.path.endswith("/") and _resolves(request.path_info + "/"):
            detail = f"Not found. API URLs end with a slash: {request.path}/"
        return JsonResponse({"detail": detail}, status=404)
    return page_not_found(request, exception)


def exception_handler(exc, context):
    """DRF's handler, plus model-level ValidationErrors raised by services
    turned into a 400 with a message per field, a refused delete of a row
    other records keep (PROTECT) into a 409, and a body over the size limit
    into a 413, instead of a 500."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                field: [str(m) for e in errors for m in e.messages]
                for field, errors in exc.error_dict.items()
            }
        else:
            detail = {"non_field_errors": list(exc.messages)}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, ProtectedError):
        exc = Conflict("Other records (calls, consents, tickets) refer to this; it cannot be removed.")
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    return drf_exception_handler(exc, context)


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the records as they are."
    default_code = "conflict"


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset: a time without one is ambiguous across the
    callee's time zones, so it is refused rather than guessed. Years are
    bounded so date arithmetic downstream (windows, periods) cannot overflow."""

    default_error_messages = {
        "naive": "Give the time with a UTC offset, e.g. 2026-01-05T10:00:00+00:00.",
        "range": "Give a time between the years {first} and {last}.",
    }
    first_year = 1900
    last_year = 2100

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well formed but impossible, e.g. month 13: DRF says "invalid"
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
            if parsed is not None and not self.first_year <= parsed.year <= self.last_year:
                self.fail("range", first=self.first_year, last=self.last_year)
        return super().to_internal_value(value)


class PhoneNumberInputField(serializers.CharField):
    """A phone number in any common format, validated and returned as E.164;
    `erasable`: answered as null once its customer is erased."""

    def __init__(self, *, erasable: bool = False, **kwargs):
        self.erasable = erasable
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return phone_normalize(text)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class E164Field(serializers.CharField):
    """A phone number as answered: E.164 (read-only uses)."""


class HourMinuteField(serializers.TimeField):
    """A time of day as `HH:MM` (24-hour, two digits each), in and out."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.fullmatch(HOUR_MINUTE_PATTERN, value):
            self.fail("invalid", format="HH:MM")
        return super().to_internal_value(value)
