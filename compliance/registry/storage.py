"""Physical storage of registry numbers: how a validated file reaches the
`registry_number` table (see RegistryNumber's docstring for the design).

Everything here runs inside the import's transaction and changes nothing
visible before it commits. `PostgresStore` loads with COPY; `SqliteStore` is
the demo's portable fallback (batched inserts). Both take the readers of
`compliance.registry.formats`, which raise RegistryFileError on a bad line:
the error propagates and the transaction rolls everything back.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import IntegrityError
from django.db.backends.base.base import BaseDatabaseWrapper

from compliance.registry.formats import ADD, AREA_CODE_DIVISOR, Change, FileScan
from compliance.registry.overlap import StreamedOverlap

logger = logging.getLogger(__name__)

# Rebuild a source's partition (COPY into a fresh table, index once, swap)
# rather than edit it in place when the file is at least this share of the
# rows the partition will keep: below it, copying the kept rows costs more
# than deleting and inserting the file's rows in an indexed table.
REBUILD_MIN_SHARE = 0.10
BYTES_PER_LINE = 11  # AAANNNNNNN + newline: to estimate a file's numbers from its size
BYTES_PER_ROW = 44  # heap bytes per stored row (tuple + line pointer): to estimate a partition's rows
INSERT_BATCH = 5000


@dataclass
class Applied:
    """What applying a file changed."""

    added: int = 0
    removed: int = 0
    # Full file: numbers per area code of the file after the import.
    # Change list: net change per area code touched (added minus removed).
    area_codes: Counter = field(default_factory=Counter)
    method: str = ""
    # Full file, per area code of the file: numbers listed before, and how
    # many of them the file removed (what the shrink guard judges).
    before: Counter = field(default_factory=Counter)
    removed_by_area_code: Counter = field(default_factory=Counter)


# Called with a full file's counts once they are known and before anything
# is swapped in; raising stops the import (the transaction rolls back).
Guard = Callable[[Applied], None]


def _no_guard(applied: Applied) -> None:
    return None


def store_for(connection: BaseDatabaseWrapper, *, source_id: int, run_id: int, outermost: bool = False):
    """The store for this connection's database. `outermost`: the import's
    transaction is the outermost one, so another connection sees the same
    registry as the import does until the import writes (see
    `compliance.registry.overlap`)."""
    if connection.vendor == "postgresql":
        return PostgresStore(connection, source_id=source_id, run_id=run_id, outermost=outermost)
    if connection.vendor == "sqlite":
        return SqliteStore(connection, source_id=source_id, run_id=run_id)
    raise NotImplementedError(f"No registry storage for {connection.vendor}.")


def _area_code_ranges(area_codes: Iterable[int]) -> list[int]:
    return sorted(int(code) for code in area_codes)


def _gaps(area_codes: list[int]) -> tuple[list[int], list[int]]:
    """The registry-number ranges [low, high) outside these (sorted) area
    codes: what a full file of these area codes leaves untouched."""
    lows, highs, low = [], [], 0
    for code in area_codes:
        if code * AREA_CODE_DIVISOR > low:
            lows.append(low)
            highs.append(code * AREA_CODE_DIVISOR)
        low = (code + 1) * AREA_CODE_DIVISOR
    lows.append(low)
    highs.append(10_000_000_000)
    return lows, highs


class PostgresStore:
    """COPY into a table created in the import's transaction; indexes built
    once, after loading; a rebuilt partition swapped in just before commit.
    Tables are made, indexed and swapped by the owner's functions (compliance
    migration 0012): the app's role owns none and may create none."""

    def __init__(self, connection, *, source_id: int, run_id: int, outermost: bool = False):
        self.connection = connection
        self.source_id = int(source_id)
        self.run_id = int(run_id)
        self.outermost = outermost
        self.partition = f"registry_number_s{self.source_id}"

    # --- full files ---

    def full_replace(self, *, batches: Iterator[bytes], scan: FileScan, guard: Guard = _no_guard) -> Applied:
        with self.connection.cursor() as cursor:
            # Session settings for this transaction only: sort the index in memory.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            existing_rows = self._partition_rows_estimate(cursor)
            file_rows = scan.total_bytes // BYTES_PER_LINE
            if existing_rows is None or file_rows >= REBUILD_MIN_SHARE * existing_rows:
                return self._full_rebuild(
                    cursor, batches, scan, exists=existing_rows is not None, guard=guard
                )
            return self._full_in_place(cursor, batches, scan, guard=guard)

    def _partition_rows_estimate(self, cursor) -> int | None:
        cursor.execute("SELECT pg_relation_size(to_regclass(%s))", [self.partition])
        size = cursor.fetchone()[0]
        return None if size is None else size // BYTES_PER_ROW

    def _full_rebuild(self, cursor, batches, scan: FileScan, *, exists: bool, guard: Guard) -> Applied:
        # The owner's doors make, index and swap the load table (compliance
        # migration 0012): the app's role loads and edits rows, never tables.
        cursor.execute("SELECT registry_load_create(%s::smallint, %s)", [self.source_id, self.run_id])
        new = cursor.fetchone()[0]
        # The added and removed counts: streamed beside the COPY when the file
        # allows, else a merge join of the two indexes after the load.
        overlap = (
            StreamedOverlap(self.connection, partition=self.partition) if exists and self.outermost else None
        )
        try:
            # FREEZE: the table is new in this transaction, so its rows can be
            # written frozen and all-visible (no later hint-bit writes, index-only
            # scans at once); they become visible only when the swap commits.
            with cursor.copy(f"COPY {new} (number) FROM STDIN (FREEZE)") as copy:
                for batch in batches:
                    copy.write(batch)
                    if overlap:
                        overlap.feed(batch)
            streamed = overlap.finish() if overlap else None
        finally:
            if overlap:
                overlap.close()
        area_codes = _area_code_ranges(scan.area_codes)
        kept = 0
        if exists:
            # The partition's numbers in area codes the file does not cover
            # stay: read through the index, gap by gap between the file's
            # area codes, so a file covering them all reads nothing here.
            lows, highs = _gaps(area_codes)
            cursor.execute(
                f"INSERT INTO {new} (number) SELECT p.number FROM unnest(%s::bigint[], %s::bigint[]) "
                f"AS gap(low, high) JOIN {self.partition} AS p ON p.number >= gap.low AND p.number < gap.high",
                [lows, highs],
            )
            kept = cursor.rowcount
        counts = Counter(scan.area_codes)
        if not self._load_index(cursor):
            # The file repeats numbers: keep one of each and count again.
            cursor.execute(
                f"DELETE FROM {new} WHERE ctid IN (SELECT ctid FROM (SELECT ctid, row_number() "
                f"OVER (PARTITION BY number) AS copy FROM {new}) AS numbered WHERE copy > 1)"
            )
            logger.info("registry import %s: %s repeated number(s) dropped", self.run_id, cursor.rowcount)
            cursor.execute(
                f"SELECT number / {AREA_CODE_DIVISOR}, count(*) FROM {new} "
                f"WHERE number / {AREA_CODE_DIVISOR} = ANY(%s::bigint[]) GROUP BY 1",
                [area_codes],
            )
            counts = Counter(dict(cursor.fetchall()))
            if not self._load_index(cursor):
                raise IntegrityError(f"registry import {self.run_id}: repeated numbers left in {new}")
        applied = Applied(area_codes=counts, method="rebuild")
        new_rows = sum(counts.values())
        if exists:
            if streamed is not None:
                stored, listed = streamed
                applied.method = "rebuild, diff beside the COPY"
            else:
                stored, listed = self._overlap(cursor, new, area_codes if kept else None)
                applied.method = "rebuild, diff by join"
            old_rows, common = (sum(per[code] for code in area_codes) for per in (stored, listed))
            applied.added, applied.removed = new_rows - common, old_rows - common
            applied.before = Counter({code: stored[code] for code in area_codes if stored[code]})
            applied.removed_by_area_code = Counter(
                {code: stored[code] - listed[code] for code in area_codes if stored[code] > listed[code]}
            )
        else:
            applied.added = new_rows
        guard(applied)  # before the swap: a held file never locks the readers out
        cursor.execute("SELECT registry_load_swap(%s::smallint, %s)", [self.source_id, self.run_id])
        return applied

    def _load_index(self, cursor) -> bool:
        """The load table's unique index, then ANALYZE; False when it holds a number twice."""
        cursor.execute("SELECT registry_load_index(%s::smallint, %s)", [self.source_id, self.run_id])
        return bool(cursor.fetchone()[0])

    def _overlap(self, cursor, new: str, area_codes: list[int] | None) -> tuple[Counter[int], Counter[int]]:
        """Per area code (of these area codes, or all when None): the numbers
        the partition has, and how many of them the new table has. A merge
        join of the two unique indexes, read in order, not a hash of ten
        million rows; the grouping is a hash of a few hundred area codes."""
        where = f"WHERE o.number / {AREA_CODE_DIVISOR} = ANY(%s::bigint[])" if area_codes else ""
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL jit = off")  # compiling costs more than it saves on two index scans
        cursor.execute(
            f"SELECT o.number / {AREA_CODE_DIVISOR}, count(*), count(n.number) FROM {self.partition} AS o "
            f"LEFT JOIN {new} AS n ON n.number = o.number {where} GROUP BY 1",
            [area_codes] if area_codes else None,
        )
        stored: Counter[int] = Counter()
        listed: Counter[int] = Counter()
        for area_code, count, common in cursor.fetchall():
            stored[area_code], listed[area_code] = count, common
        cursor.execute("RESET enable_hashjoin")
        cursor.execute("RESET jit")
        return stored, listed

    def _full_in_place(self, cursor, batches, scan: FileScan, *, guard: Guard) -> Applied:
        stage = self._stage_numbers(cursor, batches)
        area_codes = _area_code_ranges(scan.area_codes)
        ranges = (
            f"unnest(%s::int[]) AS code JOIN {self.partition} AS p "
            f"ON p.number >= code::bigint * {AREA_CODE_DIVISOR} AND p.number < (code::bigint + 1) * {AREA_CODE_DIVISOR}"
        )
        cursor.execute(f"SELECT code, count(*) FROM {ranges} GROUP BY code", [area_codes])
        before = Counter(dict(cursor.fetchall()))
        cursor.execute(
            f"WITH gone AS (DELETE FROM {self.partition} WHERE number IN (SELECT p.number FROM {ranges} "
            f"WHERE NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE s.number = p.number)) RETURNING number) "
            f"SELECT number / {AREA_CODE_DIVISOR}, count(*) FROM gone GROUP BY 1",
            [area_codes],
        )
        removed_by_area_code = Counter(dict(cursor.fetchall()))
        removed = sum(removed_by_area_code.values())
        cursor.execute(
            f"INSERT INTO {self.partition} (number, source_id) SELECT DISTINCT number, {self.source_id} "
            f"FROM {stage} ORDER BY number ON CONFLICT (number) DO NOTHING"
        )
        added = cursor.rowcount
        cursor.execute(
            f"SELECT code, count(*) FROM {ranges} GROUP BY code",
            [area_codes],
        )
        counts = Counter(dict(cursor.fetchall()))
        cursor.execute(f"DROP TABLE {stage}")
        applied = Applied(
            added=added,
            removed=removed,
            area_codes=counts,
            method="in place",
            before=before,
            removed_by_area_code=removed_by_area_code,
        )
        guard(applied)  # edits made in place are rolled back with the transaction
        return applied

    def _stage_numbers(self, cursor, batches) -> str:
        self._partition_ensure(cursor)
        stage = f"registry_stage_run{self.run_id}"
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} (number bigint NOT NULL) ON COMMIT DROP")
        with cursor.copy(f"COPY {stage} (number) FROM STDIN") as copy:
            for batch in batches:
                copy.write(batch)
        cursor.execute(f"CREATE INDEX ON {stage} (number)")
        cursor.execute(f"ANALYZE {stage}")
        return stage

    def _partition_ensure(self, cursor) -> None:
        cursor.execute("SELECT registry_partition_ensure(%s::smallint)", [self.source_id])

    # --- change lists ---

    def changes_apply(self, *, batches: Iterator[list[Change]], scan: FileScan) -> Applied:
        with self.connection.cursor() as cursor:
            self._partition_ensure(cursor)
            stage = f"registry_changes_run{self.run_id}"
            cursor.execute(
                f"CREATE TEMPORARY TABLE {stage} (number bigint NOT NULL, action char(1) NOT NULL, "
                "changed_on date NOT NULL, ordinal bigint NOT NULL) ON COMMIT DROP"
            )
            with cursor.copy(f"COPY {stage} FROM STDIN") as copy:
                for batch in batches:
                    copy.write(
                        "".join(
                            f"{change.number}\t{change.action}\t{change.on.isoformat()}\t{change.ordinal}\n"
                            for change in batch
                        )
                    )
            # The latest change of each number wins (by date, then by position in the files).
            cursor.execute(
                f"""
                WITH latest AS (
                    SELECT DISTINCT ON (number) number, action FROM {stage}
                    ORDER BY number, changed_on DESC, ordinal DESC
                ), removed AS (
                    DELETE FROM {self.partition} AS p USING latest
                    WHERE latest.action = 'D' AND p.number = latest.number
                    RETURNING p.number
                ), added AS (
                    INSERT INTO {self.partition} (number, source_id)
                    SELECT number, {self.source_id} FROM latest WHERE action = %s ORDER BY number
                    ON CONFLICT (number) DO NOTHING
                    RETURNING number
                )
                SELECT number / {AREA_CODE_DIVISOR}, sum(added), sum(removed) FROM (
                    SELECT number, 1 AS added, 0 AS removed FROM added
                    UNION ALL SELECT number, 0, 1 FROM removed
                ) AS changed GROUP BY 1
                """,
                [ADD],
            )
            applied = Applied(method="change list")
            for area_code, added, removed in cursor.fetchall():
                applied.added += added
                applied.removed += removed
                applied.area_codes[area_code] = added - removed
            cursor.execute(f"DROP TABLE {stage}")
        return applied


class SqliteStore:
    """The demo's fallback: a temporary table filled by batched inserts, then
    the same set-based apply in SQL."""

    def __init__(self, connection, *, source_id: int, run_id: int):
        self.connection = connection
        self.source_id = int(source_id)
        self.stage = f"registry_stage_run{int(run_id)}"

    def full_replace(self, *, batches: Iterator[bytes], scan: FileScan, guard: Guard = _no_guard) -> Applied:
        with self.connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE {self.stage} (number integer PRIMARY KEY) WITHOUT ROWID")
            for batch in batches:
                cursor.executemany(
                    f"INSERT OR IGNORE INTO {self.stage} (number) VALUES (%s)",
                    [(int(batch[offset : offset + 10]),) for offset in range(0, len(batch), 11)],
                )
            applied = Applied(method="in place")
            for area_code in _area_code_ranges(scan.area_codes):
                low, high = area_code * AREA_CODE_DIVISOR, (area_code + 1) * AREA_CODE_DIVISOR
                cursor.execute(
                    "SELECT count(*) FROM registry_number WHERE source_id = %s AND number >= %s AND number < %s",
                    [self.source_id, low, high],
                )
                if before := cursor.fetchone()[0]:
                    applied.before[area_code] = before
                cursor.execute(
                    f"DELETE FROM registry_number WHERE source_id = %s AND number >= %s AND number < %s "
                    f"AND number NOT IN (SELECT number FROM {self.stage} WHERE number >= %s AND number < %s)",
                    [self.source_id, low, high, low, high],
                )
                applied.removed += cursor.rowcount
                if cursor.rowcount:
                    applied.removed_by_area_code[area_code] = cursor.rowcount
            cursor.execute(
                f"INSERT OR IGNORE INTO registry_number (number, source_id) SELECT number, %s FROM {self.stage}",
                [self.source_id],
            )
            applied.added = cursor.rowcount
            cursor.execute(
                f"SELECT number / {AREA_CODE_DIVISOR}, count(*) FROM {self.stage} GROUP BY 1",
            )
            applied.area_codes = Counter(dict(cursor.fetchall()))
            cursor.execute(f"DROP TABLE {self.stage}")
        guard(applied)
        return applied

    def changes_apply(self, *, batches: Iterator[list[Change]], scan: FileScan) -> Applied:
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE {self.stage} (number integer NOT NULL, action text NOT NULL, "
                "changed_on text NOT NULL, ordinal integer NOT NULL)"
            )
            for batch in batches:
                rows = iter(batch)
                while chunk := list(islice(rows, INSERT_BATCH)):
                    cursor.executemany(
                        f"INSERT INTO {self.stage} VALUES (%s, %s, %s, %s)",
                        [(c.number, c.action, c.on.isoformat(), c.ordinal) for c in chunk],
                    )
            latest = f"{self.stage}_latest"
            cursor.execute(
                f"CREATE TEMP TABLE {latest} AS SELECT number, action FROM (SELECT number, action, "
                f"row_number() OVER (PARTITION BY number ORDER BY changed_on DESC, ordinal DESC) AS rank "
                f"FROM {self.stage}) WHERE rank = 1"
            )
            cursor.execute(
                f"SELECT l.number / {AREA_CODE_DIVISOR}, "
                "sum(l.action = 'A' AND r.number IS NULL), sum(l.action = 'D' AND r.number IS NOT NULL) "
                f"FROM {latest} AS l LEFT JOIN registry_number AS r "
                "ON r.number = l.number AND r.source_id = %s GROUP BY 1",
                [self.source_id],
            )
            applied = Applied(method="change list")
            for area_code, added, removed in cursor.fetchall():
                applied.added += added
                applied.removed += removed
                if added or removed:
                    applied.area_codes[area_code] = added - removed
            cursor.execute(
                f"DELETE FROM registry_number WHERE source_id = %s "
                f"AND number IN (SELECT number FROM {latest} WHERE action = 'D')",
                [self.source_id],
            )
            cursor.execute(
                f"INSERT OR IGNORE INTO registry_number (number, source_id) "
                f"SELECT number, %s FROM {latest} WHERE action = 'A'",
                [self.source_id],
            )
            cursor.execute(f"DROP TABLE {latest}")
            cursor.execute(f"DROP TABLE {self.stage}")
        return applied
