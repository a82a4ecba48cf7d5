"""What issue 6's progress page and crash test rely on: while an import runs,
its run is visible as running with its progress, and its data is not."""

import itertools

import psycopg
import pytest
from django.db import connection

from compliance.registry import formats, services
from compliance.registry.services import registry_file_import, registry_source_ensure

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_running_import_shows_its_progress_to_others_but_not_its_data(write, registry_cleanup, monkeypatch):
    monkeypatch.setattr(formats, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(services, "PROGRESS_INTERVAL", 0)
    national = registry_source_ensure(key="national")
    registry_file_import(source=national, paths=[write("old.txt", [2125550000])])
    settings = connection.settings_dict
    seen = []

    def look(done, total):
        with psycopg.connect(
            dbname=settings["NAME"],
            host=settings["HOST"],
            port=settings["PORT"] or 5432,
            user=settings["USER"],
        ) as other:
            run = other.execute(
                "SELECT status, rows_done, rows_total FROM registry_syncrun ORDER BY id DESC LIMIT 1"
            ).fetchone()
            listed = {row[0] for row in other.execute("SELECT number FROM registry_number")}
        seen.append((done, run, listed))

    lines = [2125550000 + i for i in range(1, 2001)]
    run = registry_file_import(source=national, paths=[write("new.txt", lines)], progress=look)

    assert len(seen) > 3
    for (done, _, _), (_, (status, rows_done, _), listed) in itertools.pairwise(seen):
        assert status == "running"
        assert rows_done == done  # the previous report, committed by the side connection
        assert listed == {2125550000}  # the old data until the import commits
    assert seen[-1][0] == 2000
    run.refresh_from_db()
    assert (run.status, run.rows_done, run.rows_total) == ("succeeded", 2000, 2000)
