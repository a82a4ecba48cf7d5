from collections import Counter

import pytest

from compliance.registry import formats
from compliance.registry.formats import FileScan, full_file_read
from compliance.registry.storage import SqliteStore


def read_all(path) -> tuple[bytes, FileScan]:
    scan = FileScan([path])
    return b"".join(full_file_read(paths=[path], scan=scan)), scan


@pytest.mark.parametrize("block_size", [formats.BLOCK_SIZE, 5, 23, 100])
def test_layouts_normalise_to_canonical_lines_counted_per_area_code(tmp_path, monkeypatch, block_size):
    monkeypatch.setattr(formats, "BLOCK_SIZE", block_size)
    path = tmp_path / "f.txt"
    path.write_bytes(b"3055550000\n305,5550001\r\n\n \t2125550002 \n415,5550003")  # no final newline
    canonical, scan = read_all(path)
    assert canonical == b"3055550000\n3055550001\n2125550002\n4155550003\n"
    assert scan.area_codes == Counter({305: 2, 212: 1, 415: 1})
    assert (scan.lines, scan.numbers) == (5, 4)


def test_area_codes_are_counted_right_when_lines_are_not_grouped(tmp_path):
    numbers = [3055550000, 2125550000, 3055550001, 3055550002, 2125550001, 4155550000, 3055550003]
    path = tmp_path / "f.txt"
    path.write_text("".join(f"{n}\n" for n in numbers))
    _, scan = read_all(path)
    assert scan.area_codes == Counter({305: 4, 212: 2, 415: 1})


def test_a_line_without_a_break_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "MAX_LINE", 1000)
    path = tmp_path / "f.txt"
    path.write_bytes(b"3055550000\n" + b"9" * 5000)
    with pytest.raises(formats.RegistryFileError, match="line 2: line too long"):
        read_all(path)


@pytest.fixture
def own_sqlite_allowed(django_db_blocker):
    """The test opens its own SQLite database, not the suite's PostgreSQL one."""
    with django_db_blocker.unblock():
        yield


def test_the_sqlite_fallback_replaces_area_codes_and_applies_changes(tmp_path, own_sqlite_allowed):
    from django.db.backends.sqlite3.base import DatabaseWrapper

    from compliance.registry.migrations import __path__ as migrations_path  # noqa: F401
    from compliance.registry.models import RegistrySource  # noqa: F401

    sqlite = DatabaseWrapper({**_sqlite_settings(tmp_path)}, alias="registry_sqlite_test")
    with sqlite.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE registry_number (number integer NOT NULL, source_id integer NOT NULL, "
            "PRIMARY KEY (number, source_id)) WITHOUT ROWID"
        )
        cursor.execute("INSERT INTO registry_number VALUES (2125550000, 1), (3055550000, 1), (3055550009, 2)")

    full = tmp_path / "full.txt"
    full.write_text("3055550001\n3055550002\n3055550002\n")
    scan = FileScan([full])
    judged = []
    applied = SqliteStore(sqlite, source_id=1, run_id=1).full_replace(
        batches=full_file_read(paths=[full], scan=scan), scan=scan, guard=judged.append
    )
    assert (applied.added, applied.removed, dict(applied.area_codes)) == (2, 1, {305: 2})
    # What the shrink guard judges, per area code of the file: listed before, removed.
    assert judged == [applied]
    assert (dict(applied.before), dict(applied.removed_by_area_code)) == ({305: 1}, {305: 1})

    changes = tmp_path / "changes.txt"
    changes.write_text("3055550001,2024-05-01,D\n3055550005,2024-05-01,A\n2125550000,2024-05-01,A\n")
    scan = FileScan([changes])
    applied = SqliteStore(sqlite, source_id=1, run_id=2).changes_apply(
        batches=formats.change_list_read(paths=[changes], scan=scan), scan=scan
    )
    assert (applied.added, applied.removed) == (1, 1)
    with sqlite.cursor() as cursor:
        cursor.execute("SELECT number, source_id FROM registry_number ORDER BY 2, 1")
        assert cursor.fetchall() == [(2125550000, 1), (3055550002, 1), (3055550005, 1), (3055550009, 2)]
    sqlite.close()


def _sqlite_settings(tmp_path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / "registry.sqlite3"),
        "OPTIONS": {},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }
