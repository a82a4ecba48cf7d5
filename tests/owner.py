"""The suite's two database roles (core.db_roles): tests connect as the
app's role (`make test` sets DATABASE_URL to it), whose grants are exactly
production's; the test database is created, migrated, flushed and dropped as
the owner (DATABASE_OWNER_URL, the cluster's superuser here).

A tamper test plays someone with the owner's powers: `owner_powers()` runs a
block of the test's own transaction as the owner (SET ROLE). The suite's app
role may do that only because the suite makes it a member of the owner's
role, without inheriting its rights (NOINHERIT): outside the block PostgreSQL
checks every statement against the app's own grants. `db_roles` never makes
a production app role a member of anything."""

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connection
from psycopg import sql

from core.db_roles import app_role_ensure, app_user, roles_split


@contextlib.contextmanager
def owner_powers() -> Iterator:
    """A cursor acting as the schema's owner until the block ends (one role, or SQLite: as is)."""
    with connection.cursor() as cursor:
        if not roles_split():
            yield cursor
            return
        cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(settings.DATABASE_OWNER["USER"])))
        try:
            yield cursor
        finally:
            with contextlib.suppress(DatabaseError):  # an aborted transaction resets it on rollback
                cursor.execute("RESET ROLE")


def suite_roles_ensure(cursor) -> None:
    """As the owner, before the test database exists: the app's role, and
    its membership in the owner's for owner_powers()."""
    role = app_user()
    app_role_ensure(cursor, role, None)  # local trust authentication: no password
    cursor.execute(
        sql.SQL("GRANT {} TO {}").format(
            sql.Identifier(settings.DATABASE_OWNER["USER"]), sql.Identifier(role)
        )
    )


def restamp(decision_id: int, recorded_at) -> None:
    """Move a decision's database stamp (`recorded_at`), as the owner with
    the log's triggers off: what the app's role cannot do."""
    update = "UPDATE compliance_decisionrecord SET recorded_at = %s WHERE id = %s"
    with owner_powers() as cursor:
        if connection.vendor != "postgresql":  # SQLite: no trigger guards the log
            cursor.execute(update, [recorded_at, decision_id])
            return
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(update, [recorded_at, decision_id])
        finally:  # a failed update must not leave the triggers off for the rest of the test
            with contextlib.suppress(DatabaseError):
                cursor.execute("RESET session_replication_role")


def app_process_env(**extra: str) -> dict[str, str]:
    """The environment of a process the test starts (a worker, a command):
    the test database as the app's role, and no owner, as production gives
    web, worker and beat."""
    import os

    settings_dict = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_OWNER_URL"}
    env["DATABASE_URL"] = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    return {**env, **extra}
