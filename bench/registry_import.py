"""Import speed of a full National DNC Registry file against the physical
floor (a bare COPY and an index build of the same numbers), and peak memory.

    createdb -h 127.0.0.1 -U postgres consentdesk_bench_registry
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_registry DJANGO_DEBUG=1
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/registry_import.py [--numbers 10000000] [--customers 1000000] [--layout comma]

The file, /tmp/consentdesk_bench_registry_<numbers>_<customers>_<layout>.txt,
is written once and reused. Like the FTC's, it has no header and is sorted by
number: every geographic US area code (compliance.jurisdictions), with more
or fewer numbers each, in the `AAA,NNNNNNN` layout (`--layout plain`:
`AAANNNNNNN`). It lists every other number of the first --customers
customers of bench/customers_generate.py (those whose last four digits are
even), and no other number of their exchanges: half of them are listed, for
bench/registry_scrub.py.

Then, in this order: (a) the floor, COPY ... FREEZE of the file (commas
dropped, nothing checked) into a fresh one-column bigint table created in
the same transaction, then CREATE UNIQUE INDEX (what the import builds);
(b) the project's import (registry_file_import, as `manage.py dnc_import`
runs it) into an empty national registry, the national partition dropped
first; (c) the same file imported again over the data of (b); (d) next
month's file over the data of (c): the same file with every --churn-th number
replaced by its successor (one removed and one added each, still sorted;
written once beside the first), its added and removed counts checked against
the numbers written. A CHECKPOINT
(a superuser's or pg_checkpoint's right) precedes each, so that one does not
pay for the WAL of another. Target:
each import at least 70% of the floor's numbers/s, and peak RSS flat whatever
--numbers is (the files are streamed).

The national registry's numbers are dropped, so the script refuses a
database whose name does not contain "bench".
"""

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from customers_generate import AREA_CODES, EXCHANGES  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from compliance.jurisdictions import AREA_CODES_BY_STATE, NON_GEOGRAPHIC_AREA_CODES  # noqa: E402
from compliance.registry.formats import BLOCK_SIZE  # noqa: E402
from compliance.registry.services import registry_file_import, registry_source_ensure  # noqa: E402

TARGET_SHARE = 0.70
FLOOR_TABLE = "bench_registry_floor"
SEED = 2025
# Exchanges (NXX) of the customers' numbers: the file lists no other number of these.
CUSTOMER_EXCHANGES = {int(exchange) for exchange in EXCHANGES}
OTHER_EXCHANGES = [exchange for exchange in range(200, 1000) if exchange not in CUSTOMER_EXCHANGES]


def bench_database_required() -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to drop the registry of '{name}': use a PostgreSQL database named *bench*.")


def file_path(numbers: int, customers: int, layout: str) -> Path:
    return Path(f"/tmp/consentdesk_bench_registry_{numbers}_{customers}_{layout}.txt")


def listed_customer_numbers(customers: int) -> dict[int, list[int]]:
    """Subscriber numbers (7 digits) listed per area code: the customers of
    customers_generate.number(i) whose line (last four digits) is even."""
    listed: dict[int, list[int]] = {int(code): [] for code in AREA_CODES}
    for i in range(customers):
        j = i // 10
        line = j % 10000
        if line % 2 == 0:
            listed[int(AREA_CODES[i % 10])].append(int(EXCHANGES[(j // 10000) % 10]) * 10000 + line)
    return listed


def numbers_file_ensure(*, numbers: int, customers: int, layout: str = "comma") -> Path:
    """The registry file for these sizes, written (streamed, one area code
    at a time) unless /tmp already has it whole."""
    path = file_path(numbers, customers, layout)
    line_bytes = 12 if layout == "comma" else 11
    if path.exists() and path.stat().st_size == numbers * line_bytes:
        print(f"reusing {path} ({numbers:,} numbers)")
        return path
    started = time.perf_counter()
    listed = listed_customer_numbers(customers)
    filler = numbers - sum(map(len, listed.values()))
    if filler < 0:
        sys.exit(f"--numbers must be at least {numbers - filler:,} (half of --customers).")
    area_codes = sorted(
        {code for codes in AREA_CODES_BY_STATE.values() for code in codes} - NON_GEOGRAPHIC_AREA_CODES
    )
    rng = random.Random(SEED)
    weights = [rng.uniform(0.3, 1.7) for _ in area_codes]  # uneven, like real area codes
    shares = [int(filler * weight / sum(weights)) for weight in weights]
    shares[-1] += filler - sum(shares)
    partial = path.with_suffix(".partial")
    with partial.open("w") as out:
        for area_code, share in zip(area_codes, shares, strict=True):
            picked = rng.sample(range(len(OTHER_EXCHANGES) * 10000), share)
            subscribers = [OTHER_EXCHANGES[k // 10000] * 10000 + k % 10000 for k in picked]
            subscribers.extend(listed.get(area_code, ()))
            subscribers.sort()
            prefix = f"{area_code}," if layout == "comma" else str(area_code)
            out.write("".join([f"{prefix}{subscriber:07d}\n" for subscriber in subscribers]))
    partial.rename(path)
    print(
        f"wrote {path}: {numbers:,} numbers in {len(area_codes)} area codes, "
        f"{numbers - filler:,} of them customers', in {time.perf_counter() - started:.1f} s"
    )
    return path


def churned_file_ensure(path: Path, every: int) -> tuple[Path, int]:
    """(The file with every `every`-th number replaced by its successor where
    that is not listed already, how many were replaced), written once."""
    churned = path.with_name(f"{path.stem}_churn{every}{path.suffix}")
    tally = churned.with_suffix(".count")
    if churned.exists() and tally.exists():
        return churned, int(tally.read_text())
    started = time.perf_counter()
    replaced = 0
    with path.open("rb") as source, churned.with_suffix(".partial").open("wb") as out:
        previous = next(source, None)
        for position, line in enumerate(source, start=1):
            number = int(previous.replace(b",", b""))
            if (
                position % every == 0
                and number + 1 < int(line.replace(b",", b""))
                and (number + 1) % 10_000_000
            ):
                digits = str(number + 1)
                previous = (f"{digits[:3]},{digits[3:]}\n" if b"," in previous else f"{digits}\n").encode()
                replaced += 1
            out.write(previous)
            previous = line
        out.write(previous)
    churned.with_suffix(".partial").rename(churned)
    tally.write_text(str(replaced))
    print(f"wrote {churned}: {replaced:,} numbers replaced, in {time.perf_counter() - started:.1f} s")
    return churned, replaced


def checkpoint() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def floor_measure(path: Path) -> float:
    """Seconds for COPY FREEZE of the file into a new table and its unique index."""
    checkpoint()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # as the import does
        cursor.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        cursor.execute(f"CREATE TABLE {FLOOR_TABLE} (number bigint NOT NULL)")
        with cursor.copy(f"COPY {FLOOR_TABLE} (number) FROM STDIN (FREEZE)") as copy, path.open("rb") as file:
            while block := file.read(BLOCK_SIZE):
                copy.write(block.replace(b",", b""))
        cursor.execute(f"CREATE UNIQUE INDEX {FLOOR_TABLE}_number ON {FLOOR_TABLE} (number)")
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
    return seconds


def national_registry_empty(source_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS registry_number_s{int(source_id)}")


def import_measure(source, path: Path) -> tuple[float, object]:
    checkpoint()
    started = time.perf_counter()
    run = registry_file_import(source=source, paths=[path])
    return time.perf_counter() - started, run


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to list half of")
    parser.add_argument("--layout", choices=["comma", "plain"], default="comma")
    parser.add_argument("--churn", type=int, default=100, help="(d) replaces one number in this many")
    args = parser.parse_args()
    if args.customers > 1_000_000:
        sys.exit("bench/customers_generate.py has 1M distinct numbers.")

    bench_database_required()
    path = numbers_file_ensure(numbers=args.numbers, customers=args.customers, layout=args.layout)
    churned, replaced = churned_file_ensure(path, args.churn)
    print(f"peak RSS after the files: {peak_rss_mb():.0f} MB")
    source = registry_source_ensure(key="national")
    print(f"database {connection.settings_dict['NAME']}, {path.stat().st_size / 2**20:.0f} MiB file")

    floor = floor_measure(path)
    floor_rate = args.numbers / floor
    print(
        f"(a) floor, COPY + unique index:      {floor:7.1f} s  {floor_rate:>11,.0f} numbers/s"
        f"  peak RSS {peak_rss_mb():.0f} MB"
    )
    national_registry_empty(source.pk)
    missed = []
    for label, short, file, expected in (
        ("(b) import into an empty registry:", "b", path, (args.numbers, 0)),
        ("(c) import over existing data:", "c", path, (0, 0)),
        ("(d) next month's file over (c):", "d", churned, (replaced, replaced)),
    ):
        seconds, run = import_measure(source, file)
        rate = args.numbers / seconds
        share = rate / floor_rate
        print(
            f"{label:36} {seconds:7.1f} s  {rate:>11,.0f} numbers/s  {share:4.0%} of the floor"
            f"  peak RSS {peak_rss_mb():.0f} MB  (run {run.pk}: +{run.added:,} -{run.removed:,}, "
            f"{run.number_count:,} listed, {len(run.area_codes)} area codes)"
        )
        if share < TARGET_SHARE:
            missed.append(short)
        if (run.added, run.removed) != expected:
            missed.append(f"{short} (counts: expected +{expected[0]:,} -{expected[1]:,})")
    print(f"target: each import >= {TARGET_SHARE:.0%} of the floor's numbers/s: ", end="")
    print("met" if not missed else f"MISSED for {', '.join(missed)}")


if __name__ == "__main__":
    main()
