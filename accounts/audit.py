"""Recording who saw what (accounts.AccessLog)."""

from accounts.models import AccessLog


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
        ip=request.META.get("REMOTE_ADDR") or None,
    )
