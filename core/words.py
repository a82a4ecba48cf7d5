"""How every page writes an instant, a day and a person: one place, so the
site's one date format (config/formats) and the viewer's zone
(accounts.middleware.ViewerTimezoneMiddleware) hold on pages, in the admin
and in exports read by people."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format


def datetime_text(value: datetime) -> str:
    """ "Dec 2, 2026 14:18 EST", in the viewer's zone."""
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def day_text(value: datetime | date) -> str:
    """ "Dec 2, 2026": an instant's day in the viewer's zone, or a date as it is."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return date_format(value, "DATE_FORMAT")


def person_name(user) -> str:
    """A user by name (their username when they have none)."""
    return user.get_full_name() or user.get_username()
