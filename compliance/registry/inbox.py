"""Registry inboxes: files dropped in a source's folder (by the FTC download
or an operator) or uploaded in the admin are imported by the scheduled sync.

Layout of a source's inbox:

    <inbox>/                full files (one number per line), imported together
    <inbox>/changes/        change lists, imported after the full files
    <inbox>/processed/      files imported (or skipped: same checksum as an import)
    <inbox>/rejected/       files refused, each beside `<name>.reason.txt`
    <inbox>/pending/        full files held by the shrink guard (`ShrinkHold`), until a
                            second compliance officer approves (imported by the next
                            sync, then in processed/) or rejects them (rejected/)

Every inbox is a folder name below one root (see `compliance.registry.folders`);
symlinked files in an inbox are ignored.

A file stays in the inbox until its import has committed: a worker killed
mid-import leaves it there, and the next run imports it again from the
start. Files still being written (modified in the last
REGISTRY_INBOX_SETTLE_SECONDS), hidden files and `*.part`/`*.tmp` are left
for a later run. One sync per source at a time: the source's row is locked
(NOWAIT) for the whole run, so an overlapping run skips a busy source.
"""

import hashlib
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

from compliance.registry.folders import (
    CHANGES,
    PENDING,
    PROCESSED,
    REJECTED,
    RegistryInboxError,
    inside_root,
    registry_inbox_path,
    registry_inbox_root,
    registry_inbox_subfolder,
)
from compliance.registry.formats import RegistryFileError, registry_files_checksum
from compliance.registry.models import RegistrySource, ShrinkHold, SyncRun
from compliance.registry.selectors import (
    registry_upload_uploader,
    shrink_holds_approved_unapplied,
    sync_run_get_succeeded,
)
from compliance.registry.services import (
    RegistryShrinkHeld,
    registry_file_import,
    registry_upload_record,
    shrink_hold_apply,
    sync_run_record_skipped,
)

logger = logging.getLogger(__name__)

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
    held: list[ShrinkHold] = field(default_factory=list)  # by the shrink guard, for approval
    busy: bool = False
    error: str = ""  # the inbox is not a folder inside the root: nothing read


def registry_inbox_files(source: RegistrySource) -> list[tuple[Path, bool]]:
    """(path, is a change list) of the files ready to import, full files
    first, each group by name (FTC files sort by date in their names)."""
    inbox = registry_inbox_path(source)
    settled_before = time.time() - settings.REGISTRY_INBOX_SETTLE_SECONDS
    found = []
    for folder, change_list in ((inbox, False), (registry_inbox_subfolder(source, CHANGES), True)):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if (
                not path.is_symlink()
                and path.is_file()
                and not path.name.startswith(".")
                and path.suffix not in (".part", ".tmp")
                and not path.name.endswith(".reason.txt")
                and path.stat().st_mtime <= settled_before
            ):
                found.append((path, change_list))
    return found


def registry_upload_save(*, source: RegistrySource, name: str, chunks, change_list: bool, by=None) -> Path:
    """Write an uploaded file into the source's inbox, atomically (a `.part`
    file renamed when complete), so the sync never reads half of it, and
    record who uploaded it (the shrink guard needs a second person)."""
    if change_list:
        folder = registry_inbox_subfolder(source, CHANGES, create=True)
    else:
        folder = registry_inbox_path(source)
        folder.mkdir(parents=True, exist_ok=True)
        inside_root(registry_inbox_root(), folder)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".")[:100] or "upload.txt"
    target = folder / f"{timezone.now():%Y%m%dT%H%M%S}-{safe}"
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    # "x": never through a file (or symlink) that is already there.
    with partial.open("xb") as handle:
        for chunk in chunks:
            digest.update(chunk)
            handle.write(chunk)
    partial.rename(target)
    registry_upload_record(source=source, file_name=target.name, checksum=digest.hexdigest(), by=by)
    return target


def registry_inbox_sync(*, by=None, trigger: str = SyncRun.Trigger.TASK) -> list[InboxReport]:
    """Import every settled file of every active source's inbox."""
    reports = []
    for source in RegistrySource.objects.filter(active=True).order_by("kind", "state"):
        reports.append(_source_sync(source, by=by, trigger=trigger))
    return reports


def _source_sync(source: RegistrySource, *, by, trigger: str) -> InboxReport:
    report = InboxReport(source=source.key)
    try:
        for folder in (CHANGES, PROCESSED, REJECTED, PENDING):  # before anything is imported
            registry_inbox_subfolder(source, folder)
        files = registry_inbox_files(source)
    except RegistryInboxError as exc:
        logger.error("registry inbox of %s not synced: %s", source.key, exc)
        report.error = str(exc)
        return report
    if not files and not shrink_holds_approved_unapplied(source=source).exists():
        return report
    with _inbox_lock(source) as acquired:
        if not acquired:
            logger.info("registry inbox of %s: another sync is working on it; left for it", source.key)
            report.busy = True
            return report
        _interrupted_runs_close(source)
        for hold in shrink_holds_approved_unapplied(source=source):
            try:
                run = shrink_hold_apply(hold=hold, trigger=trigger)
            except RegistryFileError as exc:
                report.rejected.append((", ".join(hold.file_names), str(exc)))
                continue
            if run is not None:  # None: applied meanwhile by another delivery
                report.imported.append(run)
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
    checksum = registry_files_checksum(paths=[path])
    previous = sync_run_get_succeeded(source=source, checksum=checksum)
    if previous is not None:
        report.skipped.append(
            sync_run_record_skipped(source=source, paths=[path], previous=previous, by=by, trigger=trigger)
        )
        _move(source, path, PROCESSED)
        return
    if by is None:  # a file uploaded in the admin is the uploader's import
        uploader = registry_upload_uploader(source=source, checksum=checksum)
        if uploader is not None:
            by, trigger = uploader, SyncRun.Trigger.ADMIN
    try:
        # Commits on its own (the run is visible, with progress, while it
        # runs); the file moves only after the import has committed.
        run = registry_file_import(
            source=source, paths=[path], change_list=change_list, by=by, trigger=trigger
        )
    except RegistryShrinkHeld as exc:
        # Nothing applied; the service keeps a copy in pending/ for the approval.
        report.held.append(exc.hold)
        path.unlink()
        return
    except RegistryFileError as exc:
        report.rejected.append((path.name, str(exc)))
        moved = _move(source, path, REJECTED)
        reason = moved.with_name(moved.name + ".reason.txt")
        reason.unlink(missing_ok=True)  # never written through a link left there
        reason.write_text(f"{exc}\nSync run {exc.sync_run.pk if exc.sync_run else '?'}.\n")
        return
    report.imported.append(run)
    _move(source, path, PROCESSED)


def _move(source: RegistrySource, path: Path, folder: str) -> Path:
    target_dir = registry_inbox_subfolder(source, folder, create=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{timezone.now():%Y%m%dT%H%M%S%f}-{path.name}"
    shutil.move(path, target)
    return target
