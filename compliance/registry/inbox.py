"""Registry inboxes: files dropped in a source's folder (by the FTC download
or an operator) or uploaded in the admin are imported by the scheduled sync.

Layout of a source's inbox:

    <inbox>/                full files (one number per line), imported together
    <inbox>/changes/        change lists, imported after the full files
    <inbox>/processed/      files imported (or skipped: same checksum as an import)
    <inbox>/rejected/       files refused, each beside `<name>.reason.txt`

A file stays in the inbox until its import has committed: a worker killed
mid-import leaves it there, and the next run imports it again from the
start. Files still being written (modified in the last
REGISTRY_INBOX_SETTLE_SECONDS), hidden files and `*.part`/`*.tmp` are left
for a later run. One sync per source at a time: the source's row is locked
(NOWAIT) for the whole run, so an overlapping run skips a busy source.
"""

import logging
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from compliance.registry.formats import RegistryFileError, registry_files_checksum
from compliance.registry.models import RegistrySource, SyncRun
from compliance.registry.selectors import sync_run_get_succeeded
from compliance.registry.services import registry_file_import, sync_run_record_skipped

logger = logging.getLogger(__name__)

CHANGES = "changes"
PROCESSED = "processed"
REJECTED = "rejected"
# A run still "running" this long after it started, while nobody holds its
# source's lock, was cut off (a killed worker): it is marked failed.
INTERRUPTED_AFTER = timedelta(minutes=1)
INBOX_LOCK_CLASS = 0x4E43  # advisory lock namespace of inbox runs (key: source id)


@dataclass
class InboxReport:
    source: str
    imported: list[SyncRun] = field(default_factory=list)
    skipped: list[SyncRun] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    busy: bool = False


def registry_inbox_path(source: RegistrySource) -> Path:
    if source.inbox:
        return Path(source.inbox)
    return Path(settings.REGISTRY_INBOX_ROOT) / source.key.replace(":", "-")


def registry_inbox_files(source: RegistrySource) -> list[tuple[Path, bool]]:
    """(path, is a change list) of the files ready to import, full files
    first, each group by name (FTC files sort by date in their names)."""
    inbox = registry_inbox_path(source)
    settled_before = time.time() - settings.REGISTRY_INBOX_SETTLE_SECONDS
    found = []
    for folder, change_list in ((inbox, False), (inbox / CHANGES, True)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if (
                path.is_file()
                and not path.name.startswith(".")
                and path.suffix not in (".part", ".tmp")
                and not path.name.endswith(".reason.txt")
                and path.stat().st_mtime <= settled_before
            ):
                found.append((path, change_list))
    return found


def registry_upload_save(*, source: RegistrySource, name: str, chunks, change_list: bool) -> Path:
    """Write an uploaded file into the source's inbox, atomically (a `.part`
    file renamed when complete), so the sync never reads half of it."""
    folder = registry_inbox_path(source) / (CHANGES if change_list else "")
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".") or "upload.txt"
    target = folder / f"{timezone.now():%Y%m%dT%H%M%S}-{safe}"
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    partial.rename(target)
    return target


def registry_inbox_sync(*, by=None, trigger: str = SyncRun.Trigger.TASK) -> list[InboxReport]:
    """Import every settled file of every active source's inbox."""
    reports = []
    for source in RegistrySource.objects.filter(active=True).order_by("kind", "state"):
        reports.append(_source_sync(source, by=by, trigger=trigger))
    return reports


def _source_sync(source: RegistrySource, *, by, trigger: str) -> InboxReport:
    report = InboxReport(source=source.key)
    files = registry_inbox_files(source)
    if not files:
        return report
    with _inbox_lock(source) as acquired:
        if not acquired:
            logger.info("registry inbox of %s: another sync is working on it; left for it", source.key)
            report.busy = True
            return report
        _interrupted_runs_close(source)
        for path, change_list in files:
            _file_sync(source, path, change_list, report, by=by, trigger=trigger)
    return report


@contextmanager
def _inbox_lock(source: RegistrySource):
    """One inbox run per source at a time: a session-level advisory lock,
    released at the end or when the worker's connection dies (PostgreSQL;
    the SQLite demo runs one worker)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [INBOX_LOCK_CLASS, source.pk])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [INBOX_LOCK_CLASS, source.pk])


def _interrupted_runs_close(source: RegistrySource) -> None:
    """Runs left "running" by a dead import: an import holds its source's row
    lock until it commits, so if the lock is free, no import is under way."""
    now = timezone.now()
    with transaction.atomic():
        try:
            RegistrySource.objects.select_for_update(nowait=True).filter(pk=source.pk).first()
        except OperationalError:
            return  # an import (e.g. `dnc_import`) is running right now
        for run in SyncRun.objects.filter(
            source=source, status=SyncRun.Status.RUNNING, started_at__lt=now - INTERRUPTED_AFTER
        ):
            run.status = SyncRun.Status.FAILED
            run.finished_at = now
            run.error = (
                "Interrupted: the import stopped before it committed (the worker was stopped or killed). "
                "Nothing of it was applied; its file stays in the inbox and is imported again from the start."
            )
            run.save(update_fields=["status", "finished_at", "error"])
            logger.warning("registry import %s of %s was interrupted; marked failed", run.pk, source.key)


def _file_sync(source, path: Path, change_list: bool, report: InboxReport, *, by, trigger) -> None:
    previous = sync_run_get_succeeded(source=source, checksum=registry_files_checksum(paths=[path]))
    if previous is not None:
        report.skipped.append(
            sync_run_record_skipped(source=source, paths=[path], previous=previous, by=by, trigger=trigger)
        )
        _move(path, PROCESSED)
        return
    try:
        # Commits on its own (the run is visible, with progress, while it
        # runs); the file moves only after the import has committed.
        run = registry_file_import(
            source=source, paths=[path], change_list=change_list, by=by, trigger=trigger
        )
    except RegistryFileError as exc:
        report.rejected.append((path.name, str(exc)))
        moved = _move(path, REJECTED)
        moved.with_name(moved.name + ".reason.txt").write_text(f"{exc}\nSync run {exc.sync_run.pk}.\n")
        return
    report.imported.append(run)
    _move(path, PROCESSED)


def _move(path: Path, folder: str) -> Path:
    inbox = path.parent.parent if path.parent.name == CHANGES else path.parent
    target_dir = inbox / folder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{timezone.now():%Y%m%dT%H%M%S%f}-{path.name}"
    shutil.move(path, target)
    return target
