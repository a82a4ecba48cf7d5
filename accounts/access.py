"""Role checks for views and the API."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from accounts.roles import ALL_ROLES, COMPLIANCE_OFFICERS, has_role


def user_may_erase(user) -> bool:
    """The one check of who may erase a customer (irreversible): the erase
    API, the ticket page and any admin path ask this, nothing else."""
    return user is not None and has_role(user, COMPLIANCE_OFFICERS)


def user_may_set_legal_hold(user) -> bool:
    """Who sets and lifts legal holds: a hold is what stops an erasure or a
    purge, so whoever may not erase may not lift one either."""
    return user is not None and has_role(user, COMPLIANCE_OFFICERS)


def access_required(check: Callable[..., bool], message: str):
    """Login first, then 403 unless `check(user)` holds."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_required(*roles: str):
    """Login first, then 403 unless the user holds one of `roles`."""
    return access_required(
        lambda user: has_role(user, *roles), "Your role does not give access to this page."
    )


def HasRole(*roles: str) -> type[BasePermission]:
    """A DRF permission class for users holding one of `roles`."""

    class _HasRole(BasePermission):
        message = f"This needs one of the roles: {', '.join(roles)}."

        def has_permission(self, request, view) -> bool:
            return has_role(request.user, *roles)

    _HasRole.__name__ = "HasRole_" + "_".join(r.replace(" ", "") for r in roles)
    return _HasRole


class HasAnyRole(BasePermission):
    """The API's default: signed in and holding a ConsentDesk role. A user
    outside every group sees nothing."""

    message = "Your account has no ConsentDesk role."

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *ALL_ROLES)


class MayErase(BasePermission):
    message = "Only compliance officers erase customers."

    def has_permission(self, request, view) -> bool:
        return user_may_erase(request.user)


class MaySetLegalHold(BasePermission):
    message = "Only compliance officers set or lift legal holds."

    def has_permission(self, request, view) -> bool:
        return user_may_set_legal_hold(request.user)
