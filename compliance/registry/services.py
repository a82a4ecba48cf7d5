"""Registry writes: importing registry files (`registry_file_import`), and the
sources they belong to.

An import is recorded by a `SyncRun` committed when it starts (`running`), its
progress (rows done of rows total) written outside the import's transaction
so that a page can show it; the data and the run's outcome commit together,
in one transaction, or not at all.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.utils import timezone

from compliance.registry.formats import (
    FileScan,
    RegistryFileError,
    change_list_read,
    full_file_read,
)
from compliance.registry.models import NATIONAL_KEY, AreaCodeSync, RegistrySource, SyncRun
from compliance.registry.storage import Applied, store_for
from config.history import history_save

logger = logging.getLogger(__name__)

# Test hook (issue 6's crash test): seconds to sleep once everything is
# applied, just before the import's transaction commits. Killing the process
# during the pause must leave the registry exactly as it was. Note that after
# a partition swap the pause holds the lock of the swap: lookups wait for it.
PAUSE_ENV = "CONSENTDESK_IMPORT_PAUSE_SECONDS"
PROGRESS_INTERVAL = 0.5  # seconds between two progress writes


def registry_source_ensure(*, key: str, by: AbstractBaseUser | None = None, name: str = "") -> RegistrySource:
    """The source named by `key` ("national" or "state:FL"), created (with
    history naming `by`) if it does not exist yet. ValueError on a bad key."""
    if key == NATIONAL_KEY:
        kind, state = RegistrySource.Kind.NATIONAL, ""
        default_name = "National DNC Registry"
    else:
        prefix, _, state = key.partition(":")
        state = state.upper()
        if prefix != "state" or len(state) != 2 or not state.isalpha() or not state.isascii():
            raise ValueError(
                f"'{key}' is not a registry source: use 'national' or 'state:XX' (e.g. state:FL)."
            )
        kind = RegistrySource.Kind.STATE
        default_name = f"{state} state do-not-call list"
    source = RegistrySource.objects.filter(kind=kind, state=state).first()
    if source is not None:
        return source
    source = RegistrySource(kind=kind, state=state, name=name or default_name)
    source.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            return history_save(source, by=_user_or_none(by), reason="registry source created for an import")
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
        triggered_by=_user_or_none(by),
        trigger=trigger,
    )
    reporter = _ProgressReporter(run, progress)
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
                batches = change_list_read(paths=paths, scan=scan, progress=reporter)
                applied = store.changes_apply(batches=_read_to_end(batches, reporter, scan), scan=scan)
            else:
                batches = _not_empty(full_file_read(paths=paths, scan=scan, progress=reporter), scan, paths)
                applied = store.full_replace(batches=_read_to_end(batches, reporter, scan), scan=scan)
            _run_succeed(run, scan=scan, applied=applied, change_list=change_list)
            logger.info(
                "registry import %s of %s (%s): %s added, %s removed, %s area code(s), %.1f s",
                run.pk,
                source.key,
                applied.method,
                run.added,
                run.removed,
                len(run.area_codes),
                run.duration.total_seconds(),
            )
            _pause_for_crash_tests(run)
    except BaseException as exc:
        _run_fail(run, exc)
        raise
    finally:
        reporter.close()
    return run


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
        triggered_by=_user_or_none(by),
        trigger=trigger,
    )


def _read_to_end(batches: Iterator[bytes], reporter: "_ProgressReporter", scan: FileScan) -> Iterator[bytes]:
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


def _run_succeed(run: SyncRun, *, scan: FileScan, applied: Applied, change_list: bool) -> None:
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
        _area_codes_replace(run, counts=applied.area_codes, area_codes=area_codes)
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = now
    run.duration = now - run.started_at
    run.save()


def _area_codes_replace(run: SyncRun, *, counts, area_codes: list[int]) -> None:
    AreaCodeSync.objects.bulk_create(
        [
            AreaCodeSync(
                source_id=run.source_id,
                area_code=area_code,
                synced_at=run.started_at,
                number_count=counts.get(area_code, 0),
                checksum=run.checksum,
                sync_run=run,
            )
            for area_code in area_codes
        ],
        update_conflicts=True,
        unique_fields=["source", "area_code"],
        update_fields=["synced_at", "number_count", "checksum", "sync_run"],
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
        col = {
            name: connection.ops.quote_name(meta.get_field(name).column)
            for name in ("source", "area_code", "number_count", "synced_at", "checksum", "sync_run")
        }
        whens = " ".join(["WHEN %s THEN %s"] * len(counts))
        codes = ", ".join(["%s"] * len(counts))
        params = [run.started_at, run.checksum, run.pk]
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


def _user_or_none(by):
    return by if getattr(by, "is_authenticated", False) else None


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
