"""Registry writes: importing registry files (`registry_file_import`), and the
sources they belong to.

An import is recorded by a `SyncRun` committed when it starts (`running`), its
progress (rows done of rows total) written outside the import's transaction
so that a page can show it; the data and the run's outcome commit together,
in one transaction, or not at all.
"""

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from compliance.registry.folders import PENDING, PROCESSED, REJECTED, registry_inbox_subfolder
from compliance.registry.formats import (
    FileScan,
    RegistryFileError,
    change_list_read,
    full_file_read,
    registry_files_checksum,
)
from compliance.registry.models import (
    AreaCodeSync,
    RegistrySource,
    RegistryUpload,
    ShrinkHold,
    SyncRun,
)
from compliance.registry.sources import source_kind_parse
from compliance.registry.storage import Applied, store_for
from core.history import history_save, history_user

logger = logging.getLogger(__name__)
_Batch = TypeVar("_Batch")  # what a reader yields: a full file's bytes, a change list's changes

# Test hook (issue 6's crash test): seconds to sleep once everything is
# applied, just before the import's transaction commits. Killing the process
# during the pause must leave the registry exactly as it was. Note that after
# a partition swap the pause holds the lock of the swap: lookups wait for it.
PAUSE_ENV = "CONSENTDESK_IMPORT_PAUSE_SECONDS"
PROGRESS_INTERVAL = 0.5  # seconds between two progress writes


class RegistryShrinkHeld(Exception):
    """A full file held by the shrink guard: nothing applied; `hold` is the
    pending ShrinkHold (its files copied into the inbox's pending/ folder),
    `sync_run` the run, recorded as held."""

    def __init__(self, *, hold: ShrinkHold, sync_run: SyncRun):
        self.hold = hold
        self.sync_run = sync_run
        super().__init__(str(self))

    def __str__(self) -> str:
        return shrink_hold_describe(hold=self.hold)


@dataclass(frozen=True)
class ShrinkWaiver:
    """Apply a full file even if the shrink guard would hold it: a second
    compliance officer's approval of `hold`, or (no hold) the command line's
    `--approve-shrink`, recorded as an approved ShrinkHold if it mattered."""

    reason: str
    by: AbstractBaseUser | None = None
    hold: ShrinkHold | None = None


class _Held(Exception):
    def __init__(self, shrunk: dict[str, dict[str, int]], method: str):
        self.shrunk = shrunk
        self.method = method


def shrink_exceeded(*, before, removed, after) -> dict[str, dict[str, int]]:
    """The area codes (as text keys, for JSON) a full file shrinks too much:
    those listing at least REGISTRY_SHRINK_FLOOR numbers before it, of which
    it removes more than REGISTRY_SHRINK_LIMIT (a share), with their counts."""
    limit, floor = settings.REGISTRY_SHRINK_LIMIT, settings.REGISTRY_SHRINK_FLOOR
    return {
        str(code): {"before": count, "after": after.get(code, 0), "removed": removed.get(code, 0)}
        for code, count in sorted(before.items())
        if count >= floor and removed.get(code, 0) > limit * count
    }


def shrink_hold_describe(*, hold: ShrinkHold) -> str:
    codes = "; ".join(
        f"area code {code}: {counts['removed']} of {counts['before']} numbers removed "
        f"({counts['removed'] * 100 // max(counts['before'], 1)}%), {counts['after']} left"
        for code, counts in hold.area_codes.items()
    )
    return (
        f"Held for approval (shrink guard #{hold.pk}): the file would remove more than "
        f"{settings.REGISTRY_SHRINK_LIMIT:.0%} of the numbers of an area code holding at least "
        f"{settings.REGISTRY_SHRINK_FLOOR} ({codes}). Nothing was changed; a second compliance officer "
        f'approves or rejects it on the audit page, or `dnc_import --approve-shrink "why"` applies it.'
    )


def registry_source_ensure(*, key: str, by: AbstractBaseUser | None = None, name: str = "") -> RegistrySource:
    """The source named by `key` ("national", "state:FL" or "litigator"), created (with
    history naming `by`) if it does not exist yet. ValueError on a bad key."""
    kind, state = source_kind_parse(key)
    default_name = {
        RegistrySource.Kind.NATIONAL: "National DNC Registry",
        RegistrySource.Kind.STATE: f"{state} state do-not-call list",
        RegistrySource.Kind.LITIGATOR: "Litigator list",
    }[RegistrySource.Kind(kind)]
    source = RegistrySource.objects.filter(kind=kind, state=state).first()
    if source is not None:
        return source
    source = RegistrySource(kind=kind, state=state, name=name or default_name)
    source.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            return history_save(source, by=history_user(by), reason="registry source created for an import")
    except IntegrityError:  # created meanwhile by another process
        return RegistrySource.objects.get(kind=kind, state=state)


def registry_file_import(
    *,
    source: RegistrySource,
    paths: Sequence[Path],
    change_list: bool = False,
    by: AbstractBaseUser | None = None,
    trigger: str = SyncRun.Trigger.COMMAND,
    progress: Callable[[int, int], None] | None = None,
    shrink_waiver: ShrinkWaiver | None = None,
) -> SyncRun:
    """Import registry files for `source` (see `compliance.registry.formats`
    for the exact layouts) and return the succeeded SyncRun.

    The whole input is validated, in one streaming pass, before anything
    visible changes: it is loaded into a table of its own (COPY on
    PostgreSQL) as it is read, and applied only once the last line has been
    checked. A bad line rolls everything back, records the run as failed with
    the file, line and reason, and raises RegistryFileError (whose
    `sync_run` attribute is the failed run). All of it is one transaction: a
    process killed mid-import leaves the previous data exactly as it was (its
    run stays `running`; its transaction is rolled back by the database).

    Full files replace the numbers of the area codes they contain, and only
    those, for this source, and mark those area codes synced at the import's
    start (`AreaCodeSync`, conservative: the copy is at least that old).

    Change lists add (`A`) and delete (`D`) numbers; for a number changed more
    than once the latest change wins (by date, then by position). A change
    list refreshes the sync time of the area codes it contains that a full
    file has already synced for this source: applying the daily delta keeps
    such a copy current, as the FTC intends. It never marks an area code
    synced that no full file has: a delta alone is not a copy of the
    registry, so such area codes stay "never synced" (the run's note lists
    them) and calls into them stay blocked as `dnc_data_stale`.

    `progress(rows_done, rows_total)` is called as lines are read (at most
    every half second, and once at the end); `rows_total` is extrapolated
    from the bytes read until the files are read whole. The same figures go
    to the run's `rows_done` and `rows_total`, committed at once (through a
    second database connection) when the import is not nested in a caller's
    transaction.

    Shrink guard: a full file that would remove more than
    REGISTRY_SHRINK_LIMIT of the numbers of any area code holding at least
    REGISTRY_SHRINK_FLOOR is not applied, whole: the counts are known once
    the file is loaded, before the new data is swapped in, so the guard
    rolls the import back, records the run as `held`, copies the files into
    the inbox's `pending/` folder with a pending `ShrinkHold`, and raises
    RegistryShrinkHeld. `shrink_waiver` applies such a file anyway (an
    approval), and records the waiver with the data. Written against the
    source, whatever its kind.

    Serialised per source (the source row is locked for the import).
    """
    paths = [Path(path) for path in paths]
    if not paths:
        raise ValueError("No registry file given.")
    run = SyncRun.objects.create(
        source=source,
        file_names=[str(path) for path in paths],
        kind=SyncRun.Kind.CHANGE_LIST if change_list else SyncRun.Kind.FULL,
        started_at=timezone.now(),
        status=SyncRun.Status.RUNNING,
        triggered_by=history_user(by),
        trigger=trigger,
    )
    reporter = _ProgressReporter(run, progress)
    waived: dict[str, dict[str, int]] = {}

    def guard(applied: Applied) -> None:
        shrunk = shrink_exceeded(
            before=applied.before, removed=applied.removed_by_area_code, after=applied.area_codes
        )
        if shrunk and shrink_waiver is None:
            raise _Held(shrunk, applied.method)
        waived.update(shrunk)

    scan = None
    try:
        scan = FileScan(paths)
        reporter.start(scan)
        outermost = not transaction.get_connection().in_atomic_block
        with transaction.atomic():
            RegistrySource.objects.select_for_update().filter(pk=source.pk).first()
            store = store_for(
                transaction.get_connection(), source_id=source.pk, run_id=run.pk, outermost=outermost
            )
            if change_list:
                changes = change_list_read(paths=paths, scan=scan, progress=reporter)
                applied = store.changes_apply(batches=_read_to_end(changes, reporter, scan), scan=scan)
            else:
                numbers = _not_empty(full_file_read(paths=paths, scan=scan, progress=reporter), scan, paths)
                applied = store.full_replace(
                    batches=_read_to_end(numbers, reporter, scan), scan=scan, guard=guard
                )
            duration = _run_succeed(run, scan=scan, applied=applied, change_list=change_list)
            if shrink_waiver is not None:
                _shrink_waiver_record(run, waiver=shrink_waiver, shrunk=waived, paths=paths)
            logger.info(
                "registry import %s of %s (%s): %s added, %s removed, %s area code(s), %.1f s",
                run.pk,
                source.key,
                applied.method,
                run.added,
                run.removed,
                len(run.area_codes),
                duration.total_seconds(),
            )
            _pause_for_crash_tests(run)
    except _Held as held:
        assert scan is not None  # the guard holds a file once it has been read
        try:
            hold = _shrink_hold_create(
                run, scan=scan, paths=paths, shrunk=held.shrunk, by=history_user(by), method=held.method
            )
        except BaseException as exc:
            _run_fail(run, exc)
            raise
        raise RegistryShrinkHeld(hold=hold, sync_run=run) from None
    except BaseException as exc:
        _run_fail(run, exc)
        raise
    finally:
        reporter.close()
    return run


def _shrink_hold_create(
    run: SyncRun, *, scan: FileScan, paths: list[Path], shrunk, by, method: str
) -> ShrinkHold:
    """Keep a held file for its approval: copies in the inbox's pending/
    folder, a pending ShrinkHold, and the run recorded as held."""
    folder = registry_inbox_subfolder(run.source, PENDING, create=True)
    stamp = f"{timezone.now():%Y%m%dT%H%M%S}-run{run.pk}"
    names = []
    for position, path in enumerate(paths):
        name = f"{stamp}-{position}-{path.name}"[:200]
        shutil.copyfile(path, folder / name)
        names.append(name)
    now = timezone.now()
    with transaction.atomic():
        hold = ShrinkHold(
            source=run.source,
            file_names=names,
            original_names=[str(path) for path in paths],
            checksum=scan.checksum,
            area_codes=shrunk,
            held_run=run,
            uploaded_by=by,
        )
        history_save(hold, by=by, reason="held by the shrink guard")
        run.status = SyncRun.Status.HELD
        run.checksum = scan.checksum
        run.area_codes = sorted(scan.area_codes)
        run.number_count = scan.numbers
        run.rows_done = run.rows_total = scan.lines
        run.finished_at = now
        run.duration = now - run.started_at
        run.error = shrink_hold_describe(hold=hold)
        run.save()
    logger.warning("registry import %s of %s (%s) held: %s", run.pk, run.source.key, method, run.error)
    return hold


def _shrink_waiver_record(run: SyncRun, *, waiver: ShrinkWaiver, shrunk, paths: list[Path]) -> None:
    """In the import's transaction: the approved hold gets its import; a
    command-line waiver that let a shrinking file through is recorded as an
    approved hold of its own."""
    by = history_user(waiver.by)
    hold = waiver.hold
    if hold is None and not shrunk:
        return
    if hold is not None:
        # Two imports of one approval (the sync and the command line at once): the second rolls back.
        hold = ShrinkHold.objects.select_for_update().get(pk=hold.pk)
        if hold.applied_run_id:
            raise RuntimeError(
                f"shrink hold #{hold.pk} was already imported by sync run {hold.applied_run_id}"
            )
    if hold is None:
        hold = ShrinkHold(
            source=run.source,
            original_names=[str(path) for path in paths],
            checksum=run.checksum,
            area_codes=shrunk,
            uploaded_by=by,
            status=ShrinkHold.Status.APPROVED,
            decided_by=by,
            decided_at=timezone.now(),
            reason=waiver.reason,
        )
    hold.applied_run = run
    history_save(hold, by=by, reason=f"applied with the shrink guard waived: {waiver.reason}"[:100])
    run.note = "\n".join(
        filter(
            None,
            [
                run.note,
                f"Shrink guard waived (hold #{hold.pk}) by {by or 'the command line'}: {waiver.reason}",
            ],
        )
    )
    run.save(update_fields=["note"])


def registry_upload_record(*, source: RegistrySource, file_name: str, checksum: str, by) -> RegistryUpload:
    return RegistryUpload.objects.create(
        source=source, file_name=file_name, checksum=checksum, uploaded_by=history_user(by)
    )


@transaction.atomic
def shrink_hold_decide(*, hold: ShrinkHold, by: User | None, approve: bool, reason: str) -> ShrinkHold:
    """Approve or reject a pending hold, with a reason, as a person other
    than the one who uploaded or triggered it (history records it). An
    approved hold is imported by the next inbox sync (`shrink_hold_apply`;
    the caller may queue one on commit); a rejection moves the files to the
    inbox's rejected/ folder. ValidationError, per field, when it may not
    be decided so."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: the reason is kept with the decision."})
    hold = ShrinkHold.objects.select_for_update().get(pk=hold.pk)
    if hold.status != ShrinkHold.Status.PENDING:
        raise ValidationError({"status": f"This hold is already {hold.get_status_display().lower()}."})
    by = history_user(by)
    if by is not None and hold.uploaded_by_id == by.pk:
        raise ValidationError(
            {
                "decided_by": "A second compliance officer decides: not the one who uploaded or triggered the file."
            }
        )
    hold.status = ShrinkHold.Status.APPROVED if approve else ShrinkHold.Status.REJECTED
    hold.decided_by = by
    hold.decided_at = timezone.now()
    hold.reason = reason
    history_save(hold, by=by, reason=("approved: " if approve else "rejected: ") + reason[:80])
    if not approve:
        transaction.on_commit(lambda: _hold_files_file(hold, folder=REJECTED))
    return hold


def shrink_hold_apply(*, hold: ShrinkHold, trigger: str = SyncRun.Trigger.TASK) -> SyncRun | None:
    """Import an approved hold's files (once: a second delivery finds it
    applied and does nothing) and file them under processed/. The files
    must still have the checksum they were held with."""
    hold = ShrinkHold.objects.select_related("source", "decided_by").get(pk=hold.pk)
    if hold.status != ShrinkHold.Status.APPROVED or hold.applied_run_id:
        return None
    folder = registry_inbox_subfolder(hold.source, PENDING)
    paths = [folder / name for name in hold.file_names]
    if registry_files_checksum(paths=paths) != hold.checksum:
        raise RegistryFileError(
            path=paths[0], line_no=None, reason="changed since it was held (SHA-256 differs); not imported"
        )
    run = registry_file_import(
        source=hold.source,
        paths=paths,
        by=hold.decided_by,
        trigger=trigger,
        shrink_waiver=ShrinkWaiver(reason=hold.reason, by=hold.decided_by, hold=hold),
    )
    _hold_files_file(hold, folder=PROCESSED)
    return run


def _hold_files_file(hold: ShrinkHold, *, folder: str) -> None:
    pending = registry_inbox_subfolder(hold.source, PENDING)
    target = registry_inbox_subfolder(hold.source, folder, create=True)
    for name in hold.file_names:
        if (pending / name).is_file():
            shutil.move(pending / name, target / name)


def sync_run_record_skipped(
    *,
    source: RegistrySource,
    paths: Sequence[Path],
    previous: SyncRun,
    by: AbstractBaseUser | None = None,
    trigger: str = SyncRun.Trigger.TASK,
) -> SyncRun:
    """Record that files already imported (same checksum as `previous`,
    see `selectors.sync_run_get_succeeded`) were not imported again."""
    now = timezone.now()
    return SyncRun.objects.create(
        source=source,
        file_names=[str(path) for path in paths],
        checksum=previous.checksum,
        kind=previous.kind,
        area_codes=previous.area_codes,
        started_at=now,
        finished_at=now,
        duration=now - now,
        status=SyncRun.Status.SKIPPED,
        note=f"Same files (SHA-256) as sync run {previous.pk}, which succeeded; not imported again.",
        triggered_by=history_user(by),
        trigger=trigger,
    )


def _read_to_end(
    batches: Iterator[_Batch], reporter: "_ProgressReporter", scan: FileScan
) -> Iterator[_Batch]:
    """Reports the last progress as soon as the files are read, before the
    store swaps data in (which locks the table against readers until commit):
    a progress callback that reads the registry must not wait on its own import."""
    yield from batches
    reporter.finish(scan)


def _not_empty(batches: Iterator[bytes], scan: FileScan, paths: list[Path]) -> Iterator[bytes]:
    """The batches, then an error if there were none: an empty full file is
    a failed download, not a registry without numbers."""
    yield from batches
    if not scan.numbers:
        raise RegistryFileError(
            path=paths[-1], line_no=None, reason="no numbers in the file(s); a full file lists at least one"
        )


def _run_succeed(run: SyncRun, *, scan: FileScan, applied: Applied, change_list: bool) -> timedelta:
    """Record the run as succeeded; returns its duration."""
    now = timezone.now()
    area_codes = sorted(scan.area_codes)
    run.checksum = scan.checksum
    run.area_codes = area_codes
    run.added, run.removed = applied.added, applied.removed
    run.number_count = scan.numbers if change_list else sum(applied.area_codes.values())
    run.rows_done = run.rows_total = scan.lines
    if change_list:
        unsynced = _area_codes_refresh(run, area_codes=area_codes, deltas=applied.area_codes)
        if unsynced:
            run.note = (
                "Area codes never synced by a full file stay unsynced (a change list is not a copy of "
                f"the registry): {', '.join(map(str, unsynced))}."
            )
    else:
        _area_codes_replace(run, applied=applied, area_codes=area_codes)
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = now
    run.duration = duration = now - run.started_at
    run.save()
    return duration


def _area_codes_replace(run: SyncRun, *, applied: Applied, area_codes: list[int]) -> None:
    AreaCodeSync.objects.bulk_create(
        [
            AreaCodeSync(
                source_id=run.source_id,
                area_code=area_code,
                synced_at=run.started_at,
                number_count=applied.area_codes.get(area_code, 0),
                checksum=run.checksum,
                sync_run=run,
                last_full_removed=applied.removed_by_area_code.get(area_code, 0),
                last_full_before=applied.before.get(area_code, 0),
            )
            for area_code in area_codes
        ],
        update_conflicts=True,
        unique_fields=["source", "area_code"],
        update_fields=[
            "synced_at",
            "number_count",
            "checksum",
            "sync_run",
            "last_full_removed",
            "last_full_before",
        ],
    )


def _area_codes_refresh(run: SyncRun, *, area_codes: list[int], deltas) -> list[int]:
    """Refresh the area codes a full file has synced; return the others.

    One UPDATE for all of them (a daily change list touches hundreds of area
    codes: bulk_update's per-row CASE expressions cost more than the changes)."""
    synced = dict(
        AreaCodeSync.objects.select_for_update()
        .filter(source_id=run.source_id, area_code__in=area_codes)
        .values_list("area_code", "number_count")
    )
    if synced:
        counts = {code: max(0, count + deltas.get(code, 0)) for code, count in synced.items()}
        connection = connections[AreaCodeSync.objects.db]
        meta = AreaCodeSync._meta
        table = connection.ops.quote_name(meta.db_table)
        columns = {field.name: field.column for field in meta.concrete_fields}
        col = {
            name: connection.ops.quote_name(columns[name])
            for name in ("source", "area_code", "number_count", "synced_at", "checksum", "sync_run")
        }
        whens = " ".join(["WHEN %s THEN %s"] * len(counts))
        codes = ", ".join(["%s"] * len(counts))
        params: list[datetime | str | int] = [run.started_at, run.checksum, run.pk]
        params += [value for code_count in counts.items() for value in code_count]
        params += [run.source_id, *counts]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {col['synced_at']} = %s, {col['checksum']} = %s, {col['sync_run']} = %s, "
                f"{col['number_count']} = CASE {col['area_code']} {whens} ELSE {col['number_count']} END "
                f"WHERE {col['source']} = %s AND {col['area_code']} IN ({codes})",
                params,
            )
    return [area_code for area_code in area_codes if area_code not in synced]


def _run_fail(run: SyncRun, exc: BaseException) -> None:
    now = timezone.now()
    if isinstance(exc, RegistryFileError):
        error = f"{exc}. Nothing was changed."
        exc.sync_run = run
    elif isinstance(exc, KeyboardInterrupt):
        error = "Interrupted. Nothing was changed."
    else:
        error = f"{type(exc).__name__}: {exc}. Nothing was changed."
    try:
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.FAILED, error=error, finished_at=now, duration=now - run.started_at
        )
    except Exception:  # the connection may be gone with the import; the original error matters more
        logger.exception("registry import %s failed and could not be recorded as failed", run.pk)
        return
    run.refresh_from_db()
    logger.warning("registry import %s of %s failed: %s", run.pk, run.source.key, error)


def _pause_for_crash_tests(run: SyncRun) -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        logger.warning(
            "registry import %s: pausing %s s before commit (%s is set)", run.pk, seconds, PAUSE_ENV
        )
        time.sleep(float(seconds))


class _ProgressReporter:
    """Passes read progress to the caller's callback and to the run's row,
    throttled. When the run's row is committed (the import is not nested in
    a caller's transaction) on PostgreSQL, the row is updated through a
    second connection, so that others see the progress while the import's
    transaction is still open."""

    def __init__(self, run: SyncRun, callback: Callable[[int, int], None] | None):
        self.run = run
        self.callback = callback
        self.last = 0.0
        connection = connections[DEFAULT_DB_ALIAS]
        self.side = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.side = connection.__class__({**connection.settings_dict}, alias=DEFAULT_DB_ALIAS)

    def __call__(self, scan: FileScan) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            self._report(scan.lines, scan.lines_estimate)

    def start(self, scan: FileScan) -> None:
        self.run.rows_total = scan.lines_estimate
        self._report(0, self.run.rows_total)

    def finish(self, scan: FileScan) -> None:
        self._report(scan.lines, scan.lines)

    def _report(self, done: int, total: int) -> None:
        if self.callback:
            self.callback(done, total)
        if self.side is not None:
            with self.side.cursor() as cursor:
                cursor.execute(
                    "UPDATE registry_syncrun SET rows_done = %s, rows_total = %s WHERE id = %s",
                    [done, total, self.run.pk],
                )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
