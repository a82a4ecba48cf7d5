"""What management commands share."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def command_user(username: str | None):
    """The active user `--user` names, recorded as the one who ran the
    command; None without `--user`. An unknown or inactive name stops the
    command before it changes anything."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user '{username}'.")
    return user
