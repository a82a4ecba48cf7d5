"""Create or update the app's database role and its grants (core.db_roles).

Run as the owner (DATABASE_OWNER_URL, a role with CREATEROLE): the app's role
is DATABASE_URL's user, with DATABASE_URL's password; it may log in and
nothing more. `--check` only reports: it exits 1 when the app's role could
change or empty a protected table."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core.db_roles import app_privileges, app_role_ensure, app_user, as_owner, grants_apply, roles_split


class Command(BaseCommand):
    help = "Create or update the app's PostgreSQL role (DATABASE_URL) and its grants; --check reports them."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--check", action="store_true", help="Report the app role's grants; change nothing."
        )

    def handle(self, *args, database: str, check: bool, **options):
        if not roles_split(database):
            raise CommandError(
                "One role: set DATABASE_OWNER_URL (the schema's owner) beside DATABASE_URL (the app's role), "
                "on PostgreSQL, to split them."
            )
        role = app_user(database)
        if not check:
            password = (
                connections[database].settings_dict.get("PASSWORD") or None
            )  # the app's, before the switch
            with as_owner(database) as connection, connection.cursor() as cursor:
                created = app_role_ensure(cursor, role, password)
            grants_apply(database)
            self.stdout.write(f"role {role} {'created' if created else 'updated'}; grants applied")
        problems = app_privileges(database)
        for problem in problems:
            self.stderr.write(f"PROBLEM: {problem}")
        if problems:
            raise SystemExit(1)
        self.stdout.write(f"role {role}: reads and appends to the protected tables, changes none of them")
