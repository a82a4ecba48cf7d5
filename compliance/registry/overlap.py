"""How many of a source's stored numbers a full file lists, per area code,
counted while the file streams into the import's new table.

A full-file import records how many numbers it added and removed (the
contract's counts). Counted after the load, that is a merge join of the old
partition's and the new table's unique indexes: at ten million numbers, 3-4 s
of one core, a third of the whole import. During the COPY, though, the second
core is mostly idle. `StreamedOverlap` uses it: the import hands it each batch
of canonical lines right after sending it to COPY; a thread reads, on a
second connection, the partition's numbers in the range of that batch (one
index range scan per batch, about 100k numbers) and looks each one up in the
batch's sorted numbers with numpy. Memory stays a batch or two.

Two conditions make the count exact, and when either fails the import counts
with the merge join as before (`finish` returns None):

- The second connection sees what the import sees. So it is only used when
  the import's transaction is the outermost one (nothing a caller has not
  committed), and the import has written nothing to the partition before;
  the source row lock the import holds keeps every other writer out.
- The file is sorted by number, as the FTC's full files are: then each batch
  covers a range after the previous one's. The first batch out of order
  stops the count. Repeated numbers are fine (each stored number is looked
  up once).
"""

import logging
import queue
import threading
from collections import Counter

import numpy as np
import psycopg
from django.db import connections

from compliance.registry.formats import AREA_CODE_DIVISOR

logger = logging.getLogger(__name__)

LINE_BYTES = 11  # AAANNNNNNN + newline: every canonical line
NUMBER_END = 10_000_000_000  # above every 10-digit number
QUEUE_BATCHES = 4  # batches waiting for the thread (about 1 MB of numbers each)
_POWERS = 10 ** np.arange(9, -1, -1, dtype=np.int64)
_END = None


def canonical_numbers(canonical: bytes) -> np.ndarray:
    """The numbers of canonical lines (`AAANNNNNNN\\n` each), as int64, in file order."""
    digits = np.frombuffer(canonical, dtype=np.uint8).reshape(-1, LINE_BYTES)[:, :10] - ord("0")
    return digits @ _POWERS


class StreamedOverlap:
    """Counts, per area code, a partition's numbers and how many of them the
    batches fed to it list (see the module's docstring). Use from one thread:
    `feed` each batch, then `finish`; `close` in any case."""

    def __init__(self, connection, *, partition: str):
        # The thread opens its own connection (a Django connection belongs to the thread that made it).
        wrapper = connections[connection.alias]
        self._connect = lambda: wrapper.__class__({**wrapper.settings_dict}, alias=wrapper.alias)
        self._sql = f"SELECT string_agg(int8send(number), ''::bytea) FROM {partition} WHERE number > %s AND number <= %s"
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES)
        self._stored = np.zeros(1000, dtype=np.int64)  # per area code
        self._listed = np.zeros(1000, dtype=np.int64)  # per area code, those the file lists
        self._last = -1
        self._given_up: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"overlap {partition}", daemon=True)
        self._thread.start()

    def feed(self, canonical: bytes) -> None:
        if self._given_up:
            return
        numbers = canonical_numbers(canonical)
        if not len(numbers):
            return
        if numbers[0] < self._last or bool((numbers[1:] < numbers[:-1]).any()):
            self._give_up("the file is not sorted by number")
            return
        self._last = int(numbers[-1])
        self._queue.put(numbers)

    def finish(self) -> tuple[Counter, Counter] | None:
        """(stored numbers per area code, those of them the file lists), or
        None if the count was given up (the reason is logged)."""
        self._stop()
        if self._given_up:
            logger.info("registry overlap not streamed: %s", self._given_up)
            return None
        return _counter(self._stored), _counter(self._listed)

    def close(self) -> None:
        if self._thread.is_alive():
            self._give_up("the import stopped")
        self._stop()

    def _give_up(self, reason: str) -> None:
        if not self._given_up:
            self._given_up = reason

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_END)
            self._thread.join()

    def _run(self) -> None:
        low, ended, side = -1, False, None
        try:
            side = self._connect()
            side.ensure_connection()
            # Server-side binding: the packed numbers come back as bytes, not hex text.
            with psycopg.Cursor(side.connection) as cursor:
                while not ended:
                    numbers = self._queue.get()
                    ended = numbers is _END
                    if not ended and not self._given_up:
                        high = int(numbers[-1])
                        self._count(cursor, low, high, numbers)
                        low = high
                if not self._given_up:  # the numbers after the file's last
                    self._count(cursor, low, NUMBER_END, None)
        except Exception as exc:  # the import then counts with a join: nothing is lost
            self._give_up(f"{exc.__class__.__name__}: {exc}")
            while not ended:
                ended = self._queue.get() is _END
        finally:
            if side is not None:
                side.close()

    def _count(self, cursor, low: int, high: int, numbers: np.ndarray | None) -> None:
        cursor.execute(self._sql, [low, high], binary=True)
        packed = cursor.fetchone()[0]
        if not packed:
            return
        stored = np.frombuffer(packed, dtype=">i8").astype(np.int64)
        area_codes = stored // AREA_CODE_DIVISOR
        self._stored += np.bincount(area_codes, minlength=1000)
        if numbers is not None:
            at = np.minimum(np.searchsorted(numbers, stored), len(numbers) - 1)
            self._listed += np.bincount(area_codes[numbers[at] == stored], minlength=1000)


def _counter(per_area_code: np.ndarray) -> Counter:
    return Counter({int(code): int(count) for code, count in enumerate(per_area_code) if count})
