"""Registry files dropped in an inbox are synced by the worker on beat's
schedule: imported, skipped when already imported, rejected with the bad
line, and never half-applied, even when the worker is killed mid-import."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from compliance.registry.inbox import registry_inbox_path, registry_inbox_sync, registry_upload_save
from compliance.registry.models import SyncRun
from compliance.registry.tasks import registry_inbox_sync_task
from config.celery import app
from tests.otp import login_with_otp
from tests.owner import app_process_env
from tests.registry.conftest import numbers_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inbox_root(settings, tmp_path):
    settings.REGISTRY_INBOX_ROOT = tmp_path / "inbox"
    settings.REGISTRY_INBOX_SETTLE_SECONDS = 0
    return settings.REGISTRY_INBOX_ROOT


def drop(source, name: str, numbers, *, changes: bool = False) -> Path:
    folder = registry_inbox_path(source) / ("changes" if changes else "")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(f"{line}\n" for line in numbers))
    return path


def wait_for(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)
    return result


@pytest.mark.django_db(transaction=True)
def test_the_worker_imports_a_file_dropped_in_the_inbox_and_files_it(inbox_root, national, registry_cleanup):
    path = drop(national, "dnc-2026-11-20.txt", [2125550000, 2125550001, 3055550000])
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        registry_inbox_sync_task.delay()
        run = wait_for(
            lambda: SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).first(),
            seconds=20,
            what="the worker's import",
        )
    assert numbers_of(national) == {2125550000, 2125550001, 3055550000}
    assert (run.trigger, run.added, run.area_codes) == ("task", 3, [212, 305])
    assert not path.exists()
    assert (registry_inbox_path(national) / "processed" / "dnc-2026-11-20.txt").exists()


def test_change_lists_apply_after_full_files_and_a_repeated_file_is_skipped(inbox_root, national):
    drop(national, "full.txt", [2125550000, 2125550001])
    drop(national, "delta.txt", ["2125550001,2026-11-21,D", "2125550002,2026-11-21,A"], changes=True)
    (report,) = registry_inbox_sync()
    assert [run.kind for run in report.imported] == ["full", "change_list"]
    assert numbers_of(national) == {2125550000, 2125550002}

    again = drop(national, "full-again.txt", [2125550000, 2125550001])  # the same bytes as full.txt
    (report,) = registry_inbox_sync()
    assert not report.imported
    (skipped,) = report.skipped
    assert skipped.status == SyncRun.Status.SKIPPED and "not imported again" in skipped.note
    assert numbers_of(national) == {2125550000, 2125550002}
    assert not again.exists()


def test_a_malformed_file_is_rejected_with_its_bad_line_and_changes_nothing(inbox_root, national):
    drop(national, "good.txt", [2125550000])
    registry_inbox_sync()
    bad = drop(national, "bad.txt", [3055550000, "305555000X", 3055550001])
    (report,) = registry_inbox_sync()
    assert not report.imported
    assert numbers_of(national) == {2125550000}
    run = SyncRun.objects.filter(status=SyncRun.Status.FAILED).get()
    assert "line 2" in run.error
    rejected = registry_inbox_path(national) / "rejected" / "bad.txt"
    assert rejected.exists() and not bad.exists()
    reason = rejected.with_name("bad.txt.reason.txt").read_text()
    assert "line 2" in reason and f"Sync run {run.pk}" in reason


def test_a_file_still_being_written_waits_for_the_next_run(inbox_root, national, settings):
    settings.REGISTRY_INBOX_SETTLE_SECONDS = 60
    drop(national, "downloading.txt", [2125550000])
    (report,) = registry_inbox_sync()
    assert not report.imported and not SyncRun.objects.exists()


def test_an_upload_lands_in_the_inbox_whole(inbox_root, national):
    path = registry_upload_save(
        source=national, name="../../etc/passwd", chunks=[b"2125550000\n", b"2125550001\n"], change_list=False
    )
    assert path.parent == registry_inbox_path(national)
    assert path.name.endswith("-passwd") and path.read_bytes() == b"2125550000\n2125550001\n"
    registry_inbox_sync()
    assert numbers_of(national) == {2125550000, 2125550001}


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_the_registry_as_it_was(
    inbox_root, national, tmp_path, registry_cleanup
):
    drop(national, "old.txt", [2125550000, 2125550001])
    registry_inbox_sync()
    new = drop(national, "new.txt", [2125550000 + i for i in range(2, 5002)])
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = app_process_env(
        CONSENTDESK_REGISTRY_INBOX=str(inbox_root),
        CONSENTDESK_REGISTRY_INBOX_SETTLE_SECONDS="0",
        CONSENTDESK_IMPORT_PAUSE_SECONDS="120",  # holds the import open just before it commits
    )
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue),
            *("--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"),
            *("--logfile", str(log)),
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        registry_inbox_sync_task.apply_async(queue=queue)
        wait_for(
            lambda: log.exists() and "pausing" in log.read_text(),
            seconds=60,
            what="the import to reach its commit",
        )
        running = SyncRun.objects.get(status=SyncRun.Status.RUNNING)
        assert running.rows_done == 5000  # every line read and written, not committed
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)

    assert numbers_of(national) == {2125550000, 2125550001}
    assert new.exists()  # still in the inbox

    # The next run (here, a minute later) closes the dead run and imports the file from the start.
    SyncRun.objects.filter(pk=running.pk).update(started_at=timezone.now() - timedelta(minutes=2))
    report = wait_for(
        lambda: (reports := registry_inbox_sync()) and not reports[0].busy and reports[0],
        seconds=20,
        what="the killed worker's session to end",
    )
    assert len(report.imported) == 1 and report.imported[0].rows_done == 5000
    assert numbers_of(national) == {2125550000 + i for i in range(2, 5002)}
    running.refresh_from_db()
    assert running.status == SyncRun.Status.FAILED and running.error.startswith("Interrupted")
    assert not new.exists()


def test_a_compliance_officer_uploads_a_file_into_the_inbox_from_the_admin(
    client, compliance_officer, inbox_root, national
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login_with_otp(client, compliance_officer)
    page = client.get(f"/admin/registry/registrysource/{national.pk}/change/")
    assert b"Upload a file" in page.content and str(registry_inbox_path(national)).encode() in page.content
    answer = client.post(
        f"/admin/registry/registrysource/{national.pk}/upload/",
        {"file": SimpleUploadedFile("dnc.txt", b"2125550000\n2125550001\n"), "change_list": ""},
    )
    assert answer.status_code == 302 and "/admin/registry/syncrun/" in answer["Location"]
    (uploaded,) = registry_inbox_path(national).iterdir()
    assert uploaded.read_bytes() == b"2125550000\n2125550001\n"
    registry_inbox_sync()
    assert numbers_of(national) == {2125550000, 2125550001}


def test_agents_cannot_upload_registry_files(client, agent, inbox_root, national):
    client.force_login(agent)
    answer = client.get(f"/admin/registry/registrysource/{national.pk}/upload/")
    assert answer.status_code in (302, 403)
    assert not registry_inbox_path(national).exists()
