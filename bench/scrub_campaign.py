"""Pre-launch scrub of a 1M-target campaign (issue 5): target < 60 s.

    createdb -h 127.0.0.1 -U postgres consentdesk_bench_scrub
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_scrub DJANGO_DEBUG=1
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/customers_generate.py --customers 1000000 --no-history
    .venv/bin/python bench/registry_import.py --numbers 10000000 --customers 1000000   # optional
    .venv/bin/python bench/scrub_campaign.py --setup [--targets 1000000]
    .venv/bin/python bench/scrub_campaign.py [--runs 2] [--campaign marketing|informational|both]
        [--at 2026-11-17T18:00:00+00:00] [--batch 100000] [--profile /tmp/scrub.prof]

--setup adds what bench/customers_generate.py does not (deterministic, by
id; earlier --setup rows are replaced): company DNC requests for 2% of the
numbers, revoked (10%) and expired (5%) consents among the third that have
one, 1% reassigned numbers, 5% recent inquiries, 0.1% erased customers (number
gone, its hash on the suppression list). Then two campaigns, "bench scrub
marketing" (marketing, autodialed) and "bench scrub informational"
(informational, manual), each filled with the first --targets numbers by one
INSERT ... SELECT (earlier targets and scrubs deleted), and VACUUM ANALYZE.
--setup --spread first rewrites the numbers over ~200,000 prefixes of every
US area code (a national customer base; customers_generate has 100): the
cold run's per-prefix work (time zones, validity) is then realistic, but
the registry file no longer matches the customers.
The national registry of bench/registry_import.py (half of the customers'
numbers listed) makes the marketing scrub check the registry; without it,
every marketing target is `registry_data_missing`.

A run is the admin's path: `scrub_start` records the scrub (a 1M campaign is
for the worker, so the task's enqueueing is caught and not sent) and
`scrub_run` runs it, as the worker does, in this process. The first run in
the process is cold (compliance.jurisdictions has memoised no prefix yet);
--runs 2 then shows a warm worker's figure. A thread with its own
connection polls the scrub's rows_done while it runs (what the page's
progress bar shows). Prints the targets, seconds (SQL: time inside
cursor.execute on this thread; the facts' queries run beside it on the
prefetching thread and count as Python here), the place facts computed with
phonenumbers, decisions made (distinct decision keys), counts now / later
today / later / never, the progress seen and whether the target was met.

Figures (2026-12-03, 2 cores, 1M targets, registry of 10M, not spread):
the engine path (facts_gather_many + decide per decision key) 53.0 s cold
and 49.5 s warm for the marketing campaign, 42.6 s / 49.8 s informational;
the SQL rule engine it replaced took 18.7 s / 15.2 s on the same data. At a
fixed instant (--at 2026-12-03T18:00:00+00:00) both give the same counts and
reasons.

The database's name must contain "bench" (--setup rewrites tables).
"""

import argparse
import cProfile
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, connections  # noqa: E402

from campaigns import scrub  # noqa: E402
from campaigns.models import Campaign, CampaignScrub  # noqa: E402
from campaigns.services import campaign_create  # noqa: E402
from compliance import jurisdictions  # noqa: E402
from compliance.jurisdictions import NON_GEOGRAPHIC_AREA_CODES, STATE_OF_AREA_CODE  # noqa: E402
from consent.services import number_hash  # noqa: E402

TARGET_SECONDS = 60.0
CAMPAIGNS = {
    "marketing": {
        "name": "bench scrub marketing",
        "purpose": Campaign.Purpose.MARKETING,
        "dialing_mode": Campaign.DialingMode.AUTODIALED,
        "subject": "bench scrub offers",
    },
    "informational": {
        "name": "bench scrub informational",
        "purpose": Campaign.Purpose.INFORMATIONAL,
        "dialing_mode": Campaign.DialingMode.MANUAL,
        "subject": "bench scrub notices",
    },
}
MARK = "bench scrub"


def bench_database_required() -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to run against '{name}': use a PostgreSQL database named *bench*.")


def numbers_spread(cursor) -> None:
    """Rewrite the customers' numbers over ~200,000 prefixes (+1NPANXX) of
    every US area code, as a national customer base has, instead of
    customers_generate's 100: the number facts (time zones, validity) are
    computed per prefix. Bijective on ids 1..1M (distinct prefix index
    id * 104729 mod 200003, line id mod 10000); DNC requests follow their
    number. The registry file of registry_import.py then no longer matches
    the customers (listing becomes rare)."""
    npas = sorted(code for code in STATE_OF_AREA_CODE if code not in NON_GEOGRAPHIC_AREA_CODES)
    cursor.execute(
        """CREATE TEMP TABLE bench_spread AS
           SELECT p.id, p.number AS old,
                  '+1' || (%(npas)s::int[])[1 + mod(mod(p.id * 104729, 200003), %(n)s)]::text
                  || (200 + mod(mod(p.id * 104729, 200003) / %(n)s, 800))::text
                  || lpad(mod(p.id, 10000)::text, 4, '0') AS new
           FROM customers_phonenumber p WHERE p.number IS NOT NULL""",
        {"npas": npas, "n": len(npas)},
    )
    cursor.execute(
        "UPDATE consent_dncrequest d SET number = s.new FROM bench_spread s WHERE d.number = s.old"
    )
    cursor.execute(
        "UPDATE customers_phonenumber p SET number = 'x' || p.id FROM bench_spread s WHERE s.id = p.id"
    )
    cursor.execute("UPDATE customers_phonenumber p SET number = s.new FROM bench_spread s WHERE s.id = p.id")
    cursor.execute("SELECT count(DISTINCT left(new, 8)) FROM bench_spread")
    print(f"numbers spread over {cursor.fetchone()[0]:,} prefixes of {len(npas)} area codes")
    cursor.execute("DROP TABLE bench_spread")


def setup(targets: int, spread: bool) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if spread:
            numbers_spread(cursor)
        cursor.execute("DELETE FROM consent_dncrequest WHERE reason = %s", [MARK])
        cursor.execute(
            "INSERT INTO consent_dncrequest (number, source, reason, evidence, requested_at, created_at) "
            "SELECT number, 'api', %s, '{}', now() - (mod(id, 700)) * interval '1 day', now() "
            "FROM customers_phonenumber WHERE number IS NOT NULL AND mod(id, 50) = 7",
            [MARK],
        )
        dnc = cursor.rowcount
        # Consents (ids of customers_generate: one per third of the numbers):
        # revoked, expired, a few expiring later; the rest untouched.
        cursor.execute(
            "UPDATE consent_consentgrant SET revoked_at = CASE WHEN mod(id, 10) = 3 "
            "THEN granted_at + (now() - granted_at) / 3 END, revoked_via = CASE WHEN mod(id, 10) = 3 THEN 'api' ELSE '' END, "
            "expires_at = CASE WHEN mod(id, 20) = 5 THEN granted_at + (now() - granted_at) / 2 "
            "WHEN mod(id, 20) = 15 THEN now() + interval '60 days' END"
        )
        cursor.execute(
            "UPDATE customers_phonenumber SET reassigned_at = CASE WHEN mod(id, 100) = 11 "
            "THEN now() - interval '30 days' END"
        )
        cursor.execute(
            "UPDATE customers_customer SET last_inquiry_at = CASE WHEN mod(id, 20) = 9 "
            "THEN now() - (mod(id, 120)) * interval '1 day' END"
        )
        # Erased customers: number gone, its hash suppressed (once: a second
        # --setup finds them erased already).
        cursor.execute(
            "SELECT p.id, p.number FROM customers_phonenumber p WHERE mod(p.customer_id, 1000) = 13 "
            "AND p.number IS NOT NULL"
        )
        erased = cursor.fetchall()
        with cursor.copy(
            "COPY consent_suppressionentry (number_hash, source, reason, created_at) FROM STDIN"
        ) as copy:
            for _pk, number in erased:
                copy.write_row([number_hash(number), "bench", "erasure: bench", datetime.now(UTC)])
        cursor.execute(
            "UPDATE customers_phonenumber SET number = NULL WHERE mod(customer_id, 1000) = 13 AND number IS NOT NULL"
        )
        cursor.execute(
            "UPDATE customers_customer SET erased_at = now() - interval '10 days', first_name = 'Erased' "
            "WHERE mod(id, 1000) = 13"
        )
        cursor.execute("DELETE FROM consent_dncrequest WHERE number IS NULL")
    print(
        f"extras: {dnc:,} DNC requests, {len(erased):,} erased customers (suppressed), "
        f"revoked/expired consents, reassigned numbers, inquiries ({time.perf_counter() - started:.1f} s)"
    )
    for spec in CAMPAIGNS.values():
        campaign = Campaign.objects.filter(name=spec["name"]).first() or campaign_create(
            fields={**spec, "caller_id": "+13055550100", "status": Campaign.Status.DRAFT},
            by=None,
            reason=MARK,
        )
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM campaigns_campaignscrub WHERE campaign_id = %s", [campaign.pk])
            cursor.execute("DELETE FROM campaigns_campaigntarget WHERE campaign_id = %s", [campaign.pk])
            cursor.execute(
                """INSERT INTO campaigns_campaigntarget (campaign_id, phone_number_id, status, priority, attempts,
                       next_attempt_at, blocked_reasons, created_at, updated_at)
                   SELECT %s, p.id, 'queued', 0, 0, now(), '[]', now(), now()
                   FROM (SELECT id FROM customers_phonenumber ORDER BY id LIMIT %s) p""",
                [campaign.pk, targets],
            )
            count = cursor.rowcount
        print(
            f"campaign '{campaign.name}' ({campaign.pk}): {count:,} targets, {time.perf_counter() - started:.1f} s"
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


class SqlTimer:
    """connection.execute_wrapper: seconds spent in cursor.execute."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def progress_watch(scrub_id: int, stop: threading.Event, seen: list, started: float) -> None:
    """Poll rows_done from another connection (what the page sees)."""
    try:
        while not stop.is_set():
            row = (
                CampaignScrub.objects.filter(pk=scrub_id)
                .values_list("status", "rows_done", "rows_total")
                .first()
            )
            if row and (not seen or seen[-1][1:] != row):
                seen.append((time.perf_counter() - started, *row))
            stop.wait(0.25)
    finally:
        connections.close_all()


def scrub_once(campaign: Campaign, at: datetime | None, batch: int, profile: str | None) -> dict:
    queued = []
    with mock.patch.object(scrub.scrub_run_task, "delay_on_commit", queued.append):
        record = scrub.scrub_start(campaign=campaign, by=None, at=at)
    if not queued:  # small campaign: scrub_start ran it in the request
        sys.exit("The campaign is scrubbed in the request (<= SYNC_LIMIT targets): use more targets.")
    stop, seen = threading.Event(), []
    timer = SqlTimer()
    started = time.perf_counter()
    watcher = threading.Thread(target=progress_watch, args=(record.pk, stop, seen, started), daemon=True)
    watcher.start()
    profiler = cProfile.Profile() if profile else None
    facts = {"n": 0, "seconds": 0.0}
    number_facts = jurisdictions.number_place_exact

    def timed_number_facts(e164):
        begun = time.perf_counter()
        try:
            return number_facts(e164)
        finally:
            facts["n"] += 1
            facts["seconds"] += time.perf_counter() - begun

    with (
        connection.execute_wrapper(timer),
        mock.patch.object(scrub, "BATCH_SIZE", batch),
        mock.patch.object(jurisdictions, "number_place_exact", timed_number_facts),
    ):
        if profiler:
            profiler.enable()
        done = scrub.scrub_run(scrub_id=queued[0])
        if profiler:
            profiler.disable()
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()
    if profiler:
        profiler.dump_stats(profile)
    return {
        "scrub": done,
        "seconds": seconds,
        "sql": timer.seconds,
        "queries": timer.queries,
        "seen": seen,
        "facts": facts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--setup", action="store_true", help="add the extras and fill the campaigns, then exit"
    )
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--spread", action="store_true", help="with --setup: numbers over ~200k prefixes")
    parser.add_argument("--campaign", choices=["marketing", "informational", "both"], default="both")
    parser.add_argument("--runs", type=int, default=2, help="runs per campaign in this process")
    parser.add_argument("--at", type=datetime.fromisoformat, default=None, help="decide at (default: now)")
    parser.add_argument("--batch", type=int, default=scrub.BATCH_SIZE)
    parser.add_argument("--profile", help="cProfile the first run into this file")
    args = parser.parse_args()
    bench_database_required()
    if args.setup:
        setup(args.targets, args.spread)
        return
    names = list(CAMPAIGNS) if args.campaign == "both" else [args.campaign]
    missed = []
    for key in names:
        campaign = Campaign.objects.get(name=CAMPAIGNS[key]["name"])
        for run in range(1, args.runs + 1):
            profile = args.profile if args.profile and run == 1 else None
            if profile and len(names) > 1:
                profile = f"{profile}.{key}"
            measured = scrub_once(campaign, args.at, args.batch, profile)
            record, seconds, sql = measured["scrub"], measured["seconds"], measured["sql"]
            result = record.result
            classes = result["classes"]
            label = "cold" if run == 1 else "warm"
            print(
                f"{campaign.name} ({campaign.purpose}, {campaign.dialing_mode}), run {run} ({label} process), "
                f"at {record.at.isoformat()}:"
            )
            print(
                f"  targets {result['total']:,}  total {seconds:.1f} s  (SQL {sql:.1f} s in "
                f"{measured['queries']} queries, Python {seconds - sql:.1f} s)  decisions (groups) "
                f"{result['decisions']:,}  batch {args.batch:,}"
            )
            print(
                f"  place facts computed (phonenumbers, one per prefix not yet memoised): {measured['facts']['n']:,} "
                f"in {measured['facts']['seconds']:.1f} s"
            )
            print(
                "  now {now:,}  later today {later_today:,}  later {later:,}  never {never:,}".format(
                    **classes
                )
            )
            top = sorted(result["reasons"].items(), key=lambda item: -item[1])[:6]
            print("  top reasons: " + ", ".join(f"{code} {n:,}" for code, n in top))
            seen = [(t, done) for t, status, done, _total in measured["seen"] if status == "running"]
            print(
                f"  progress seen by another connection while running: {len(seen)} distinct rows_done values "
                + "("
                + ", ".join(f"{t:.1f}s:{done:,}" for t, done in seen[:12])
                + ")"
            )
            met = seconds < TARGET_SECONDS
            print(f"  target < {TARGET_SECONDS:.0f} s: {'met' if met else 'MISSED'}")
            if not met:
                missed.append(f"{key} run {run}")
    print("all runs met the target" if not missed else f"MISSED: {', '.join(missed)}")


if __name__ == "__main__":
    main()
