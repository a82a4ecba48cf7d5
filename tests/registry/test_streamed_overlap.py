"""A full file's added and removed counts, counted beside the COPY on a
second connection (compliance.registry.overlap) or, when that cannot be
exact, by joining the indexes afterwards: the same figures either way.

Transactional: the second connection only sees committed data, so the
streamed count is only used by an import that is the outermost transaction,
as `manage.py dnc_import` and the inbox task run it."""

import logging
import random
import threading

import pytest
from django.db import connection, transaction

from compliance.registry import formats
from compliance.registry.models import SyncRun
from compliance.registry.overlap import StreamedOverlap
from compliance.registry.services import registry_file_import, registry_source_ensure
from tests.registry.conftest import numbers_of

pytestmark = pytest.mark.django_db(transaction=True)

BESIDE, JOIN = "diff beside the COPY", "diff by join"


@pytest.fixture
def national(registry_cleanup):
    return registry_source_ensure(key="national")


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Batches of about 40 numbers: a file of hundreds is many ranges."""
    monkeypatch.setattr(formats, "BLOCK_SIZE", 512)


def sample(rng: random.Random, area_code: int, size: int) -> set[int]:
    return {area_code * 10_000_000 + number for number in rng.sample(range(2_000_000, 2_002_000), size)}


def import_logged(caplog, source, path, *, nested: bool = False) -> tuple[SyncRun, str]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="compliance.registry"):
        if nested:  # inside a caller's transaction: the second connection would not see it all
            with transaction.atomic():
                run = registry_file_import(source=source, paths=[path])
        else:
            run = registry_file_import(source=source, paths=[path])
    (line,) = [record.getMessage() for record in caplog.records if " of national (" in record.getMessage()]
    return run, line


@pytest.mark.parametrize("nested", [False, True], ids=["outermost", "nested"])
def test_both_ways_of_counting_give_the_exact_added_and_removed(national, write, caplog, nested):
    rng = random.Random(7)
    old = sample(rng, 212, 400) | sample(rng, 305, 300) | sample(rng, 415, 50)
    registry_file_import(source=national, paths=[write("old.txt", sorted(old))])
    # Next file: 212 and 305 only (415 stays as it is), half of it new.
    new = set(rng.sample(sorted(n for n in old if n // 10_000_000 != 415), 350)) | sample(rng, 212, 200)
    new |= sample(rng, 305, 150)
    lines = sorted(new)
    lines[100:100] = [lines[99]] * 3  # a number repeated, across a batch boundary or not

    run, logged = import_logged(caplog, national, write("new.txt", lines), nested=nested)

    in_file = {n for n in old if n // 10_000_000 in (212, 305)}
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.added, run.removed) == (len(new - in_file), len(in_file - new))
    assert run.number_count == len(new)
    assert numbers_of(national) == new | {n for n in old if n // 10_000_000 == 415}
    assert (JOIN if nested else BESIDE) in logged


def test_a_file_not_sorted_by_number_is_counted_by_join(national, write, caplog):
    registry_file_import(
        source=national, paths=[write("old.txt", [2125550000 + i for i in range(0, 400, 2)])]
    )
    lines = [2125550000 + i for i in range(300, 0, -1)]  # descending: batches overlap

    run, logged = import_logged(caplog, national, write("new.txt", lines))

    assert (run.added, run.removed) == (150, 50)
    assert JOIN in logged
    assert any("not sorted by number" in record.getMessage() for record in caplog.records)


def test_a_bad_line_late_in_the_file_changes_nothing_and_leaves_no_reader_behind(national, write):
    registry_file_import(source=national, paths=[write("old.txt", [2125550000 + i for i in range(500)])])
    before = numbers_of(national)
    threads = threading.active_count()
    lines = [str(2125550000 + i) for i in range(1000)] + ["212555x000"]

    with pytest.raises(formats.RegistryFileError, match="line 1001"):
        registry_file_import(source=national, paths=[write("bad.txt", lines)])

    assert numbers_of(national) == before
    assert threading.active_count() == threads
    assert SyncRun.objects.latest("pk").status == SyncRun.Status.FAILED


def test_a_failing_reader_gives_up_rather_than_hang_or_guess(db):
    """A query that fails on the second connection (here: no such table)
    leaves the count to the join, whatever the import still feeds."""
    overlap = StreamedOverlap(connection, partition="registry_number_no_such_partition")
    for start in range(0, 2000, 100):
        overlap.feed(b"".join(b"%d\n" % (2125550000 + start + i) for i in range(100)))
    assert overlap.finish() is None
    overlap.close()


def test_the_streamed_figures_are_per_area_code(national, write):
    registry_file_import(
        source=national, paths=[write("old.txt", [2125550000, 2125550001, 3055550000, 4155550000])]
    )
    overlap = StreamedOverlap(connection, partition=f"registry_number_s{national.pk}")
    overlap.feed(b"2125550001\n2125550002\n3055550000\n")

    stored, listed = overlap.finish()

    assert stored == {212: 2, 305: 1, 415: 1}
    assert listed == {212: 1, 305: 1}
