"""Every login, failed login and logout goes to the access log."""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.audit import login_event_record
from accounts.middleware import LAST_SEEN_SESSION_KEY
from accounts.twofactor import TWO_FACTOR_ENROLLED_SESSION_KEY, totp_device_confirmed_exists


@receiver(user_logged_in, dispatch_uid="accounts_login_logged")
def login_logged(sender, request, user, **kwargs) -> None:
    login_event_record(request, user=user, action="logged in", username=user.get_username())
    if request is not None and hasattr(request, "session"):
        # Remembered for the session: anyone who enrolled an authenticator
        # (required role or not) is asked for a code after the password.
        request.session[TWO_FACTOR_ENROLLED_SESSION_KEY] = totp_device_confirmed_exists(user=user)
        request.session[LAST_SEEN_SESSION_KEY] = int(time.time())


def axes_username(request, credentials) -> str:
    """The username django-axes counts failures for: at most 150 characters,
    no NUL (it is stored, and PostgreSQL refuses NUL in text)."""
    return attempted_username(credentials)


def attempted_username(credentials) -> str:
    return str((credentials or {}).get("username") or "").replace("\x00", "")[:150]


@receiver(user_login_failed, dispatch_uid="accounts_login_failure_logged")
def login_failure_logged(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` has the password masked by Django; only the username is kept.
    username = attempted_username(credentials)
    user = get_user_model().objects.filter(username=username).first() if username else None
    locked = getattr(request, "axes_locked_out", False)
    action = "login refused (locked out)" if locked else "login failed"
    login_event_record(request, user=user, action=action, username=username)


@receiver(user_logged_out, dispatch_uid="accounts_logout_logged")
def logout_logged(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    login_event_record(request, user=user, action="logged out", username=user.get_username())
