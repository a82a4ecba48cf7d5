"""Two database roles (PostgreSQL): the schema's owner and the app's.

`DATABASE_URL` is the app's role: web, worker and beat run with it. Its
grants give it every table's rows, except on the protected tables that apps
register here (the decision log, its chain and checkpoints, the access log):
there it may SELECT and INSERT, never UPDATE, DELETE or TRUNCATE, and since
it owns none of them it cannot alter them or switch their triggers off. What
may change there changes through the owner's SECURITY DEFINER functions
registered beside them (the erasure of a number, the purge of rows past the
legal minimum), which the app may only EXECUTE.

`DATABASE_OWNER_URL` (settings.DATABASE_OWNER) owns the schema: `migrate`
and `flush` run as the owner (`as_owner`), and every migrate ends with
`grants_apply`, so a new table gets the app's grants at once. The app owns
nothing and may create nothing in the schema (only temporary tables, which
the database's TEMP right gives): an object it owned could carry a trigger,
a default or an index expression that would run as whoever writes or
maintains it, the owner included. What the app must build at run time, the
registry's partitions, the owner's doors registered with `doors_register`
build for it.

Without an owner (the demo on SQLite, or a deployment that sets only
DATABASE_URL) everything runs as one role, and `check --deploy` warns that
the log is then only as safe as the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

# Every door's only setting: nothing the app creates can stand in for what its body calls.
PINNED_SEARCH_PATH = "search_path=pg_catalog, pg_temp"

# What the owner's connection takes from DATABASE_OWNER_URL; the database's
# name stays the connection's (tests run against test_<name>).
OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


@dataclass(frozen=True)
class Protected:
    model: str  # "app_label.ModelName": SELECT and INSERT only for the app
    functions: tuple[str, ...] = ()  # the owner's doors to it, "name(argument types)"
    insert: bool = True  # False: SELECT only (rows only a door writes)
    sequences: tuple[str, ...] = ()  # sequences of the table's own that the app may not touch at all


_PROTECTED: dict[str, Protected] = {}
# The owner's doors to what is no protected table's ("name(argument types)").
_DOORS: set[str] = set()


def protected_register(
    model: str, *, functions: tuple[str, ...] = (), insert: bool = True, sequences: tuple[str, ...] = ()
) -> None:
    _PROTECTED[model] = Protected(model, functions, insert, sequences)


def doors_register(*functions: str) -> None:
    """SECURITY DEFINER functions the app may EXECUTE that guard no protected
    table (the registry's partition management)."""
    _DOORS.update(functions)


def protected_tables() -> list[str]:
    return sorted(_table(entry) for entry in _PROTECTED.values())


def _table(entry: Protected) -> str:
    return apps.get_model(entry.model)._meta.db_table


def definer_functions() -> list[str]:
    return sorted({function for entry in _PROTECTED.values() for function in entry.functions} | _DOORS)


def protected_sequences() -> list[str]:
    return sorted(sequence for entry in _PROTECTED.values() for sequence in entry.sequences)


def owner_settings() -> dict | None:
    return getattr(settings, "DATABASE_OWNER", None)


def roles_split(using: str = "default") -> bool:
    """Whether this database runs with two roles (PostgreSQL with an owner
    other than the app's role)."""
    connection = connections[using]
    owner = owner_settings()
    return connection.vendor == "postgresql" and owner is not None and owner["USER"] != app_user(using)


def app_user(using: str = "default") -> str:
    return connections[using].settings_dict.get("APP_USER") or connections[using].settings_dict["USER"]


@contextmanager
def as_owner(using: str = "default") -> Iterator[BaseDatabaseWrapper]:
    """The connection `using`, reconnected as the owner for the block, then
    back to the app's role (a no-op with one role, or when already the owner).
    Outside a transaction only: the switch closes the connection."""
    connection = connections[using]
    owner = owner_settings()
    if owner is None or not roles_split(using) or connection.settings_dict["USER"] == owner["USER"]:
        yield connection
        return
    if connection.in_atomic_block:
        raise RuntimeError("as_owner: the connection is inside a transaction")
    saved = {key: connection.settings_dict.get(key) for key in OWNER_KEYS}
    connection.close()
    connection.settings_dict.update(owner, APP_USER=saved["USER"])
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(saved)
        connection.settings_dict.pop("APP_USER", None)


def app_role_ensure(cursor, role: str, password: str | None) -> bool:
    """Create the app's role, or bring an existing one to what it must be:
    it logs in and nothing more (no superuser, no CREATEDB or CREATEROLE, no
    BYPASSRLS, NOINHERIT). Returns whether it was created."""
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    created = cursor.fetchone() is None
    parts = [
        sql.SQL("CREATE ROLE {} WITH" if created else "ALTER ROLE {} WITH").format(sql.Identifier(role)),
        sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT NOREPLICATION"),
    ]
    if password:
        parts.append(sql.SQL("PASSWORD {}").format(sql.Literal(password)))
    cursor.execute(sql.SQL(" ").join(parts))
    return created


def grants_apply(using: str = "default") -> None:
    """As the owner: the app's role gets rows of every table in the schema,
    SELECT and INSERT only on the protected ones, EXECUTE on the doors, and
    no right to create anything in the schema."""
    if not roles_split(using):
        return
    app_name = app_user(using)
    app = sql.Identifier(app_name)
    with as_owner(using) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_schema(), current_user")
        schema_name, owner_name = cursor.fetchone()
        schema, owner = sql.Identifier(schema_name), sql.Identifier(owner_name)
        statements: list[sql.Composable] = [
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(schema, app),
            # Nor through PUBLIC (a database made before PostgreSQL 15 grants it
            # on `public`); a no-op unless the owner owns the schema.
            sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, app),
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                schema, app
            ),
            sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, app),
        ]
        cursor.execute("SELECT to_regclass('django_migrations') IS NOT NULL")
        if cursor.fetchone()[0]:  # before the first migrate there is nothing to say yet
            # Which migrations ran is the owner's to say.
            statements.append(
                sql.SQL("REVOKE INSERT, UPDATE, DELETE ON TABLE django_migrations FROM {}").format(app)
            )
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NOT NULL",
            [protected_tables()],
        )
        present = {name for (name,) in cursor.fetchall()}  # before the first migrate: none
        for entry in _PROTECTED.values():
            if _table(entry) not in present:
                continue
            table = sql.Identifier(_table(entry))
            statements += [
                sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(table, app),
                sql.SQL(
                    "GRANT SELECT, INSERT ON TABLE {} TO {}"
                    if entry.insert
                    else "GRANT SELECT ON TABLE {} TO {}"
                ).format(table, app),
            ]
        cursor.execute(
            """SELECT s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
               JOIN pg_class t ON t.oid = d.refobjid WHERE t.relname = ANY(%s)""",
            [protected_tables()],
        )
        for (sequence,) in cursor.fetchall():  # nextval only: the app cannot move an id back
            statements += [
                sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(sql.Identifier(sequence), app),
                sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(sql.Identifier(sequence), app),
            ]
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regprocedure(name) IS NOT NULL",
            [definer_functions()],
        )
        for (function,) in cursor.fetchall():
            statements += [
                sql.SQL(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC"),
                sql.SQL(f"GRANT EXECUTE ON FUNCTION {function} TO {{}}").format(app),
            ]
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NOT NULL",
            [protected_sequences()],
        )
        for (sequence,) in cursor.fetchall():  # kept current by a door: nothing for the app
            statements.append(
                sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(sql.Identifier(sequence), app)
            )
        # Before issue 15's partition doors the owner joined the app's role to take
        # back the registry's partitions; the app owns nothing now.
        cursor.execute(
            "SELECT rolsuper, pg_has_role(current_user, to_regrole(%s), 'MEMBER') FROM pg_roles "
            "WHERE rolname = current_user",
            [app_name],
        )
        superuser, member = cursor.fetchone()
        if member and not superuser:
            statements.append(sql.SQL("REVOKE {} FROM {}").format(app, owner))
        for statement in statements:
            cursor.execute(statement)


def app_privileges(using: str = "default") -> list[str]:
    """What the app's role could do that the protected tables must refuse:
    one line per problem, empty when the grants hold."""
    problems = []
    with connections[using].cursor() as cursor:
        role = app_user(using)
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            return [f"role {role} does not exist"]
        if row[0] or row[1]:
            problems.append(f"role {role} is a superuser or bypasses row security")
        for table in protected_tables():
            cursor.execute(
                """SELECT pg_get_userbyid(c.relowner), has_table_privilege(%(r)s, c.oid, 'UPDATE'),
                          has_table_privilege(%(r)s, c.oid, 'DELETE'), has_table_privilege(%(r)s, c.oid, 'TRUNCATE'),
                          has_table_privilege(%(r)s, c.oid, 'TRIGGER')
                   FROM pg_class c WHERE c.oid = to_regclass(%(t)s)""",
                {"r": role, "t": table},
            )
            found = cursor.fetchone()
            if found is None:
                continue
            owner, *may = found
            if owner == role:
                problems.append(f"{role} owns {table}")
            for privilege, granted in zip(("UPDATE", "DELETE", "TRUNCATE", "TRIGGER"), may, strict=True):
                if granted:
                    problems.append(f"{role} may {privilege} {table}")
        cursor.execute(
            "SELECT pg_get_userbyid(roleid) FROM pg_auth_members WHERE member = to_regrole(%s) ORDER BY 1",
            [role],
        )
        problems += [
            f"{role} is a member of {owner} (it may SET ROLE to it)" for (owner,) in cursor.fetchall()
        ]
        cursor.execute(
            """SELECT p.oid::regprocedure::text, p.prosecdef, p.proconfig FROM pg_proc p
               WHERE p.oid = ANY(ARRAY(SELECT to_regprocedure(name) FROM unnest(%s::text[]) AS name))""",
            [definer_functions()],
        )
        for function, definer, config in cursor.fetchall():
            if not definer or (config or []) != [PINNED_SEARCH_PATH]:
                problems.append(f"{function} must be SECURITY DEFINER with {PINNED_SEARCH_PATH}")
        for sequence in protected_sequences():
            cursor.execute(
                "SELECT has_sequence_privilege(%(r)s, c.oid, 'USAGE'), has_sequence_privilege(%(r)s, c.oid, 'UPDATE') "
                "FROM pg_class c WHERE c.oid = to_regclass(%(s)s)",
                {"r": role, "s": sequence},
            )
            found = cursor.fetchone()
            if found and any(found):
                problems.append(f"{role} may take or set values of {sequence}")
        cursor.execute("SELECT has_schema_privilege(%s, current_schema(), 'CREATE')", [role])
        if cursor.fetchone()[0]:
            problems.append(f"{role} may CREATE in the schema")
        problems += [f"{role} owns {kind} {name}" for kind, name in _owned(cursor, role)]
    return problems


def _owned(cursor, role: str) -> list[tuple[str, str]]:
    """What the role owns outside temporary schemas: an object it owns can
    hold code (a trigger, a default, an operator) that runs as another role."""
    cursor.execute(
        """WITH r AS (SELECT to_regrole(%s) AS oid), n AS (
               SELECT oid FROM pg_namespace WHERE nspname !~ '^pg_(toast_)?temp_')
           SELECT 'schema', nspname FROM pg_namespace, r WHERE nspowner = r.oid
           UNION ALL SELECT 'relation', c.oid::regclass::text FROM pg_class c, r
               WHERE c.relowner = r.oid AND c.relnamespace IN (SELECT oid FROM n)
           UNION ALL SELECT 'function', p.oid::regprocedure::text FROM pg_proc p, r
               WHERE p.proowner = r.oid AND p.pronamespace IN (SELECT oid FROM n)
           UNION ALL SELECT 'type', t.oid::regtype::text FROM pg_type t, r
               WHERE t.typowner = r.oid AND t.typnamespace IN (SELECT oid FROM n)
                 AND t.typrelid = 0 AND t.typcategory <> 'A'
           UNION ALL SELECT 'operator', o.oid::regoperator::text FROM pg_operator o, r
               WHERE o.oprowner = r.oid AND o.oprnamespace IN (SELECT oid FROM n)
           ORDER BY 1, 2""",
        [role],
    )
    return cursor.fetchall()
