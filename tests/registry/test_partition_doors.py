"""The registry's tables are the owner's (issue 15's known gap, compliance
migration 0012): the app's role loads and edits their rows, the owner's doors
make, index and swap the tables, and a deployment whose app role owned them
gets them rebuilt by `migrate`. Marked postgresql: the doors exist there only."""

import importlib
import pkgutil

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from psycopg import sql

import compliance.migrations
from compliance.registry.services import registry_file_import
from tests.owner import owner_powers
from tests.registry.conftest import numbers_of

pytestmark = pytest.mark.django_db

NY = [2125550000, 2125550001, 2125550002]


def _doors_migration():
    (name,) = [
        module.name
        for module in pkgutil.iter_modules(compliance.migrations.__path__)
        if module.name.endswith("_registry_partition_doors")
    ]
    return importlib.import_module(f"compliance.migrations.{name}")


def _owners_and_triggers(cursor) -> tuple[set[str], list[str]]:
    cursor.execute(
        "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relname LIKE 'registry_number%%'"
    )
    owners = {owner for (owner,) in cursor.fetchall()}
    cursor.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relname LIKE 'registry_number%%' AND NOT t.tgisinternal"
    )
    return owners, [name for (name,) in cursor.fetchall()]


def test_full_files_and_change_lists_leave_the_owners_tables_the_app_writes_rows_of(national, florida, write):
    registry_file_import(source=national, paths=[write("ny.txt", NY)])  # a new partition: rebuilt
    registry_file_import(source=national, paths=[write("ny-2.txt", NY[:2])])  # swapped in again
    registry_file_import(  # no partition yet: the door makes it
        source=florida, paths=[write("fl.txt", ["3055550009,2024-05-01,A"])], change_list=True
    )
    assert numbers_of(national) == set(NY[:2])
    assert numbers_of(florida) == {3055550009}
    with connection.cursor() as cursor:
        owners, triggers = _owners_and_triggers(cursor)
        assert owners == {settings.DATABASE_OWNER["USER"]} and triggers == []
        partition = sql.Identifier(f"registry_number_s{national.pk}")
        for statement in ("ALTER TABLE {} ADD COLUMN sneak int", "CREATE INDEX sneak ON {} (number)"):
            with pytest.raises(DatabaseError, match="must be owner"), transaction.atomic():
                cursor.execute(sql.SQL(statement).format(partition))


def test_the_doors_build_names_from_a_known_source_and_run_only(national):
    with connection.cursor() as cursor:
        for statement, params in (
            ("SELECT registry_partition_ensure(%s::smallint)", [32000]),
            ("SELECT registry_load_create(%s::smallint, %s)", [32000, 1]),
            ("SELECT registry_load_create(%s::smallint, %s)", [national.pk, 0]),
        ):
            with pytest.raises(DatabaseError, match="no registry source"), transaction.atomic():
                cursor.execute(statement, params)
        for door in ("registry_load_index", "registry_load_swap"):  # nothing made: nothing to index or swap
            with pytest.raises(DatabaseError, match=r"no (indexed )?load table"), transaction.atomic():
                cursor.execute(f"SELECT {door}(%s::smallint, %s)", [national.pk, 77])
        cursor.execute("SELECT registry_load_create(%s::smallint, %s)", [national.pk, 77])
        (load,) = cursor.fetchone()
        assert load == f"registry_number_s{national.pk}_run77"
        with pytest.raises(DatabaseError, match="registry_number_source"), transaction.atomic():
            cursor.execute(sql.SQL("INSERT INTO {} VALUES (2125550000, 1)").format(sql.Identifier(load)))


def test_migrate_rebuilds_a_registry_the_app_role_owned_without_what_it_hung_on_it(national, write):
    """A deployment from before the doors: the app's role owns the tables and
    has planted a trigger and an index. The migration's rebuild keeps the
    numbers and nothing else, and leaves the owner owning every table."""
    registry_file_import(source=national, paths=[write("ny.txt", NY)])
    app = sql.Identifier(connection.settings_dict["USER"])
    partition = sql.Identifier(f"registry_number_s{national.pk}")
    with owner_powers() as cursor:
        for table in (sql.Identifier("registry_number"), partition):
            cursor.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(table, app))
        cursor.execute(
            sql.SQL(
                "CREATE TRIGGER planted BEFORE INSERT ON {} FOR EACH ROW "
                "EXECUTE FUNCTION suppress_redundant_updates_trigger()"
            ).format(partition)
        )
        cursor.execute(sql.SQL("CREATE INDEX planted ON {} ((number + 1))").format(partition))
        assert _doors_migration().registry_tables_to_owner(cursor) == [f"registry_number_s{national.pk}"]
        owners, triggers = _owners_and_triggers(cursor)
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'registry_number%%' ORDER BY 1")
        indexes = [name for (name,) in cursor.fetchall()]
        cursor.execute("SELECT number FROM registry_number WHERE source_id = %s", [national.pk])
        numbers = {number for (number,) in cursor.fetchall()}  # the app's grants come after migrate
        assert _doors_migration().registry_tables_to_owner(cursor) == []  # once is enough
    assert owners == {settings.DATABASE_OWNER["USER"]} and triggers == []
    assert indexes == [f"registry_number_s{national.pk}_number"]
    assert numbers == set(NY)


def test_migrate_refuses_to_read_a_registry_column_the_app_role_retyped(national, write):
    """A domain's cast could run the app's code as the owner: the rebuild stops."""
    registry_file_import(source=national, paths=[write("ny.txt", NY)])
    app = sql.Identifier(connection.settings_dict["USER"])
    partition = sql.Identifier(f"registry_number_s{national.pk}")
    with owner_powers() as cursor:
        for table in (sql.Identifier("registry_number"), partition):
            cursor.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(table, app))
        cursor.execute("CREATE DOMAIN planted_number AS bigint")
        cursor.execute("ALTER TABLE registry_number ALTER COLUMN number TYPE planted_number")
        with pytest.raises(RuntimeError, match="another type"):
            _doors_migration().registry_tables_to_owner(cursor)
