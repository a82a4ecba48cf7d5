"""Two database roles (core.db_roles, issue 15): the suite connects as the
app's role, with production's grants. Every statement that would change or
empty a protected table, or switch its guards off, is refused by PostgreSQL
itself; what may change there goes through the owner's functions."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from accounts.models import AccessLog
from compliance.checks import db_roles_check
from core.db_roles import PINNED_SEARCH_PATH, as_owner, definer_functions, protected_tables
from tests.owner import owner_powers

pytestmark = pytest.mark.django_db

PROTECTED = [
    "accounts_accesslog",
    "compliance_decisionchainlink",
    "compliance_decisioncheckpoint",
    "compliance_decisionlogpurge",
    "compliance_decisionrecord",
    "compliance_rndquery",
]


def _refused(statement, params=None, match="permission denied|must be owner"):
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_the_protected_tables_are_those_of_the_issue():
    assert protected_tables() == PROTECTED


@pytest.mark.parametrize("table", PROTECTED)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {} SET id = id",
        "DELETE FROM {}",
        "TRUNCATE {}",
        "ALTER TABLE {} DISABLE TRIGGER ALL",
        "ALTER TABLE {} DROP COLUMN id",
        "CREATE TRIGGER sneak BEFORE DELETE ON {} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
    ],
)
def test_the_app_role_cannot_change_empty_or_unguard_a_protected_table(table, statement):
    _refused(sql.SQL(statement).format(sql.Identifier(table)))


def test_the_app_role_cannot_switch_triggers_off_for_its_session_nor_prop_the_old_purge_switch():
    _refused("SET session_replication_role = replica")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL consentdesk.retention_purge = 'on'")  # a session variable anyone may set
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cursor.execute("DELETE FROM compliance_decisionrecord")


def test_the_app_role_cannot_write_purge_runs_move_the_log_ids_or_replace_a_door():
    _refused(
        "INSERT INTO compliance_decisionlogpurge (bound, deleted, first_id, last_id, by_role) "
        "VALUES (now(), 0, 0, 0, 'me')"
    )
    _refused("SELECT setval('compliance_decisionrecord_id_seq', 1)")
    _refused(
        "CREATE OR REPLACE FUNCTION compliance_decision_log_purge(ids bigint[]) RETURNS bigint "
        "LANGUAGE sql AS 'SELECT 0::bigint'"
    )
    _refused("ALTER FUNCTION compliance_decision_log_purge(bigint[]) RESET search_path")


def test_the_app_role_appends_and_reads_the_protected_tables(agent):
    row = AccessLog.objects.create(
        user=agent, action="viewed consent evidence", target="+12127360601", path="/x"
    )
    assert AccessLog.objects.filter(pk=row.pk).exists()


def test_each_door_is_security_definer_with_a_pinned_search_path_and_closed_to_public():
    assert definer_functions() == [
        "accounts_access_log_redact(bigint[], text[], text[])",
        "compliance_decision_log_erase(text[])",
        "compliance_decision_log_purge(bigint[])",
        "compliance_rnd_erase(text[])",
    ]
    with connection.cursor() as cursor:
        for function in definer_functions():
            cursor.execute(
                """SELECT p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner) <> current_user,
                          has_function_privilege('public', p.oid, 'EXECUTE'),
                          has_function_privilege(current_user, p.oid, 'EXECUTE')
                   FROM pg_proc p WHERE p.oid = %s::regprocedure""",
                [function],
            )
            definer, config, owned_by_another, public, app = cursor.fetchone()
            assert definer and owned_by_another and app and not public, function
            assert config == [PINNED_SEARCH_PATH], (function, config)


def test_the_access_log_door_only_erases(agent):
    row = AccessLog.objects.create(
        user=agent, action="viewed consent evidence", target="+12127360601", path="/c/?q=1"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT accounts_access_log_redact(%s, %s, %s)",
            [[row.pk], ["someone else"], ["/c/?q=2"]],
        )
        assert cursor.fetchone()[0] == 0  # neither an erasure's hash nor its mark: nothing changes
        cursor.execute(
            "SELECT accounts_access_log_redact(%s, %s, %s)", [[row.pk], ["hmac:ab12"], ["/c/?q=1"]]
        )
        assert cursor.fetchone()[0] == 1
    row.refresh_from_db()
    assert (row.target, row.path, row.action) == ("hmac:ab12", "/c/?q=1", "viewed consent evidence")


def _check_problems() -> tuple[int, list[str]]:
    err = io.StringIO()
    try:
        call_command("db_roles", "--check", stdout=io.StringIO(), stderr=err)
    except SystemExit as exit_info:
        return int(exit_info.code or 0), err.getvalue().splitlines()
    return 0, err.getvalue().splitlines()


def test_db_roles_check_names_the_suites_one_allowance_and_a_stray_grant():
    """The suite's role differs from production's in one way only, its
    membership for owner_powers(); the check names that and nothing else."""
    role, owner = connection.settings_dict["USER"], settings.DATABASE_OWNER["USER"]
    assert _check_problems() == (1, [f"PROBLEM: {role} is a member of {owner} (it may SET ROLE to it)"])
    with owner_powers() as cursor:  # a grant slipped in by hand (rolled back with the test)
        cursor.execute(
            sql.SQL("GRANT DELETE ON compliance_decisionrecord TO {}").format(
                sql.Identifier(connection.settings_dict["USER"])
            )
        )
    code, problems = _check_problems()
    assert code == 1 and f"PROBLEM: {role} may DELETE compliance_decisionrecord" in problems


@pytest.mark.django_db(transaction=True)
def test_check_deploy_warns_when_the_process_connects_as_the_owner():
    assert db_roles_check(None) == []  # the app's role
    with as_owner():  # as migrate runs: the warning is for a web, worker or beat started so
        (warning,) = db_roles_check(None)
    assert warning.id == "compliance.W002" and "only as safe as the app" in warning.msg


def test_nothing_the_app_creates_stands_in_for_what_a_door_calls(db):
    """The app may create objects in the schema (the registry's partitions),
    so a door must never find them: an operator planted for the column types
    its body compares would otherwise run as the owner."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION planted(varchar, varchar) RETURNS boolean LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'planted operator ran as %', current_user; END $$"
        )
        cursor.execute("CREATE OPERATOR <> (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = planted)")
        cursor.execute("SELECT compliance_decision_log_erase(ARRAY['+12127360601'])")
        assert cursor.fetchone()[0] == 0
        transaction.set_rollback(True)


def test_the_app_role_cannot_write_which_migrations_ran():
    _refused("INSERT INTO django_migrations (app, name, applied) VALUES ('compliance', '9999_x', now())")
    _refused("DELETE FROM django_migrations WHERE app = 'compliance'")
