"""Time of the scrub "how many of these numbers are on the registry", as one
set-based query over 1M customer numbers against a 10M-number registry.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_registry DJANGO_DEBUG=1
    .venv/bin/python bench/registry_scrub.py [--customers 1000000] [--numbers 10000000] [--runs 3] [--explain]

The numbers are the customers' (customers_phonenumber, E.164 text) and the
query is the project's: `registry_listed_filter(queryset=PhoneNumber.objects.all(),
number=RegistryInt("number"), sources=["national"]).count()`, an EXISTS per
row against the registry's index. It runs --runs times on a warm cache; each
time and the best are printed. Target: best < 5 s. --explain prints EXPLAIN
(ANALYZE, BUFFERS) of one more run.

Whatever is missing is made first, in a database named *bench* only (the
script refuses any other): --customers customers by bench/customers_generate.py
(--no-history) if there are none, and the national registry by
bench/registry_import.py's file (--numbers numbers, half of the customers'
numbers listed) imported with registry_file_import if it has no numbers.
Run in the database of bench/registry_import.py (after customers_generate.py)
to scrub that data as it is.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from registry_import import numbers_file_ensure  # noqa: E402

from compliance.registry.models import RegistryNumber, RegistrySource  # noqa: E402
from compliance.registry.selectors import RegistryInt, registry_listed_filter  # noqa: E402
from compliance.registry.services import registry_file_import, registry_source_ensure  # noqa: E402
from compliance.registry.sources import NATIONAL_KEY  # noqa: E402
from customers.models import PhoneNumber  # noqa: E402

TARGET_SECONDS = 5.0
BENCH_DIR = Path(__file__).resolve().parent


def bench_database_required(what: str) -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to {what} in '{name}': use a PostgreSQL database named *bench*.")


def phones_ensure(customers: int) -> int:
    phones = PhoneNumber.objects.count()
    if phones:
        return phones
    bench_database_required("generate customers")
    print(f"no customers: running customers_generate.py --customers {customers} --no-history", flush=True)
    subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "customers_generate.py"),
            f"--customers={customers}",
            "--no-history",
        ],
        check=True,
    )
    return PhoneNumber.objects.count()


def registry_ensure(*, numbers: int, customers: int) -> None:
    source = RegistrySource.objects.filter(kind=RegistrySource.Kind.NATIONAL).first()
    if source and RegistryNumber.objects.filter(source=source).exists():
        return
    bench_database_required("load the registry")
    path = numbers_file_ensure(numbers=numbers, customers=min(customers, 1_000_000))
    started = time.perf_counter()
    run = registry_file_import(source=source or registry_source_ensure(key=NATIONAL_KEY), paths=[path])
    print(f"imported {run.number_count:,} registry numbers in {time.perf_counter() - started:.1f} s")


def scrub_queryset(sources: list[str] | None):
    return registry_listed_filter(
        queryset=PhoneNumber.objects.all(), number=RegistryInt("number"), sources=sources
    )


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(f"      {row[0]}" for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="generated if there are none")
    parser.add_argument("--numbers", type=int, default=10_000_000, help="registry size, if it is empty")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sources", default=NATIONAL_KEY, help='comma-separated keys, or "any"')
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    sources = None if args.sources == "any" else args.sources.split(",")

    phones = phones_ensure(args.customers)
    registry_ensure(numbers=args.numbers, customers=phones)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM registry_number")
        (listed_total,) = cursor.fetchone()
    print(
        f"database {connection.settings_dict['NAME']}: {phones:,} phone numbers, "
        f"{listed_total:,} registry numbers; sources {sources or 'any'}"
    )

    timings = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            listed = scrub_queryset(sources).count()
        timings.append(time.perf_counter() - started)
        print(
            f"  run {run}: {timings[-1]:6.2f} s  {listed:,} of {phones:,} listed ({listed / phones:.1%}), "
            f"{len(captured.captured_queries)} query"
        )
    best = min(timings)
    print(f"best {best:.2f} s ({phones / best:,.0f} numbers/s); target < {TARGET_SECONDS:.0f} s: ", end="")
    print("met" if best < TARGET_SECONDS else "MISSED")
    if args.explain:
        print(f"    {captured.captured_queries[-1]['sql']}")
        print(explain(captured.captured_queries[-1]["sql"]))


if __name__ == "__main__":
    main()
