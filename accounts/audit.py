"""Recording who saw what, and who logged in, in accounts.AccessLog."""

from collections.abc import Iterable

from accounts.models import AccessLog

USERNAME_LOGGED_CHARS = 150


def client_ip(request) -> str | None:
    """The address the request came from, as the web server saw it."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def access_record(request, *, action: str, target: str) -> AccessLog | None:
    """Log that the request's user saw `target`; anonymous requests are not staff reads."""
    rows = access_record_many(request, action=action, targets=[target])
    return rows[0] if rows else None


def access_record_many(request, *, action: str, targets: Iterable[str]) -> list[AccessLog]:
    """Log that the request's user saw each of `targets` (one page of a list,
    or a page showing several records): one row per target, written by one
    INSERT whatever their number (one `bulk_create`; on PostgreSQL a single
    statement, on SQLite as few as its variable limit allows).

    One row per record rather than one row naming the set: an auditor asks
    "who saw consent #5" with `target="consent #5"`, and "who saw customer
    #7" with that customer's page and exports (`target="customer #7"`) and
    its consents' ids, an exact match each; a set in one 200-character
    target would be cut off at a few dozen ids and need parsing. Targets
    name records by id (`"consent #5"`, `"call attempt #3"`, `"decision
    #9"`, `"customer #7"`), as the admin and the exports already do, so an
    erasure leaves them as they are; a number or email in the path (a
    `?phone=` filter) is redacted by accounts.erasure. Duplicates are logged
    once; anonymous requests are not staff reads and log nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    path, ip = request.get_full_path()[:300], client_ip(request)
    unique = dict.fromkeys(str(target)[:200] for target in targets)
    return AccessLog.objects.bulk_create(
        AccessLog(user=user, action=action[:40], target=target, path=path, ip=ip) for target in unique
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
