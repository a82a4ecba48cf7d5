"""Fills a database with 1M customers, one phone number each, and consents for
a third of them, fast (COPY), then VACUUM ANALYZE. For bench/customers_latency.py.

    createdb -h 127.0.0.1 -U postgres consentdesk_bench_customers
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_customers DJANGO_DEBUG=1
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/customers_generate.py [--customers 1000000] [--no-history]

The customer, phone-number and consent tables (and their history) are
emptied first, so the script refuses a database whose name does not contain
"bench". Each row gets its "+" history row ("bench data", no user) unless
--no-history: the history tables play no part in the list and search pages,
so skipping them only saves time.

Numbers are valid NANP numbers of ten area codes (10 states), exchange 555
then 200-208, so +13055550123 (customer 1232) exists for the search bench.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import zipcodes  # noqa: E402
from django.db import connection  # noqa: E402
from psycopg.types.json import Jsonb  # noqa: E402

from consent.models import ConsentGrant  # noqa: E402
from core.phones import phone_normalize  # noqa: E402
from customers.models import Customer, PhoneNumber  # noqa: E402

AREA_CODES = ["212", "305", "312", "415", "512", "206", "801", "401", "860", "602"]
AREA_STATES = ["NY", "FL", "IL", "CA", "TX", "WA", "UT", "RI", "CT", "AZ"]
EXCHANGES = ["555", "200", "201", "202", "203", "204", "205", "206", "207", "208"]
FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Maria",
    "Jose",
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
    "Garcia",
    "Nguyen",
    "OBrien",
    "Kowalski",
    "Okafor",
    "Ivanova",
    "Chen",
    "Patel",
    "Jones",
]
DISCLOSURE = {"disclosure_text": "I agree that Northwind may call me at this number with an autodialer."}
REASON = "bench data"


def number(i: int) -> str:
    """The i-th number (0-based): 10 area codes x 10 exchanges x 10,000 lines = 1M."""
    j = i // 10
    return f"+1{AREA_CODES[i % 10]}{EXCHANGES[(j // 10000) % 10]}{j % 10000:04d}"


def numbers_check() -> None:
    for area in AREA_CODES:
        for exchange in EXCHANGES:
            phone_normalize(f"+1{area}{exchange}0123")  # raises if the library finds one invalid


def zips_by_state() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {state: [] for state in AREA_STATES}
    for z in zipcodes.list_all():
        if z["state"] in found and z["zip_code_type"] == "STANDARD":
            found[z["state"]].append(z["zip_code"])
    return found


def copy_rows(cursor, model, rows, *, history: bool, now: datetime) -> int:
    """COPY `rows` (dicts by attname, with ids) into `model`'s table, and its
    "+" history rows when `history`."""
    fields = model._meta.concrete_fields
    columns = [f.attname for f in fields]
    history_fields = [f for f in model.history.model._meta.concrete_fields if not f.primary_key]
    extra = {
        "history_date": now,
        "history_change_reason": REASON,
        "history_type": "+",
        "history_user_id": None,
    }
    quote = connection.ops.quote_name
    main_sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    history_sql = (
        f"COPY {quote(model.history.model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in history_fields)}) FROM STDIN"
    )
    rows = list(rows)
    with cursor.copy(main_sql) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
    if history:
        with cursor.copy(history_sql) as copy:
            for row in rows:
                copy.write_row(
                    [row[f.attname] if f.attname in row else extra[f.attname] for f in history_fields]
                )
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--no-history", action="store_true")
    parser.add_argument("--batch", type=int, default=100_000)
    args = parser.parse_args()
    if args.customers > 1_000_000:
        sys.exit("The number scheme has 1M distinct numbers.")

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to empty the tables of '{name}': use a PostgreSQL database named *bench*.")
    numbers_check()
    zips = zips_by_state()
    now = datetime.now(UTC)
    history = not args.no_history
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE consent_consentgrant, consent_historicalconsentgrant, customers_phonenumber, "
            "customers_historicalphonenumber, customers_customer, customers_historicalcustomer "
            "RESTART IDENTITY CASCADE"
        )
        consents = 0
        for start in range(0, args.customers, args.batch):
            ids = range(start + 1, min(start + args.batch, args.customers) + 1)
            customers, phones, grants = [], [], []
            for pk in ids:
                i = pk - 1
                state = AREA_STATES[i % 10]
                first, last = FIRST_NAMES[i % 12], LAST_NAMES[(i // 12) % 10]
                # Older customers have lower ids, as in a real table.
                created = now - timedelta(seconds=(args.customers - pk) * 60)
                customers.append(
                    {
                        "id": pk,
                        "first_name": first,
                        "last_name": f"{last}{i % 997}",
                        "email": f"{first}.{last}.{pk}@example.com".lower(),
                        "state": state,
                        "postal_code": zips[state][i % len(zips[state])],
                        "last_purchase_at": created + timedelta(days=3) if i % 4 == 0 else None,
                        "last_inquiry_at": None,
                        "legal_hold": False,
                        "legal_hold_reason": "",
                        "erased_at": None,
                        "created_at": created,
                        "updated_at": created,
                    }
                )
                phones.append(
                    {
                        "id": pk,
                        "customer_id": pk,
                        "number": number(i),
                        "kind": ("mobile", "landline", "voip", "unknown")[i % 4],
                        "reassigned_at": None,
                        "created_at": created,
                    }
                )
                if i % 3 == 0:
                    consents += 1
                    grants.append(
                        {
                            "id": consents,
                            "phone_number_id": pk,
                            "purpose": ("marketing", "informational")[i % 2],
                            "channel": "voice",
                            "written": i % 2 == 0,
                            "source": ConsentGrant.Source.WEB_FORM,
                            "evidence": Jsonb(DISCLOSURE),
                            "granted_at": created,
                            "expires_at": None,
                            "recorded_by_id": None,
                            "recorded_at": created,
                            "revoked_at": None,
                            "revoked_via": "",
                            "revoked_by_id": None,
                            "revocation_note": "",
                            "expiry_recorded_at": None,
                        }
                    )
            copy_rows(cursor, Customer, customers, history=history, now=now)
            copy_rows(cursor, PhoneNumber, phones, history=history, now=now)
            copy_rows(cursor, ConsentGrant, grants, history=history, now=now)
            print(f"  {ids[-1]:>9,} customers  {time.perf_counter() - started:6.1f} s", flush=True)
        for model in (Customer, PhoneNumber, ConsentGrant):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))", [table]
            )
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"{args.customers:,} customers, {args.customers:,} numbers, {consents:,} consents"
        f"{' with history' if history else ' (no history rows)'}: COPY {loaded:.1f} s, "
        f"VACUUM ANALYZE {time.perf_counter() - started - loaded:.1f} s"
    )


if __name__ == "__main__":
    main()
