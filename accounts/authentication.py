"""API token authentication that reads the user's roles with the token."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from accounts.roles import ALL_ROLES, user_roles_remember
from core.prepared import PreparedSelect

# One EXISTS per role, each on the membership's index: portable, no array aggregate.
_ROLE_COLUMNS = {f"holds_role_{index}": role for index, role in enumerate(ALL_ROLES)}
_HOLDS = {
    column: Exists(
        get_user_model().groups.through.objects.filter(user_id=OuterRef("user_id"), group__name=role)
    )
    for column, role in _ROLE_COLUMNS.items()
}
# Compiled once (core.prepared): compiling it cost every API request about six times
# the CPU of running it.
_TOKEN_WITH_ROLES = PreparedSelect(
    lambda key: Token.objects.select_related("user").annotate(**_HOLDS).filter(key=key), "key"
)


class TokenRolesAuthentication(TokenAuthentication):
    """DRF's token authentication (`Authorization: Token <key>`, the same
    answers to a bad key or an inactive user) in one query: the token, its
    user and the user's roles, which `accounts.roles.user_roles` then reads
    from memory. Every request reads them again, so a role taken away or a
    user deactivated stops the token at the very next request."""

    def authenticate_credentials(self, key):
        token = _TOKEN_WITH_ROLES.first(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        user_roles_remember(user, {role for column, role in _ROLE_COLUMNS.items() if getattr(token, column)})
        return user, token
