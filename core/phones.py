"""Phone numbers in, E.164 out: one parser for every entry path."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def phone_normalize(raw: str) -> str:
    """The E.164 form of `raw` (any common US or international format), or a
    ValidationError saying why it is not a valid, dialable number."""
    text = (raw or "").strip()
    if not text:
        raise ValidationError("Enter a phone number.", code="required")
    try:
        parsed = phonenumbers.parse(text, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"'{text}' is not a phone number ({exc}).", code="invalid") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(f"'{text}' is not a valid, dialable phone number.", code="invalid")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
