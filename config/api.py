"""API plumbing shared by every app: pagination and error shapes."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, pagination, serializers
from rest_framework.views import exception_handler as drf_exception_handler

from customers.phones import phone_normalize


class KeysetPagination(pagination.CursorPagination):
    """Keyset (cursor) pagination: constant cost per page and no COUNT(*),
    however big the table is."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500
    ordering = "-id"


def exception_handler(exc, context):
    """DRF's handler, plus model-level ValidationErrors raised by services
    turned into a 400 with a message per field instead of a 500."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                field: [str(m) for e in errors for m in e.messages]
                for field, errors in exc.error_dict.items()
            }
        else:
            detail = {"non_field_errors": list(exc.messages)}
        exc = exceptions.ValidationError(detail)
    return drf_exception_handler(exc, context)


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset: a time without one is ambiguous across the
    callee's time zones, so it is refused rather than guessed."""

    default_error_messages = {"naive": "Give the time with a UTC offset, e.g. 2026-01-05T10:00:00+00:00."}

    def to_internal_value(self, value):
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class PhoneNumberInputField(serializers.CharField):
    """A phone number in any common format, validated and returned as E.164."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return phone_normalize(text)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
