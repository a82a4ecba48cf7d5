"""Dialer hand-offs (POST /api/v1/dialer/next/ + a disposition) per second
through gunicorn with concurrent agents, beside the plain-Django floor
(bench/floor_wsgi.py's plain view, the same agents and gunicorn) and the
physical floor (a bare SKIP LOCKED claim loop in pgbench), fresh and aged.

    createdb -h 127.0.0.1 -U postgres consentdesk_bench_dialer
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_dialer
    DJANGO_DEBUG=1 .venv/bin/python manage.py migrate
    .venv/bin/python bench/dialer_handoffs.py --targets 1000000 --agents 50 --seconds 60 --blocked 0.01 --age 100000
    .venv/bin/python bench/dialer_handoffs.py --targets 10000 --agents 10 --seconds 10 --blocked 0.05 \
        --age 2000 --floor-seconds 5 --pgbench-seconds 5  # a smoke run

Options: [--workers 4] [--handoffs N] [--outcome no_answer] [--seal-every S].

Campaign "bench dialer handoffs" is informational and manual (no consent or
registry needed: calling hours, a company DNC request or an erasure block).
Its --targets customers and numbers come from bench/dialer_data.py (one
INSERT ... SELECT each, reused by later runs): area codes in calling hours
from now until the run ends, so the bench runs whenever some US zone is
awake (about 12:00-01:00 UTC; outside that it says so and exits); a share
--blocked has a ZIP in a zone closed for the whole run, due now: decided,
moved on, never handed. Earlier runs' attempts, unsealed decisions and target
history are deleted and the targets reset, so the database's name must
contain "bench". Agents bench-agent-0001...: Agents group, training, token.

Agent threads (http.client; sync workers close the connection after each
response) POST next, then a disposition (--outcome) that releases the lease:
one pair. Closed loop, on cores shared with gunicorn and PostgreSQL.
Checks: a number handed while another agent held it (the clients' own
ledger, and overlapping attempts of one number or one target in SQL),
attempts match target.attempts, attempts whose decision blocked, numbers
handed whose ZIP was closed (the blocked share).

Floors: (1) the same agent threads POST bench/floor_wsgi.py's plain Django
view for --floor-seconds on the same gunicorn settings: requests/s; target
pairs/s >= 10% of it. (2) bench/dialer_floor.sql in pgbench (8 clients,
--pgbench-seconds) on bench_dialer_floor, a copy of the targets (>= 200,000
rows, all due), gunicorn stopped.

--age K gives K due targets a past (1 or 2 no-answer attempts in the last
24 h, with their decision, target history rows and attempt counts, due again
now and first in the queue: those the engine counts), then measures again:
the aged run hands them (it says how many), target >= 80% of fresh pairs/s.
--seal-every S runs the fresh queue again with decision_log_seal every S
seconds in a thread of its own (issue 15: p95 within 10% of the run without).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("CONSENTDESK_SUPPRESSION_KEY", "bench-only-suppression-key-0123456789abcdef")
os.environ.setdefault("CONSENTDESK_VAR_DIR", "/tmp/consentdesk_bench_var")

import django

django.setup()

import check_api_latency as api_bench  # noqa: E402  (its gunicorn start, with a bench secret key)
import dialer_data  # noqa: E402
from django.db import connection  # noqa: E402

from campaigns.models import Campaign, CampaignTarget  # noqa: E402
from compliance.decision_log import decision_log_seal  # noqa: E402

CAMPAIGN = "bench dialer handoffs"
FLOOR_SQL = Path(__file__).resolve().parent / "dialer_floor.sql"
NEXT, FLOOR_PATH = "/api/v1/dialer/next/", "/floor/plain/"
TARGET_FLOOR_SHARE, TARGET_AGED = 0.10, 0.80
api_bench.LOG = Path("/tmp/consentdesk_bench_dialer_gunicorn.log")


class Ledger:
    """Numbers on agents' screens, as the clients saw them: a number handed
    while another agent holds it is a duplicate."""

    def __init__(self):
        self.lock, self.held, self.duplicates = threading.Lock(), {}, []

    def handed(self, number: str, agent: int) -> None:
        with self.lock:
            if number in self.held:
                self.duplicates.append((number, self.held[number], agent))
            self.held[number] = agent

    def released(self, number: str) -> None:
        with self.lock:
            self.held.pop(number, None)


def agent(port, token, body, outcome, stop_at, budget, ledger, me, out):
    server = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    disposition = json.dumps({"outcome": outcome}).encode()

    def post(path, payload):
        try:
            server.request("POST", path, body=payload, headers=headers)
            response = server.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            server.close()
            return type(exc).__name__, b""

    while time.perf_counter() < stop_at and budget.acquire(blocking=False):
        started = time.perf_counter()
        status, answer = post(NEXT, body)
        out.append(("next", time.perf_counter() - started, status))
        if status == 204:  # nothing callable now: an agent clicks "next" again a little later
            budget.release()
            time.sleep(0.2)
            continue
        if status != 200:
            break
        handoff = json.loads(answer)
        ledger.handed(handoff["phone_number"], me)
        status = post(f"/api/v1/dialer/attempts/{handoff['attempt']}/disposition/", disposition)[0]
        ledger.released(handoff["phone_number"])
        out.append(("disposition", None, status))
        if status != 200:
            break
    server.close()


def handoffs_run(args, tokens, campaign: Campaign, label: str, *, seal_every: float = 0) -> dict:
    connection.close()
    server, port = api_bench.server_start(args.workers, 1)
    body = json.dumps({"campaign": campaign.pk}).encode()
    budget = threading.Semaphore(args.handoffs or 10**9)
    outs: list[list] = [[] for _ in tokens]
    seals: list[tuple] = []
    ledger = Ledger()
    try:
        started = time.perf_counter()
        stop_at = started + args.seconds
        threads = [
            threading.Thread(
                target=agent, args=(port, token, body, args.outcome, stop_at, budget, ledger, k, outs[k])
            )
            for k, token in enumerate(tokens)
        ]
        done = threading.Event()
        seal = (
            threading.Thread(target=api_bench.sealer, args=(seal_every, done, seals)) if seal_every else None
        )
        for thread in [*threads, *([seal] if seal else [])]:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        done.set()
        if seal:
            seal.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    if seal_every:
        api_bench.seals_report(seal_every, seals)
    rows = [row for out in outs for row in out]
    ms = [s * 1000 for kind, s, status in rows if kind == "next" and status == 200]
    pairs = sum(1 for kind, _, status in rows if kind == "disposition" and status == 200)
    statuses = Counter(f"{kind} {status}" for kind, _, status in rows)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [0.0] * 99
    rate = pairs / wall
    print(
        f"{label}: gunicorn {args.workers} sync workers, {len(tokens)} agents: {pairs:,} pairs "
        f"(next + disposition) in {wall:.1f} s = {rate:,.1f} pairs/s\n"
        f"  next latency ms: p50 {cuts[49]:.1f}  p95 {cuts[94]:.1f}  p99 {cuts[98]:.1f}  "
        f"max {max(ms, default=0):.1f}\n"
        f"  status codes: {dict(statuses)}; numbers handed while another agent held them "
        f"(clients' ledger): {len(ledger.duplicates)}"
    )
    return {"rate": rate, "p50": cuts[49], "p95": cuts[94], "pairs": pairs, "dup": len(ledger.duplicates)}


def floor_http_run(args, tokens) -> float:
    """The plain Django view, same agent threads, same gunicorn settings: requests/s."""
    connection.close()
    server, port = api_bench.server_start(args.workers, 1, "bench.floor_wsgi:application")
    counts = [0] * len(tokens)

    def client(k, token, stop_at):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        while time.perf_counter() < stop_at:
            try:
                conn.request("POST", FLOOR_PATH, body=b"{}", headers=headers)
                response = conn.getresponse()
                response.read()
                counts[k] += response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
        conn.close()

    try:
        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(k, token, started + args.floor_seconds))
            for k, token in enumerate(tokens)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    rate = sum(counts) / wall
    print(
        f"floor, plain Django view: {len(tokens)} agents, gunicorn {args.workers} sync workers: "
        f"{sum(counts):,} requests in {wall:.1f} s = {rate:,.0f} requests/s"
    )
    return rate


VERIFY_SQL = """
SELECT (SELECT count(*) FROM campaigns_callattempt a JOIN campaigns_callattempt b
          ON b.target_id = a.target_id AND b.id > a.id AND b.handed_at < coalesce(a.ended_at, 'infinity')
         AND a.handed_at < coalesce(b.ended_at, 'infinity') WHERE a.campaign_id = %(c)s),
       (SELECT count(*) FROM campaigns_callattempt a JOIN campaigns_callattempt b
          ON b.phone_number_id = a.phone_number_id AND b.id > a.id
         AND b.handed_at < coalesce(a.ended_at, 'infinity') AND a.handed_at < coalesce(b.ended_at, 'infinity')
         WHERE a.campaign_id = %(c)s),
       (SELECT count(*) FROM campaigns_campaigntarget t JOIN (SELECT target_id, count(*) n
          FROM campaigns_callattempt WHERE campaign_id = %(c)s GROUP BY 1) a ON a.target_id = t.id
         WHERE a.n <> t.attempts),
       (SELECT count(*) FROM campaigns_callattempt a JOIN compliance_decisionrecord d ON d.id = a.decision_id
         WHERE a.campaign_id = %(c)s AND NOT d.allowed),
       (SELECT count(*) FROM campaigns_callattempt a JOIN customers_phonenumber p ON p.id = a.phone_number_id
         JOIN customers_customer c ON c.id = p.customer_id JOIN compliance_decisionrecord d ON d.id = a.decision_id
         WHERE a.campaign_id = %(c)s AND c.postal_code = ANY(%(closed)s) AND d.ruleset_version <> 'bench'),
       (SELECT count(*) FROM campaigns_callattempt WHERE campaign_id = %(c)s AND ended_at IS NULL),
       (SELECT count(*) FROM compliance_decisionrecord WHERE campaign_id = %(c)s AND kind = 'handoff'
         AND ruleset_version <> 'bench'),
       (SELECT count(*) FROM compliance_decisionrecord WHERE campaign_id = %(c)s AND NOT allowed)"""


def handoffs_verify(campaign: Campaign, layout: dict) -> dict:
    closed = [zip5 for _state, zip5 in layout["closed"]]
    with connection.cursor() as cursor:
        cursor.execute(VERIFY_SQL, {"c": campaign.pk, "closed": closed})
        by_target, by_number, mismatched, not_allowed, closed_handed, still_open, decisions, blocked = (
            cursor.fetchone()
        )
    print(
        f"  checks: overlapping attempts of one target {by_target}, of one number {by_number}; "
        f"attempts != target.attempts {mismatched}; attempts whose decision blocked {not_allowed}; "
        f"blocked (closed-ZIP) numbers handed {closed_handed}; attempts left open {still_open}; "
        f"hand-off decisions {decisions:,} ({blocked:,} blocked: moved on, not handed)"
    )
    return {
        "overlaps": by_target + by_number,
        "blocked_handed": not_allowed + closed_handed,
        "moved_on": blocked,
    }


def pgbench_floor_run(campaign: Campaign, targets: int, seconds: int) -> float:
    copies = -(-200_000 // targets)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_dialer_floor")
        cursor.execute("CREATE TABLE bench_dialer_floor (LIKE campaigns_campaigntarget INCLUDING DEFAULTS)")
        cursor.execute(
            """INSERT INTO bench_dialer_floor (id, campaign_id, phone_number_id, status, priority, attempts,
                   next_attempt_at, blocked_reasons, created_at, updated_at)
               SELECT row_number() OVER (), campaign_id, phone_number_id,
                   'queued', priority, 0, now() - random() * interval '1 hour', '[]', now(), now()
               FROM campaigns_campaigntarget, generate_series(1, %s) WHERE campaign_id = %s""",
            [copies, campaign.pk],
        )
        cursor.execute("ALTER TABLE bench_dialer_floor ADD PRIMARY KEY (id)")
        cursor.execute(
            "CREATE INDEX ON bench_dialer_floor (campaign_id, priority DESC, next_attempt_at, id) "
            "WHERE status = 'queued'"
        )
        cursor.execute("VACUUM ANALYZE bench_dialer_floor")
    settings = connection.settings_dict
    pgbench = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    command = [pgbench, "-n", "-f", str(FLOOR_SQL), "-D", f"campaign={campaign.pk}", "-c", "8", "-j", "2"]
    command += ["-T", str(seconds), "-h", settings["HOST"], "-p", str(settings["PORT"] or 5432)]
    command += ["-U", settings["USER"], settings["NAME"]]
    print("floor, pgbench: " + " ".join(command))
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FILTER (WHERE status = 'leased'), count(*) FROM bench_dialer_floor")
        claimed, rows = cursor.fetchone()
        cursor.execute("DROP TABLE bench_dialer_floor")
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    rate = claimed / seconds
    dry = " (RAN DRY: figure too low)" if claimed == rows else ""
    print(
        f"  {claimed:,} of {rows:,} rows claimed in {seconds} s = {rate:,.0f} claims/s{dry} "
        f"(pgbench tps {tps:,.0f})"
    )
    return rate


def queue_age(campaign: Campaign, count: int, agent_name: str, closed: list[str]) -> None:
    """`count` due targets (the first in queue order, none of the blocked share) get 1 or 2 no-answer
    attempts 5-11 h ago (one decision row for all: the log is append-only and
    a bench need not decide them), a "handed" and a "disposition" history row
    per attempt, and are due again before any other target: first in the queue."""
    started = time.perf_counter()
    history = CampaignTarget.history.model
    columns = [f.column for f in history._meta.concrete_fields if f.column != "history_id"]
    values = [
        {"history_date": "h.at", "history_change_reason": "h.reason", "history_type": "'~'"}.get(
            column, "a.agent" if column == "history_user_id" else f"t.{column}"
        )
        for column in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO compliance_decisionrecord (decided_at, recorded_at, kind, phone_number, number_hash,
                   number_key_id, customer_id, campaign_id, actor_id, allowed, reasons, evidence, facts,
                   ruleset_version)
               VALUES (now() - interval '12 hours', now(), 'handoff', '+13055550100', repeat('0', 64), '',
                   NULL, %s, NULL, true, '[]', '{}', '{}', 'bench') RETURNING id""",
            [campaign.pk],
        )
        decision = cursor.fetchone()[0]
        cursor.execute("SELECT id FROM auth_user WHERE username = %s", [agent_name])
        agent_id = cursor.fetchone()[0]
        cursor.execute(
            """CREATE TEMP TABLE bench_aged AS
               SELECT id, phone_number_id, 1 + id %% 2 AS n, (id %% 600) * interval '1 second' AS jitter
               FROM campaigns_campaigntarget t WHERE campaign_id = %s AND status = 'queued' AND attempts = 0
                   AND next_attempt_at <= now() AND NOT EXISTS (SELECT 1 FROM customers_phonenumber p
                       JOIN customers_customer c ON c.id = p.customer_id
                       WHERE p.id = t.phone_number_id AND c.postal_code = ANY(%s))
               ORDER BY priority DESC, next_attempt_at, id LIMIT %s""",
            [campaign.pk, closed, count],
        )
        cursor.execute(
            """INSERT INTO campaigns_callattempt (target_id, campaign_id, phone_number_id, subject, agent_id,
                   decision_id, caller_id, handed_at, ended_at, outcome, callback_at, notes)
               SELECT g.id, %(c)s, g.phone_number_id, 'bench dialer', %(agent)s, %(d)s, '+13055550100',
                   now() - (5 + 6 * j) * interval '1 hour' - g.jitter,
                   now() - (5 + 6 * j) * interval '1 hour' - g.jitter + interval '30 seconds', 'no_answer',
                   NULL, ''
               FROM bench_aged g, generate_series(0, g.n - 1) j""",
            {"c": campaign.pk, "agent": agent_id, "d": decision},
        )
        attempts = cursor.rowcount
        # Due before every fresh target (whose times spread over the hour before they were made).
        cursor.execute(
            """UPDATE campaigns_campaigntarget t SET attempts = g.n, updated_at = now(),
                   next_attempt_at = least(now() - interval '1 hour', q.first_due - interval '1 second')
                       - g.jitter
               FROM bench_aged g, (SELECT min(next_attempt_at) AS first_due FROM campaigns_campaigntarget
                   WHERE campaign_id = %s AND status = 'queued') q
               WHERE t.id = g.id""",
            [campaign.pk],
        )
        cursor.execute(
            f"""INSERT INTO {history._meta.db_table} ({", ".join(columns)})
                SELECT {", ".join(values)}
                FROM bench_aged g JOIN campaigns_campaigntarget t ON t.id = g.id
                CROSS JOIN LATERAL (SELECT %(agent)s AS agent) a
                CROSS JOIN LATERAL (
                    SELECT now() - (5 + 6 * j) * interval '1 hour' - g.jitter + s * interval '30 seconds' AS at,
                        CASE s WHEN 0 THEN 'handed to an agent' ELSE 'disposition: no_answer' END AS reason
                    FROM generate_series(0, g.n - 1) j, generate_series(0, 1) s) h""",
            {"agent": agent_id},
        )
        history_rows = cursor.rowcount
        cursor.execute("DROP TABLE bench_aged")
        for table in ("campaigns_campaigntarget", "campaigns_callattempt", history._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"aged {count:,} targets: {attempts:,} prior attempts, {history_rows:,} history rows, "
        f"in {time.perf_counter() - started:.1f} s"
    )


def aged_handed(campaign: Campaign, since: datetime) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM campaigns_callattempt a JOIN campaigns_campaigntarget t ON t.id = a.target_id "
            "WHERE a.campaign_id = %s AND a.handed_at >= %s AND t.attempts > 1",
            [campaign.pk, since],
        )
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--handoffs", type=int, help="stop after this many hand-offs (all agents)")
    parser.add_argument("--outcome", default="no_answer", choices=["no_answer", "connected", "busy"])
    parser.add_argument(
        "--blocked", type=float, default=0.0, help="share of targets due now in a closed zone"
    )
    parser.add_argument("--age", type=int, default=0, help="then give this many targets a past and run again")
    parser.add_argument("--floor-seconds", type=float, default=20, help="the plain-Django floor's run")
    parser.add_argument("--pgbench-seconds", type=int, default=20, help="the pgbench floor's run")
    parser.add_argument(
        "--seal-every",
        type=float,
        default=0,
        help="then run again with the log's seal every this many seconds",
    )
    args = parser.parse_args()

    name = dialer_data.database_check("delete targets and decisions")
    campaign = dialer_data.campaign_ensure(CAMPAIGN, "bench/dialer_handoffs.py")
    runs = 1 + bool(args.age) + bool(args.seal_every)
    minutes = (runs * args.seconds + args.floor_seconds + args.pgbench_seconds) / 60 + 15
    print(f"database {name}, campaign {campaign.pk}, now {datetime.now(UTC):%H:%M} UTC")
    layout = dialer_data.targets_ensure(campaign, targets=args.targets, blocked=args.blocked, minutes=minutes)
    tokens = dialer_data.agents_ensure(args.agents)

    fresh = handoffs_run(args, tokens, campaign, "fresh queue")
    checks = [handoffs_verify(campaign, layout)]
    sealed = None
    if args.seal_every:
        backlog = 0
        while chained := decision_log_seal(settle_timeout=30):
            backlog += chained
        print(f"sealed the backlog first: {backlog:,} rows")
        sealed = handoffs_run(
            args,
            tokens,
            campaign,
            f"fresh queue, seal every {args.seal_every:g} s",
            seal_every=args.seal_every,
        )
        checks.append(handoffs_verify(campaign, layout))
    floor = floor_http_run(args, tokens)
    pgbench = pgbench_floor_run(campaign, args.targets, args.pgbench_seconds)
    aged = None
    if args.age:
        queue_age(campaign, args.age, "bench-agent-0001", [zip5 for _state, zip5 in layout["closed"]])
        since = datetime.now(UTC)
        aged = handoffs_run(args, tokens, campaign, "aged queue")
        checks.append(handoffs_verify(campaign, layout))
        handed = aged_handed(campaign, since)
        short = " (RAN OUT of aged targets: raise --age)" if handed < aged["pairs"] else ""
        print(f"  aged targets handed in the aged run: {handed:,} of {aged['pairs']:,} pairs{short}")

    duplicates = sum(run["dup"] for run in (fresh, sealed, aged) if run) + sum(c["overlaps"] for c in checks)
    blocked_handed = sum(c["blocked_handed"] for c in checks)
    share = fresh["rate"] / floor if floor else 0.0
    lines = [
        f"hand-off bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, database {name}: {args.targets:,} targets "
        f"(blocked share {args.blocked:g}), {args.agents} agents, gunicorn {args.workers} sync workers, "
        f"{args.seconds:g} s a run, outcome {args.outcome}",
        f"  fresh: {fresh['rate']:,.1f} pairs/s; next p50 {fresh['p50']:.1f} ms, p95 {fresh['p95']:.1f} ms",
        f"  floor (plain Django view, same agents and gunicorn): {floor:,.0f} requests/s",
        f"  pairs/s / floor: {share:.1%} (target >= {TARGET_FLOOR_SHARE:.0%}: "
        f"{'met' if share >= TARGET_FLOOR_SHARE else 'MISSED'})",
        f"  pgbench SKIP LOCKED claim floor: {pgbench:,.0f} claims/s (hand-offs / it: {fresh['rate'] / max(pgbench, 1):.1%})",
    ]
    if sealed:
        lines.append(
            f"  seal every {args.seal_every:g} s: {sealed['rate']:,.1f} pairs/s, p95 {sealed['p95']:.1f} ms "
            f"({sealed['p95'] / max(fresh['p95'], 0.001):.0%} of fresh; target <= 110%)"
        )
    if aged:
        ratio = aged["rate"] / fresh["rate"] if fresh["rate"] else 0.0
        lines.append(
            f"  aged ({args.age:,} targets with 1-2 attempts in the last 24 h): {aged['rate']:,.1f} pairs/s, "
            f"p95 {aged['p95']:.1f} ms; aged / fresh {ratio:.0%} "
            f"(target >= {TARGET_AGED:.0%}: {'met' if ratio >= TARGET_AGED else 'MISSED'})"
        )
    lines.append(
        f"  duplicates (number handed while held) {duplicates}; blocked numbers handed {blocked_handed} "
        f"(target 0 and 0: {'met' if duplicates == blocked_handed == 0 else 'MISSED'})"
    )
    print("\n--- summary ---\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
