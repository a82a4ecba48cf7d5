import hashlib
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone

from compliance.registry import formats, services, storage
from compliance.registry.formats import RegistryFileError
from compliance.registry.models import AreaCodeSync, SyncRun
from compliance.registry.services import registry_file_import
from tests.registry.conftest import numbers_of, registry_snapshot

pytestmark = pytest.mark.django_db

NY = [2125550000, 2125550001, 2125550002]
FL = [3055550000, 3055550001, 3055550002]


@pytest.fixture(params=["rebuild", "in place"])
def method(request, monkeypatch):
    """Both ways a full file reaches PostgreSQL: a rebuilt and swapped
    partition, or in-place edits of the existing one."""
    monkeypatch.setattr(storage, "REBUILD_MIN_SHARE", 0 if request.param == "rebuild" else 10**9)
    return request.param


@pytest.fixture(params=[formats.BLOCK_SIZE, 7, 64])
def block_size(request, monkeypatch):
    """Real blocks, and tiny ones so that lines straddle block boundaries."""
    monkeypatch.setattr(formats, "BLOCK_SIZE", request.param)
    return request.param


def test_full_file_in_either_layout_replaces_only_its_area_codes_of_its_source(
    national, florida, write, method, block_size
):
    first = registry_file_import(source=national, paths=[write("national-1.txt", NY + FL)])
    florida_run = registry_file_import(source=florida, paths=[write("fl.txt", [3055550009])])
    # Comma layout, CRLF, blank lines and surrounding whitespace, all tolerated.
    replacement = write("national-2.txt", b"305,5550001\r\n\r\n  3055550005 \r\n305,5550006\r\n")
    second = registry_file_import(source=national, paths=[replacement])

    assert second.status == SyncRun.Status.SUCCEEDED
    assert numbers_of(national) == {*NY, 3055550001, 3055550005, 3055550006}
    assert numbers_of(florida) == {3055550009}
    assert (second.added, second.removed, second.number_count) == (2, 2, 3)
    assert second.area_codes == [305]
    assert second.rows_done == second.rows_total == 4
    syncs = {(s.source_id, s.area_code): s for s in AreaCodeSync.objects.all()}
    assert syncs[national.pk, 212].sync_run == first
    assert syncs[national.pk, 212].number_count == 3
    assert syncs[national.pk, 305].sync_run == second
    assert syncs[national.pk, 305].number_count == 3
    assert syncs[national.pk, 305].synced_at == second.started_at
    assert syncs[national.pk, 305].checksum == hashlib.sha256(replacement.read_bytes()).hexdigest()
    assert syncs[florida.pk, 305].sync_run == florida_run


def test_several_files_are_one_import(national, write, method):
    paths = [write("a.txt", NY), write("b.txt", FL)]
    run = registry_file_import(source=national, paths=paths)
    assert numbers_of(national) == {*NY, *FL}
    assert run.file_names == [str(path) for path in paths]
    assert run.checksum == hashlib.sha256(("".join(f"{n}\n" for n in NY + FL)).encode()).hexdigest()
    assert run.area_codes == [212, 305]


def test_numbers_repeated_in_a_full_file_are_stored_once(national, write, method):
    registry_file_import(source=national, paths=[write("seed.txt", [4155550000])])
    run = registry_file_import(source=national, paths=[write("dup.txt", [*NY, 2125550001, *NY])])
    assert numbers_of(national) == {*NY, 4155550000}
    assert run.number_count == 3
    assert AreaCodeSync.objects.get(source=national, area_code=212).number_count == 3


BAD_LINES = [
    ("0555550000", "area code 055"),
    ("1555550000", "area code 155"),
    ("3051550000", "exchange 155"),
    ("305555000", "9 digits"),
    ("30555500001", "11 digits"),
    ("305555OOOO", "not a 10-digit phone number"),
    ("305-555-0000", "not a 10-digit phone number"),
    ("number", "not a 10-digit phone number"),
    ("30,55550000", "not a 10-digit phone number"),
]


@pytest.mark.parametrize(("bad", "why"), BAD_LINES)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_bad_line_anywhere_changes_nothing_and_names_the_line(
    national, write, method, block_size, bad, why, where
):
    registry_file_import(source=national, paths=[write("before.txt", NY + FL)])
    before_numbers, before_syncs = registry_snapshot(), list(AreaCodeSync.objects.values())
    good = [3055550007 + i for i in range(40)]
    lines = {"first": [bad, *good], "middle": [*good[:20], bad, *good[20:]], "last": [*good, bad]}[where]
    path = write("bad.txt", lines)

    with pytest.raises(RegistryFileError) as caught:
        registry_file_import(source=national, paths=[path])

    line_no = lines.index(bad) + 1
    assert (caught.value.path, caught.value.line_no) == (path, line_no)
    assert why in caught.value.reason
    assert registry_snapshot() == before_numbers
    assert list(AreaCodeSync.objects.values()) == before_syncs
    run = caught.value.sync_run
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert f"{path}, line {line_no}: " in run.error
    assert why in run.error
    assert run.finished_at is not None


def test_a_bad_line_in_the_second_file_names_that_file(national, write):
    first, second = write("one.txt", NY), write("two.txt", [3055550000, "3055550000x"])
    with pytest.raises(RegistryFileError) as caught:
        registry_file_import(source=national, paths=[first, second])
    assert (caught.value.path, caught.value.line_no) == (second, 2)
    assert registry_snapshot() == set()


def test_a_bad_line_in_a_big_file_after_the_copy_started_changes_nothing(national, write, method):
    registry_file_import(source=national, paths=[write("before.txt", FL)])
    lines = [2022000000 + i for i in range(300_000)] + ["2029999999999"]
    with pytest.raises(RegistryFileError) as caught:
        registry_file_import(source=national, paths=[write("big.txt", lines)])
    assert caught.value.line_no == 300_001
    assert registry_snapshot() == {(n, national.pk) for n in FL}


def test_an_empty_full_file_is_refused(national, write):
    registry_file_import(source=national, paths=[write("before.txt", NY)])
    with pytest.raises(RegistryFileError, match="no numbers"):
        registry_file_import(source=national, paths=[write("empty.txt", "\n\n")])
    assert numbers_of(national) == set(NY)


def test_a_missing_file_fails_the_run(national, tmp_path):
    with pytest.raises(RegistryFileError, match="cannot be read"):
        registry_file_import(source=national, paths=[tmp_path / "missing.txt"])
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED


def test_change_list_adds_and_deletes_the_latest_change_winning(national, write):
    registry_file_import(source=national, paths=[write("full.txt", NY + FL)])
    before = AreaCodeSync.objects.get(source=national, area_code=305)
    changes = write(
        "changes.txt",
        [
            "3055550009,2024-05-01,A",  # new
            "305,5550000,05/02/2024,D",  # AAA,NNNNNNN layout, US date
            " 3055550001 , 20240502 , d ",  # spaces, compact date, lowercase
            "3055550002,2024-05-03,D",
            "3055550002,2024-05-02,A",  # older than the delete above: the delete wins
            "2125550000,2024-05-01,A",  # already listed
            "3125550000,2024-05-01,A",  # area code never synced by a full file
            "",
        ],
    )
    run = registry_file_import(source=national, paths=[changes], change_list=True)

    assert numbers_of(national) == {*NY, 3055550009, 3125550000}
    assert (run.kind, run.added, run.removed, run.number_count) == ("change_list", 2, 3, 7)
    assert run.area_codes == [212, 305, 312]
    after = AreaCodeSync.objects.get(source=national, area_code=305)
    assert after.sync_run == run
    assert after.synced_at == run.started_at > before.synced_at
    assert after.number_count == 1
    assert AreaCodeSync.objects.get(source=national, area_code=212).sync_run == run
    assert not AreaCodeSync.objects.filter(area_code=312).exists()
    assert "312" in run.note


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("3055550000,2024-05-01,X", "neither A (add) nor D"),
        ("3055550000,2024-02-30,A", "is not a date"),
        ("3055550000,2024/05/01,A", "is not a date"),
        ("3055550000,A", "expected number,date,action"),
        ("305555000,2024-05-01,A", "9 digits"),
        ("1055550000,2024-05-01,A", "area code 105"),
        ("3055550000", "expected number,date,action"),
    ],
)
def test_a_bad_change_list_line_changes_nothing(national, write, line, why):
    registry_file_import(source=national, paths=[write("full.txt", FL)])
    changes = write("changes.txt", ["3055550009,2024-05-01,A", line])
    with pytest.raises(RegistryFileError) as caught:
        registry_file_import(source=national, paths=[changes], change_list=True)
    assert caught.value.line_no == 2
    assert why in caught.value.reason
    assert numbers_of(national) == set(FL)


def test_a_change_list_for_a_new_source_syncs_no_area_code(florida, write):
    run = registry_file_import(
        source=florida, paths=[write("c.txt", ["3055550000,2024-05-01,A"])], change_list=True
    )
    assert numbers_of(florida) == {3055550000}
    assert run.added == 1
    assert not AreaCodeSync.objects.exists()


def test_progress_is_reported_and_recorded(national, write, monkeypatch):
    monkeypatch.setattr(formats, "BLOCK_SIZE", 64)
    monkeypatch.setattr(services, "PROGRESS_INTERVAL", 0)
    calls = []
    run = registry_file_import(
        source=national,
        paths=[write("f.txt", [2125550000 + i for i in range(100)])],
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (0, 100)
    assert calls[-1] == (100, 100)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) > 10
    assert (run.rows_done, run.rows_total) == (100, 100)


def test_the_import_uses_copy_on_postgresql(national, write, monkeypatch, method):
    statements = []
    original = psycopg.Cursor.copy

    def spy(self, statement, *args, **kwargs):
        statements.append(str(statement))
        return original(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    registry_file_import(source=national, paths=[write("seed.txt", [4155550000])])
    registry_file_import(source=national, paths=[write("f.txt", NY)])
    registry_file_import(
        source=national, paths=[write("c.txt", ["2125550009,2024-05-01,A"])], change_list=True
    )
    assert len(statements) == 3
    assert all(statement.startswith("COPY ") and "FROM STDIN" in statement for statement in statements)


def test_the_pause_hook_sleeps_before_commit(national, write, monkeypatch):
    slept = []
    monkeypatch.setenv(services.PAUSE_ENV, "2.5")
    monkeypatch.setattr(services.time, "sleep", lambda seconds: slept.append((seconds, numbers_of(national))))
    registry_file_import(source=national, paths=[write("f.txt", NY)])
    assert slept == [(2.5, set(NY))]  # after everything is applied, inside the transaction


def test_history_and_trigger_are_recorded(national, write, compliance_officer):
    run = registry_file_import(
        source=national, paths=[write("f.txt", NY)], by=compliance_officer, trigger=SyncRun.Trigger.ADMIN
    )
    assert (run.triggered_by, run.trigger) == (compliance_officer, "admin")
    assert run.duration == run.finished_at - run.started_at
    assert run.finished_at - run.started_at < timedelta(minutes=1)
    assert run.started_at <= timezone.now()
