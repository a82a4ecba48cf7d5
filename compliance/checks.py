"""`manage.py check --deploy` findings of the compliance app."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning


def ledger_key_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """A secret that matters has no silent fallback: the checkpoint signing key."""
    if settings.LEDGER_KEY_CONFIGURED:
        return []
    return [
        Warning(
            "CONSENTDESK_LEDGER_KEY is not set: the decision log's checkpoints are signed with a key "
            f"created at {settings.LEDGER_KEY_PATH}.",
            hint="Create one with `manage.py ledger_keygen PATH` where the database's hosts cannot read it, "
            "set CONSENTDESK_LEDGER_KEY to it and give its .pub file to your auditors (README).",
            id="compliance.W001",
        )
    ]


def db_roles_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """On PostgreSQL, the decision log is only as safe as the role that writes it."""
    from django.db import connection

    from core.db_roles import roles_split

    if connection.vendor != "postgresql" or roles_split():
        return []
    return [
        Warning(
            "DATABASE_OWNER_URL is not set: the app runs as the schema's owner, so the decision log and the "
            "access log are only as safe as the app (its role could alter, empty or un-trigger them).",
            hint="Set DATABASE_OWNER_URL to the owner's role, DATABASE_URL to an app role, and run "
            "`manage.py db_roles` then `manage.py migrate` (README, Production).",
            id="compliance.W002",
        )
    ]
