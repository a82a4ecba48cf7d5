"""Retention purge throughput (compliance.retention.retention_purge, batched
by primary key) against one bare DELETE of the same rows, per category, and
its batch transactions' p99, on the customers of bench/customers_generate.py.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_purge
    .venv/bin/python bench/purge_throughput.py [--rows 1000000] [--batch-size 2000] \
        [--categories call_attempts,consents_revoked]

Categories: call_attempts (campaigns.CallAttempt, not history-tracked: the
plain one) and consents_revoked (consent.ConsentGrant, history-tracked by
django-simple-history: each grant here has two history rows, "+" and "~",
which the purge deletes with it). For each, --rows expired rows (handed or
revoked 6 or 7 years ago, no legal hold) are made by one INSERT ... SELECT,
then VACUUM ANALYZE and a CHECKPOINT, and

(a) floor: one bare DELETE of them (and, for a history-tracked model, of
    their history rows first), one transaction;
(b) the same rows made again, then retention_purge(category=...) in this
    process (as the beat task runs it): rows/s, the share of the floor
    (target >= 60%), batches and p50/p99/max of the batch transactions
    (target p99 <= 100 ms; the max is PurgeRun.max_batch_ms).

Then history-tracked rows/s over plain rows/s (target >= 0.5). Earlier
bench rows of these categories are deleted first: the database's name must
contain "bench".
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from expired_attempts import attempts_make, campaign_ensure  # noqa: E402

from compliance import retention  # noqa: E402
from compliance.models import RetentionPolicy  # noqa: E402

CAMPAIGN = "bench purge throughput"
TARGETS = 50_000
SHARE_TARGET, P99_TARGET, HISTORY_TARGET = 0.60, 100.0, 0.5
CUTOFF = "now() - interval '6 years'"  # both categories' policies keep 5 or 6 years
TALLIES: list = []


class RecordingTally(retention._Tally):
    """The purge's own per-batch timings (it keeps them; PurgeRun stores the max)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        TALLIES.append(self)


retention._Tally = RecordingTally


def consents_make(cursor, rows: int) -> None:
    """Revoked consents with their "+" and "~" history rows, as the app writes them."""
    cursor.execute(
        f"""INSERT INTO consent_consentgrant (purpose, channel, written, source, evidence, granted_at,
               expires_at, recorded_at, revoked_at, revoked_via, revocation_note, phone_number_id,
               recorded_by_id, revoked_by_id)
           SELECT 'marketing', 'voice', true, 'web_form', '{{"disclosure_text": "bench"}}',
               {CUTOFF} - interval '2 years', NULL, {CUTOFF} - interval '2 years',
               {CUTOFF} - interval '1 day' - g * interval '10 seconds', 'sms', 'bench purge',
               p.id, NULL, NULL
           FROM generate_series(0, %(n)s - 1) g
           JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM (SELECT id FROM customers_phonenumber
                 ORDER BY id DESC LIMIT %(t)s) last) p ON p.k = g %% %(t)s""",
        {"n": rows, "t": TARGETS},
    )
    columns = (
        "id, purpose, channel, written, source, evidence, granted_at, expires_at, recorded_at, revoked_at, "
        "revoked_via, revocation_note, phone_number_id, recorded_by_id, revoked_by_id"
    )
    cursor.execute(
        f"""INSERT INTO consent_historicalconsentgrant ({columns}, history_date, history_change_reason,
               history_type, history_user_id)
           SELECT {columns.replace("revoked_at, revoked_via", "NULL, ''")}, granted_at, 'bench', '+', NULL::integer
           FROM consent_consentgrant WHERE revocation_note = 'bench purge'
           UNION ALL
           SELECT {columns}, revoked_at, 'bench', '~', NULL::integer
           FROM consent_consentgrant WHERE revocation_note = 'bench purge'"""
    )


def consents_clear(cursor) -> None:
    cursor.execute(
        "DELETE FROM consent_historicalconsentgrant WHERE id IN "
        "(SELECT id FROM consent_consentgrant WHERE revocation_note = 'bench purge')"
    )
    cursor.execute("DELETE FROM consent_consentgrant WHERE revocation_note = 'bench purge'")


CATEGORIES = {
    "call_attempts": {
        "history": False,
        "floor": [f"DELETE FROM campaigns_callattempt WHERE handed_at < {CUTOFF}"],
        "tables": ["campaigns_callattempt"],
    },
    "consents_revoked": {
        "history": True,
        "floor": [
            "DELETE FROM consent_historicalconsentgrant WHERE id IN "
            f"(SELECT id FROM consent_consentgrant WHERE revoked_at < {CUTOFF})",
            f"DELETE FROM consent_consentgrant WHERE revoked_at < {CUTOFF}",
        ],
        "tables": ["consent_consentgrant", "consent_historicalconsentgrant"],
    },
}


def rows_make(key: str, rows: int, campaign: int, decision: int) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if key == "call_attempts":
            attempts_make(cursor, rows=rows, campaign=campaign, decision=decision, targets=TARGETS)
        else:
            consents_clear(cursor)
            consents_make(cursor, rows)
        for table in CATEGORIES[key]["tables"]:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CHECKPOINT")
    print(f"  {key}: {rows:,} expired rows made in {time.perf_counter() - started:.0f} s")


def floor_measure(key: str) -> tuple[float, int]:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL consentdesk.retention_purge = 'on'")
        deleted = 0
        for statement in CATEGORIES[key]["floor"]:
            cursor.execute(statement)
            deleted = cursor.rowcount  # the last statement's: the category's own rows
    return time.perf_counter() - started, deleted


def purge_measure(key: str, batch_size: int):
    TALLIES.clear()
    started = time.perf_counter()
    (run,) = retention.retention_purge(category=key, trigger="task", batch_size=batch_size)
    seconds = time.perf_counter() - started
    return seconds, run, list(TALLIES[-1].batch_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=retention.BATCH_SIZE)
    parser.add_argument("--categories", default="call_attempts,consents_revoked")
    args = parser.parse_args()
    keys = args.categories.split(",")

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to delete call attempts and consents in '{name}': use a database named *bench*.")
    for key in keys:  # the policies as their defaults, active: the purge applies them
        policy = RetentionPolicy.objects.get(category=key)
        policy.active, policy.action = True, retention.DELETE
        policy.period_days = retention.retention_category(key).default_days
        policy._change_reason = "bench/purge_throughput.py"
        policy.save()
    campaign, decision = campaign_ensure(name=CAMPAIGN, targets=TARGETS, reason="bench/purge_throughput.py")
    print(f"database {name}, {args.rows:,} rows per category, batch size {args.batch_size:,}")
    rates, missed = {}, []
    for key in keys:
        rows_make(key, args.rows, campaign, decision)
        floor, floor_rows = floor_measure(key)
        print(
            f"  (a) floor, one bare DELETE:   {floor:6.1f} s  {floor_rows / floor:>9,.0f} rows/s ({floor_rows:,} rows)"
        )
        rows_make(key, args.rows, campaign, decision)
        seconds, run, batch_ms = purge_measure(key, args.batch_size)
        rate = run.deleted / seconds
        share = rate / (floor_rows / floor)
        cuts = (
            statistics.quantiles(batch_ms, n=100, method="inclusive") if len(batch_ms) > 1 else batch_ms * 99
        )
        rates[key] = rate
        print(
            f"  (b) retention_purge:          {seconds:6.1f} s  {rate:>9,.0f} rows/s ({run.deleted:,} rows, "
            f"{run.status}) = {share:.0%} of the floor (target >= {SHARE_TARGET:.0%})\n"
            f"      {run.batches:,} batches; batch transaction ms p50 {cuts[49]:.1f}  p99 {cuts[98]:.1f}  "
            f"max {run.max_batch_ms:.1f} (PurgeRun.max_batch_ms; target p99 <= {P99_TARGET:.0f})"
        )
        if share < SHARE_TARGET:
            missed.append(f"{key} share")
        if cuts[98] > P99_TARGET:
            missed.append(f"{key} p99")
    if "call_attempts" in rates and "consents_revoked" in rates:
        ratio = rates["consents_revoked"] / rates["call_attempts"]
        print(f"history-tracked / plain rows/s: {ratio:.2f} (target >= {HISTORY_TARGET})")
        if ratio < HISTORY_TARGET:
            missed.append("history ratio")
    print("targets: " + ("met" if not missed else "MISSED: " + ", ".join(missed)))


if __name__ == "__main__":
    main()
