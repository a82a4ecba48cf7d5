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
    """On PostgreSQL, the decision log is only as safe as the role that writes
    it: asked of the database (the role this process connects as owns the log,
    or may change it), not of the settings."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT pg_get_userbyid(c.relowner) = current_user OR has_table_privilege(c.oid, 'UPDATE')
               FROM pg_class c WHERE c.oid = to_regclass('compliance_decisionrecord')"""
        )
        row = cursor.fetchone()
    if row is None or not row[0]:
        return []
    return [
        Warning(
            "This process connects as a role that owns or may change the decision log: the decision log and "
            "the access log are only as safe as the app (its role could alter, empty or un-trigger them).",
            hint="Run web, worker and beat with DATABASE_URL set to an app role; the owner's role "
            "(DATABASE_OWNER_URL) runs `manage.py db_roles` and `manage.py migrate` only (README, Production).",
            id="compliance.W002",
        )
    ]
