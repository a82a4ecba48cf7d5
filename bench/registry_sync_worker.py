"""Registry inbox syncs end to end through a real Celery worker (issue 6): a
10M-number national full file and a 100k-line daily change list, beside the
physical floor measured in the same run, and the worker's peak memory.

    createdb -h 127.0.0.1 -U postgres consentdesk_bench_sync
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_sync DJANGO_DEBUG=1
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/registry_sync_worker.py [--numbers 10000000] [--customers 1000000] \
        [--changes 100000] [--broker-db 5]

The full file is bench/registry_import.py's (/tmp, written once and reused).
The national source's registry is emptied first (partition dropped, its
sync runs and area-code syncs deleted): the database's name must contain
"bench". A `celery -A config worker --concurrency 1 --pool prefork` (Redis
db --broker-db, inbox /tmp/consentdesk_bench_inbox, settle time 0) runs the
beat task compliance.registry_inbox_sync:

(a) floor: bare COPY ... FREEZE of the file into a fresh one-column bigint
    table + CREATE UNIQUE INDEX (registry_import.floor_measure);
(b) the full file hard-linked into the empty registry's inbox, the task
    sent: seconds from sending it until the run has succeeded and the file is
    in processed/ (target < 45 s), and the import's own duration (SyncRun);
(c) the same file again over the data of (b) (the earlier run's checksum
    renamed, so that the sync does not skip it as already imported);
(d) a change list of --changes lines `number,date,action` (half `D` of
    listed numbers, half `A` of new ones) in changes/ (target < 5 s).

Peak memory of the worker's process tree (main process and its pool child),
sampled from /proc during each sync: sum of RSS (shared pages counted in each
process) and sum of PSS (counted once); target < 300 MB. Idle figures too.
"""

import argparse
import os
import random
import sys
import time
from datetime import date
from pathlib import Path

INBOX_ROOT = Path("/tmp/consentdesk_bench_inbox")
WORKER_ENV = {
    "CONSENTDESK_REGISTRY_INBOX": str(INBOX_ROOT),
    "CONSENTDESK_REGISTRY_INBOX_SETTLE_SECONDS": "0",
}
os.environ.update(WORKER_ENV)
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("CONSENTDESK_SUPPRESSION_KEY", "bench-only-suppression-key-0123456789abcdef")

import django  # noqa: E402  (the inbox settings first)

django.setup()

import registry_import  # noqa: E402  (its 10M file and its floor)
from celery_worker import Worker  # noqa: E402
from django.db import connection  # noqa: E402

from compliance.registry.inbox import CHANGES, PROCESSED, registry_inbox_path  # noqa: E402
from compliance.registry.models import RegistrySource, SyncRun  # noqa: E402
from compliance.registry.services import registry_source_ensure  # noqa: E402

TASK = "compliance.registry_inbox_sync"
FULL_TARGET, CHANGES_TARGET, RSS_TARGET = 45.0, 5.0, 300.0


def registry_reset(source: RegistrySource) -> None:
    """An empty national registry: no numbers, no sync runs, an empty inbox."""
    registry_import.national_registry_empty(source.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_areacodesync WHERE source_id = %s", [source.pk])
        cursor.execute("DELETE FROM registry_syncrun WHERE source_id = %s", [source.pk])
    RegistrySource.objects.exclude(pk=source.pk).update(active=False)  # the sync visits this one only
    inbox = registry_inbox_path(source)
    for folder in (inbox, inbox / CHANGES, inbox / PROCESSED, inbox / "rejected"):
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            if path.is_file():
                path.unlink()


def changes_write(path: Path, full_file: Path, count: int, numbers: int) -> Path:
    """`count` lines: half deletions of numbers in the full file (evenly
    spread), half additions of numbers of the same area codes (most new)."""
    rng = random.Random(6)
    step = max(1, numbers // (count // 2))
    deletions, area_codes = [], set()
    with full_file.open("rb") as handle:
        for k, line in enumerate(handle):
            if k % step == 0 and len(deletions) < count // 2:
                number = int(line.replace(b",", b""))
                deletions.append(number)
                area_codes.add(number // 10_000_000)
    codes = sorted(area_codes)
    additions = [
        rng.choice(codes) * 10_000_000 + rng.randrange(2_000_000, 10_000_000)
        for _ in range(count - len(deletions))
    ]
    today = date.today().isoformat()
    lines = [f"{n},{today},D\n" for n in deletions] + [f"{n},{today},A\n" for n in additions]
    rng.shuffle(lines)
    partial = path.with_suffix(".part")
    partial.write_text("".join(lines))
    os.utime(partial, (time.time() - 60, time.time() - 60))
    partial.rename(path)
    return path


def sync_through_worker(worker: Worker, source: RegistrySource, dropped: Path) -> tuple[float, SyncRun]:
    """Send the beat task, wait until a new run of `source` is over and the
    file has left the inbox; seconds from sending."""
    last = SyncRun.objects.filter(source=source).order_by("-pk").values_list("pk", flat=True).first() or 0
    worker.reset_peak()
    started = time.perf_counter()
    worker.send(TASK)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(source=source, pk__gt=last).order_by("-pk").first()
        if run is not None and run.status != SyncRun.Status.RUNNING and not dropped.exists():
            return time.perf_counter() - started, run
        time.sleep(0.05)
    sys.exit(f"no sync of {dropped} finished within 600 s; see {worker.log}")


def memory(worker: Worker) -> str:
    return (
        f"worker peak RSS {worker.peak_rss_mb:.0f} MB (sum over the tree), peak PSS {worker.peak_pss_mb:.0f} MB"
        f" (target < {RSS_TARGET:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000, help="as for bench/registry_import.py")
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--broker-db", type=int, default=5)
    args = parser.parse_args()

    registry_import.bench_database_required()
    path = registry_import.numbers_file_ensure(numbers=args.numbers, customers=args.customers)
    source = registry_source_ensure(key="national")
    registry_reset(source)
    inbox = registry_inbox_path(source)
    print(
        f"database {connection.settings_dict['NAME']}, inbox {inbox}, {path.stat().st_size / 2**20:.0f} MiB file"
    )

    floor = registry_import.floor_measure(path)
    print(f"(a) floor, COPY + unique index:   {floor:6.1f} s  {args.numbers / floor:>11,.0f} numbers/s")

    worker = Worker(broker_db=args.broker_db, env=WORKER_ENV).start()
    print(
        f"celery worker {worker.process.pid} up: idle RSS {worker.idle_rss_mb():.0f} MB, PSS {worker.idle_pss_mb():.0f} MB"
    )
    figures, run = {}, None
    try:
        for label in ("(b) full file, empty registry:", "(c) full file, over (b):"):
            if label.startswith("(c)"):  # not "the same file as run N": import it again
                SyncRun.objects.filter(source=source, checksum=run.checksum).update(
                    checksum=f"bench-{run.pk}"
                )
            registry_import.checkpoint()
            dropped = inbox / f"{label[1]}-{path.name}"
            os.link(path, dropped)
            seconds, run = sync_through_worker(worker, source, dropped)
            figures[label[1]] = (seconds, worker.peak_rss_mb, worker.peak_pss_mb)
            print(
                f"{label:34} {seconds:6.1f} s  {args.numbers / seconds:>11,.0f} numbers/s  "
                f"{floor / seconds:4.0%} of the floor's speed (import {run.duration.total_seconds():.1f} s; "
                f"run {run.pk} {run.status}: +{run.added:,} -{run.removed:,}, {run.number_count:,} listed)\n"
                f"    {memory(worker)}"
            )
        dropped = changes_write(inbox / CHANGES / "bench-changes.txt", path, args.changes, args.numbers)
        seconds, run = sync_through_worker(worker, source, dropped)
        figures["d"] = (seconds, worker.peak_rss_mb, worker.peak_pss_mb)
        print(
            f"(d) change list, {args.changes:,} lines: {seconds:6.2f} s (import {run.duration.total_seconds():.2f} s;"
            f" run {run.pk} {run.status}: +{run.added:,} -{run.removed:,})\n    {memory(worker)}"
        )
    finally:
        worker.stop()
    full = max(figures["b"][0], figures["c"][0])
    rss = max(f[1] for f in figures.values())
    pss = max(f[2] for f in figures.values())
    print(
        f"targets: full file < {FULL_TARGET:.0f} s: {'met' if full < FULL_TARGET else 'MISSED'} ({full:.1f} s); "
        f"change list < {CHANGES_TARGET:.0f} s: {'met' if figures['d'][0] < CHANGES_TARGET else 'MISSED'} "
        f"({figures['d'][0]:.2f} s); peak < {RSS_TARGET:.0f} MB: RSS {rss:.0f} MB "
        f"{'met' if rss < RSS_TARGET else 'MISSED'}, PSS {pss:.0f} MB {'met' if pss < RSS_TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
