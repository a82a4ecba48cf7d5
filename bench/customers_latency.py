"""p50/p95 latency and SQL queries per request of the customer list pages, on
the 1M customers of bench/customers_generate.py.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_customers
    export DJANGO_SECRET_KEY=bench-only-key-0123456789abcdef0123456789abcdef DJANGO_SECURE_SSL_REDIRECT=0 \
        CONSENTDESK_SUPPRESSION_KEY=bench-only-suppression-key-0123456789abcdef
    .venv/bin/python bench/customers_latency.py [--requests 60] [--explain]

Requests go through Django's test Client, in process, against the real
PostgreSQL database (the whole stack: middleware, session auth, admin or
DRF, templates; no network and no gunicorn), logged in as a superuser
("bench-root", created if missing). Production settings (DEBUG off) unless
DJANGO_DEBUG is set. Each URL gets a few warm-up requests, then --requests
timed ones; the query count is taken on one extra request (capturing SQL
slows a request down, so it is not timed). Target: p95 < 300 ms, and the
same number of queries on every page. --explain prints EXPLAIN ANALYZE of
the slowest query of each URL.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

TARGET_MS = 300
NUMBER = "+13055550123"


def admin_urls() -> list[tuple[str, str]]:
    base = "/admin/customers/customer/"
    return [
        ("admin list, page 1", base),
        ("admin list, page 201 (offset 10,000)", f"{base}?p=200"),
        ("admin list, page 2001 (offset 100,000)", f"{base}?p=2000"),
        ("admin search +13055550123", f"{base}?{urlencode({'q': NUMBER})}"),
        ("admin search (305) 555-0123", f"{base}?{urlencode({'q': '(305) 555-0123'})}"),
        ("admin search last name (starts with)", f"{base}?{urlencode({'q': 'Chen12'})}"),
        ("admin search email", f"{base}?{urlencode({'q': 'ada.smith.1@example.com'})}"),
    ]


def api_urls(client: Client) -> list[tuple[str, str]]:
    base = "/api/v1/customers/"
    urls = [("API list, page 1", base)]
    # A later page: follow the keyset cursor 20 pages in.
    url = base
    for _ in range(20):
        response = client.get(url, secure=True)
        if response.status_code != 200 or not response.json().get("next"):
            break
        url = response.json()["next"].split("://", 1)[-1]
        url = url[url.index("/") :]
    if url != base:
        urls.append(("API list, page 21 (cursor)", url))
    urls.append(("API ?phone=+13055550123", f"{base}?{urlencode({'phone': NUMBER})}"))
    urls.append(("API ?phone=(305) 555-0123", f"{base}?{urlencode({'phone': '(305) 555-0123'})}"))
    return urls


def measure(client: Client, url: str, requests: int) -> dict:
    for _ in range(3):
        response = client.get(url, secure=True)
    if response.status_code != 200:
        return {"status": response.status_code}
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, secure=True)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as captured:
        client.get(url, secure=True)
    timings.sort()
    return {
        "status": 200,
        "p50": statistics.median(timings),
        "p95": timings[max(0, round(0.95 * len(timings)) - 1)],
        "max": timings[-1],
        "queries": len(captured.captured_queries),
        "slowest": max(captured.captured_queries, key=lambda q: float(q["time"]))["sql"],
        "all_sql": [q["sql"] for q in captured.captured_queries],
    }


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(f"      {row[0]}" for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--sql", action="store_true", help="print every query of each URL")
    parser.add_argument("--only", default="", help="measure only URLs whose label contains this")
    args = parser.parse_args()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer")
        (customers,) = cursor.fetchone()
    print(f"database {connection.settings_dict['NAME']}: {customers:,} customers; DEBUG={settings.DEBUG}")
    user, created = get_user_model().objects.get_or_create(
        username="bench-root", defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    urls = [(label, url) for label, url in admin_urls() + api_urls(client) if args.only in label]
    print(f"{'URL':44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    missed = []
    for label, url in urls:
        result = measure(client, url, args.requests)
        if result["status"] != 200:
            print(f"{label:44} HTTP {result['status']} ({url})")
            missed.append(label)
            continue
        flag = "" if result["p95"] < TARGET_MS else "  <- over target"
        print(
            f"{label:44} {result['p50']:8.1f} {result['p95']:8.1f} {result['max']:8.1f} {result['queries']:8}{flag}"
        )
        if flag:
            missed.append(label)
        if args.sql:
            for sql in result["all_sql"]:
                print(f"      {sql[:300]}")
        if args.explain:
            print(explain(result["slowest"]))
    print(f"{args.requests} timed requests per URL; target p95 < {TARGET_MS} ms: ", end="")
    print("met" if not missed else f"MISSED for {', '.join(missed)}")


if __name__ == "__main__":
    main()
