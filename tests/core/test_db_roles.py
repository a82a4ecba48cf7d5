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
from compliance.models import JurisdictionRule, RuleSetStamp
from compliance.registry.services import registry_source_ensure
from core.db_roles import PINNED_SEARCH_PATH, app_privileges, as_owner, definer_functions, protected_tables
from tests.owner import owner_powers

pytestmark = pytest.mark.django_db

PROTECTED = [
    "accounts_accesslog",
    "compliance_decisionchainlink",
    "compliance_decisioncheckpoint",
    "compliance_decisionlogpurge",
    "compliance_decisionrecord",
    "compliance_rndquery",
    "compliance_rulesetstamp",
]


@pytest.fixture
def national_partition(db) -> str:
    """The national source's partition, made by the owner's door as an import makes it."""
    source = registry_source_ensure(key="national")
    with connection.cursor() as cursor:
        cursor.execute("SELECT registry_partition_ensure(%s::smallint)", [source.pk])
    return f"registry_number_s{source.pk}"


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
        "accounts_access_log_redact(bigint[], text[], text[], text[])",
        "compliance_decision_log_erase(text[], text[])",
        "compliance_decision_log_purge(bigint[])",
        "compliance_rnd_erase(text[], text[])",
        "compliance_ruleset_stamp_bump()",
        "registry_load_create(smallint, bigint)",
        "registry_load_index(smallint, bigint)",
        "registry_load_swap(smallint, bigint)",
        "registry_partition_ensure(smallint)",
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


HMAC = "hmac:" + "ab12" * 16


def test_the_access_log_door_only_erases(agent):
    row = AccessLog.objects.create(
        user=agent, action="viewed consent evidence", target="+12127360601", path="/c/?q=1"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT accounts_access_log_redact(%s, %s, %s, %s)",
            [[row.pk], ["someone else"], ["/c/?q=2"], ["0601"]],
        )
        assert cursor.fetchone()[0] == 0  # neither an erasure's hash nor its mark: nothing changes
        cursor.execute(
            "SELECT accounts_access_log_redact(%s, %s, %s, %s)", [[row.pk], [HMAC], ["/c/?q=1"], ["0601"]]
        )
        assert cursor.fetchone()[0] == 1
    row.refresh_from_db()
    assert (row.target, row.path, row.action) == (HMAC, "/c/?q=1", "viewed consent evidence")


def test_the_access_log_door_changes_only_rows_that_name_the_person(agent):
    """The erasure's search terms travel with the rows: a row that holds none
    of them keeps its target and path, whatever the app sends; a target
    becomes only a keyed hash, and a term is four digits or an email."""
    other = AccessLog.objects.create(user=agent, action="viewed", target="+13055550177", path="/c/?q=0177")
    mine = AccessLog.objects.create(
        user=agent, action="viewed", target="+12127360601", path="/c/?n=2127360601"
    )
    redact = "SELECT accounts_access_log_redact(%s, %s, %s, %s)"
    with connection.cursor() as cursor:
        cursor.execute(redact, [[other.pk], [HMAC], ["/c/?q=(erased number)"], ["0601"]])
        assert cursor.fetchone()[0] == 0
        cursor.execute(redact, [[mine.pk], ["hmac:forged"], [mine.path], ["0601"]])
        assert cursor.fetchone()[0] == 0
        for terms in (["/c/?"], ["601"], [""]):
            with pytest.raises(DatabaseError, match="four digits or an email"), transaction.atomic():
                cursor.execute(redact, [[other.pk], [HMAC], [other.path], terms])
        cursor.execute(redact, [[mine.pk], [mine.target], ["/c/?n=(erased number)"], ["0601"]])
        assert cursor.fetchone()[0] == 1
    other.refresh_from_db()
    mine.refresh_from_db()
    assert (other.target, other.path) == ("+13055550177", "/c/?q=0177")
    assert (mine.target, mine.path) == ("+12127360601", "/c/?n=(erased number)")


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
    """The app may still create temporary objects, so a door must never find
    them: an operator planted for the column types its body compares would
    otherwise run as the owner. pg_temp, last in a door's search_path, is
    never searched for functions or operators."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION pg_temp.planted(varchar, varchar) RETURNS boolean LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'planted operator ran as %', current_user; END $$"
        )
        cursor.execute(
            "CREATE OPERATOR pg_temp.<> (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = pg_temp.planted)"
        )
        cursor.execute("SELECT compliance_decision_log_erase(ARRAY['+12127360601'], ARRAY['ab12'])")
        assert cursor.fetchone()[0] == 0
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE planted (id int)",
        "CREATE TABLE registry_number_s9999 PARTITION OF registry_number FOR VALUES IN (9999)",
        "CREATE VIEW planted AS SELECT 1 AS one",
        "CREATE SEQUENCE planted",
        "CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TYPE planted AS ENUM ('a')",
    ],
)
def test_the_app_role_cannot_create_in_the_schema(statement):
    _refused(statement)


def test_the_app_role_owns_nothing_and_cannot_hang_code_on_the_registry(national_partition):
    """The registry's partitions are the owner's (its doors make them): the
    app may read and write their rows, not plant a trigger, an index or a
    policy that would run as whoever writes or maintains them."""
    for statement in (
        "CREATE TRIGGER sneak BEFORE INSERT ON {} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "CREATE INDEX sneak ON {} ((number + 1))",
        "ALTER TABLE {} ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE {} ALTER COLUMN source_id SET DEFAULT 1",
        "DROP TABLE {}",
        "TRUNCATE {}",
    ):
        _refused(sql.SQL(statement).format(sql.Identifier(national_partition)))
    source_id = int(national_partition.removeprefix("registry_number_s"))
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("INSERT INTO {} (number, source_id) VALUES (2125550100, %s)").format(
                sql.Identifier(national_partition)
            ),
            [source_id],
        )
        cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(national_partition)))
        assert cursor.rowcount == 1
        cursor.execute(
            "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relname LIKE 'registry_number%%'"
        )
        assert cursor.fetchall() == [(settings.DATABASE_OWNER["USER"],)]
    assert not [problem for problem in app_privileges() if " owns " in problem or "CREATE" in problem]


def test_db_roles_check_names_a_create_right_and_an_owned_relation(national_partition):
    role = connection.settings_dict["USER"]
    with owner_powers() as cursor:  # rolled back with the test
        cursor.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        cursor.execute(
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(
                sql.Identifier(national_partition), sql.Identifier(role)
            )
        )
    code, problems = _check_problems()
    assert code == 1
    assert f"PROBLEM: {role} may CREATE in the schema" in problems
    assert f"PROBLEM: {role} owns relation {national_partition}" in problems


def test_the_app_role_only_reads_the_rule_set_stamp_which_the_rule_table_moves(compliance_officer):
    _refused("SELECT setval('compliance_ruleset_stamp_seq', 1)")
    _refused("SELECT nextval('compliance_ruleset_stamp_seq')")
    _refused("INSERT INTO compliance_rulesetstamp (id, version) VALUES (2, 1)")
    stamp = RuleSetStamp.objects.get().version
    rule = JurisdictionRule.objects.order_by("pk").first()
    rule.save()  # as the app's role, as the admin does: the owner's trigger moves the stamp
    assert RuleSetStamp.objects.get().version > stamp


def test_the_app_role_cannot_write_which_migrations_ran():
    _refused("INSERT INTO django_migrations (app, name, applied) VALUES ('compliance', '9999_x', now())")
    _refused("DELETE FROM django_migrations WHERE app = 'compliance'")


@pytest.mark.skipif(not settings.DATABASE_OWNER, reason="two roles need PostgreSQL and DATABASE_OWNER_URL")
def test_db_roles_runs_on_a_database_no_migration_has_touched():
    """A new install runs `db_roles` before the first `migrate` (schemathesis_ci.sh
    does): there is no django_migrations yet, and the command must still grant."""
    import os
    import subprocess
    import sys
    import uuid

    import psycopg

    owner, app = settings.DATABASE_OWNER, settings.DATABASES["default"]
    server = f"{owner['HOST'] or '127.0.0.1'}:{owner['PORT'] or 5432}"
    name = f"cd_fresh_{uuid.uuid4().hex[:12]}"
    admin = f"postgres://{owner['USER']}@{server}/postgres"
    with psycopg.connect(admin, autocommit=True) as admin_connection:
        admin_connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        env = dict(
            os.environ,
            DATABASE_OWNER_URL=f"postgres://{owner['USER']}@{server}/{name}",
            DATABASE_URL=f"postgres://{app['USER']}@{server}/{name}",
        )
        done = subprocess.run(
            [sys.executable, "manage.py", "db_roles"], env=env, capture_output=True, text=True, timeout=120
        )
        assert "grants applied" in done.stdout, done.stderr
        # The one problem left is the suite's own allowance (owner_powers' membership).
        assert [line for line in done.stderr.splitlines() if "is a member of" not in line] == []
        with psycopg.connect(env["DATABASE_OWNER_URL"]) as fresh:
            may_create, may_use = fresh.execute(
                "SELECT has_schema_privilege(%(r)s, 'public', 'CREATE'), "
                "has_schema_privilege(%(r)s, 'public', 'USAGE')",
                {"r": app["USER"]},
            ).fetchone()
        assert (may_create, may_use) == (False, True)
    finally:
        with psycopg.connect(admin, autocommit=True) as admin_connection:
            admin_connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
