"""Recording who saw what, and who logged in, in accounts.AccessLog."""

from accounts.models import AccessLog

USERNAME_LOGGED_CHARS = 150


def client_ip(request) -> str | None:
    """The address the request came from, as the web server saw it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def access_record(request, *, action: str, target: str) -> AccessLog | None:
    """Log that the request's user saw `target`; anonymous requests are not staff reads."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return AccessLog.objects.create(
        user=user,
        action=action[:40],
        target=str(target)[:200],
        path=request.get_full_path()[:300],
        ip=client_ip(request),
    )


def login_event_record(request, *, user, action: str, username: str) -> AccessLog:
    """Log a login, failed login, logout or two-factor step. `username` is what
    was typed (truncated) or the user's own; a password is never passed here."""
    return AccessLog.objects.create(
        user=user if user is not None and getattr(user, "pk", None) else None,
        action=action[:40],
        target=str(username or "")[:USERNAME_LOGGED_CHARS],
        path=request.get_full_path()[:300] if request is not None else "",
        ip=client_ip(request),
    )
