"""Role checks for views and the API."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from accounts.roles import ALL_ROLES, has_role


def role_required(*roles: str):
    """Login first, then 403 unless the user holds one of `roles`."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


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
