"""Times `manage.py import_customers` on a generated 100k-row CSV.

    createdb -h 127.0.0.1 -U postgres consentdesk_bench_import
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_import DJANGO_DEBUG=1
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/customers_import.py [--rows 100000] [--csv var/bench_customers.csv]

Realistic rows: ten states with ZIPs of those states and numbers of their
area codes in several formats; half the rows carry consent columns. The
customer, phone-number and consent tables (and their history) are emptied
first, so runs repeat; the script therefore refuses a database whose name
does not contain "bench". It prints the time of the import alone (the
command, as a user would run it) and its rate. Target: 100k rows < 60 s.
"""

import argparse
import csv
import os
import random
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import zipcodes  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from core.phones import phone_normalize  # noqa: E402

# Area code -> its state.
AREA_CODES = {
    "212": "NY",
    "305": "FL",
    "312": "IL",
    "415": "CA",
    "512": "TX",
    "206": "WA",
    "801": "UT",
    "401": "RI",
    "860": "CT",
    "602": "AZ",
}
FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Maria",
    "José",
    "Li",
    "Fatima",
    "Olga",
    "Kwame",
    "Priya",
    "Sam",
    "Noor",
]
LAST_NAMES = [
    "Smith",
    "García",
    "Nguyen",
    "O'Brien",
    "Kowalski",
    "Okafor",
    "Ivanova",
    "Chen",
    "Patel",
    "Jones",
]
FORMATS = [
    lambda a, e, n: f"+1{a}{e}{n}",
    lambda a, e, n: f"({a}) {e}-{n}",
    lambda a, e, n: f"{a}-{e}-{n}",
    lambda a, e, n: f"{a}.{e}.{n}",
    lambda a, e, n: f"1 {a} {e} {n}",
]
KINDS = ["mobile", "landline", "voip", "unknown", ""]
SOURCES = ["web_form", "signed_form", "verbal", "ivr", "import", "sms_keyword", "agent"]
WRITTEN = ["true", "false", "yes", "no", "1", "0"]
HEADER = [
    "first_name",
    "last_name",
    "email",
    "state",
    "postal_code",
    "phone_number",
    "phone_kind",
    "consent_purpose",
    "consent_channel",
    "consent_written",
    "consent_source",
    "consent_disclosure_text",
    "consent_granted_at",
]


def ascii_email(text: str) -> str:
    """Django's EmailValidator takes ASCII local parts only (as most mail systems do)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace("'", "")


def zips_by_state() -> dict[str, list[str]]:
    states = set(AREA_CODES.values())
    found: dict[str, list[str]] = {state: [] for state in states}
    for z in zipcodes.list_all():
        if z["state"] in states and z["zip_code_type"] == "STANDARD" and z["active"]:
            found[z["state"]].append(z["zip_code"])
    return found


def unique_numbers(count: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """`count` distinct valid NANP numbers (area, exchange, line), exchange 200-999."""
    area_codes = list(AREA_CODES)
    picked: set[tuple[str, str, str]] = set()
    while len(picked) < count:
        area, exchange, line = rng.choice(area_codes), rng.randint(200, 999), rng.randint(0, 9999)
        key = (area, f"{exchange:03d}", f"{line:04d}")
        if key in picked:
            continue
        try:
            phone_normalize(f"+1{''.join(key)}")
        except Exception:  # e.g. an N11 exchange: not dialable
            continue
        picked.add(key)
    return list(picked)


def csv_write(path: Path, rows: int, seed: int = 2026) -> None:
    rng = random.Random(seed)
    zips = zips_by_state()
    now = datetime.now(UTC)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index, (area, exchange, line) in enumerate(unique_numbers(rows, rng)):
            state = AREA_CODES[area]
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            row = [
                first,
                last,
                ascii_email(f"{first}.{last}.{index}@example.com"),
                state,
                rng.choice(zips[state]),
                rng.choice(FORMATS)(area, exchange, line),
                rng.choice(KINDS),
            ]
            if index % 2 == 0:
                granted = now - timedelta(days=rng.randint(1, 700), seconds=rng.randint(0, 86399))
                granted_text = granted.astimezone(timezone(timedelta(hours=rng.choice([0, -5, -8]))))
                row += [
                    rng.choice(["marketing", "informational"]),
                    rng.choice(["voice", "sms"]),
                    rng.choice(WRITTEN),
                    rng.choice(SOURCES),
                    "I agree that Northwind may call and text me at this number with an autodialer.",
                    granted_text.isoformat(timespec="seconds"),
                ]
            else:
                row += [""] * 6
            writer.writerow(row)


def tables_empty() -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to empty the tables of '{name}': use a PostgreSQL database named *bench*.")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE consent_consentgrant, consent_historicalconsentgrant, customers_phonenumber, "
            "customers_historicalphonenumber, customers_customer, customers_historicalcustomer CASCADE"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--csv", type=Path, default=Path("var/bench_customers.csv"))
    args = parser.parse_args()

    args.csv.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    csv_write(args.csv, args.rows)
    print(f"generated {args.rows} rows in {time.perf_counter() - started:.1f} s -> {args.csv}")

    tables_empty()
    started = time.perf_counter()
    call_command("import_customers", str(args.csv))
    elapsed = time.perf_counter() - started
    print(f"import_customers: {args.rows} rows in {elapsed:.1f} s ({args.rows / elapsed:,.0f} rows/s)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM customers_phonenumber), "
            "(SELECT count(*) FROM consent_consentgrant), (SELECT count(*) FROM customers_historicalcustomer)"
        )
        customers, numbers, consents, history = cursor.fetchone()
    print(
        f"in the database: {customers} customers, {numbers} numbers, {consents} consents, {history} customer history rows"
    )
    print(f"target < 60 s: {'met' if elapsed < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
