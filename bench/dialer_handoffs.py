"""Dialer hand-offs per second and p50/p95/p99 of POST /api/v1/dialer/next/
through gunicorn with concurrent agents, beside the physical floor (a bare
SKIP LOCKED claim loop in pgbench), on the customers of bench/customers_generate.py.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench
    .venv/bin/python bench/dialer_handoffs.py --targets 20000 --agents 10 --seconds 15 --blocked 0.05 --age 2000
    .venv/bin/python bench/dialer_handoffs.py [--targets 1000000] [--agents 50] [--workers 4] \
        [--seconds 60 | --handoffs N] [--outcome no_answer] [--blocked 0.0] [--age K]

Campaign "bench dialer handoffs" is informational and manual (no consent or
registry needed: only calling hours, a company DNC request or an erasure
block), filled with the first --targets numbers by one INSERT ... SELECT,
then VACUUM ANALYZE. The real clock decides: a number is due now only when
all its candidate zones (area code's, ZIP's) are in 08:00-21:00 local now and
for the run; the rest wait for tomorrow, but a share --blocked of them is due
too (to be moved on, never handed). Earlier runs' targets, attempts, their
unsealed decisions and target history are deleted first: the database's name
must contain "bench". Agents bench-agent-NN: Agents group, training, token.

Agent threads (keep-alive http.client; sync workers close it anyway) POST
next, then a disposition (--outcome) that releases the lease. Latency is the
next call's, closed loop, on cores shared with gunicorn and PostgreSQL. SQL
then checks: no overlapping attempts of one target, attempts match
target.attempts, every attempt's decision allowed, no out-of-hours number
handed. Floor: bench/dialer_floor.sql, 8 clients, 20 s, gunicorn stopped, on
bench_dialer_floor (a copy of the targets, >= 200,000 rows, all due).
--age K ages the queue as K hand-offs would (lease, then disposition, in
10,000-row batches; no attempts or decisions) and measures again.
--seal-every S runs the fresh queue again with decision_log_seal every S
seconds in a thread of its own (issue 15: p95 within 10% of the run without).
Targets: >= 300 hand-offs/s, p95 < 50 ms, aged >= 80% of fresh.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("CONSENTDESK_SUPPRESSION_KEY", "bench-only-suppression-key-0123456789abcdef")

import django

django.setup()

import check_api_latency as api_bench  # noqa: E402  (its gunicorn start, with a bench secret key)
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.roles import AGENTS  # noqa: E402
from accounts.services import training_current_until, training_record  # noqa: E402
from campaigns.models import Campaign  # noqa: E402
from campaigns.services import campaign_create  # noqa: E402
from compliance.decision_log import decision_log_seal  # noqa: E402
from compliance.jurisdictions import candidate_zones  # noqa: E402
from compliance.policy import _zone  # noqa: E402

CAMPAIGN = "bench dialer handoffs"
FLOOR_SQL = Path(__file__).resolve().parent / "dialer_floor.sql"
api_bench.LOG = Path("/tmp/consentdesk_bench_dialer_gunicorn.log")
OPEN, CLOSE = 8 * 60, 21 * 60  # federal window, local minutes


def campaign_reset() -> Campaign:
    campaign = Campaign.objects.filter(name=CAMPAIGN).first() or campaign_create(
        fields={
            "name": CAMPAIGN,
            "purpose": Campaign.Purpose.INFORMATIONAL,
            "dialing_mode": Campaign.DialingMode.MANUAL,
            "subject": "bench dialer",
            "caller_id": "+13055550100",
            "status": Campaign.Status.ACTIVE,
        },
        by=None,
        reason="bench/dialer_handoffs.py",
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_callattempt WHERE campaign_id = %s", [campaign.pk])
        # The decision log refuses deletes of rows under the legal minimum; a
        # bench database's earlier run is the one exception: the bench runs as
        # the database's superuser, which may switch triggers off for a transaction.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "DELETE FROM compliance_decisionrecord d WHERE campaign_id = %s AND NOT EXISTS "
            "(SELECT 1 FROM compliance_decisionchainlink l WHERE l.decision_id = d.id)",
            [campaign.pk],
        )
        cursor.execute("DELETE FROM campaigns_historicalcampaigntarget WHERE campaign_id = %s", [campaign.pk])
        cursor.execute("DELETE FROM campaigns_campaigntarget WHERE campaign_id = %s", [campaign.pk])
    return campaign


def agents_ensure(count: int) -> list[str]:
    group, tokens = Group.objects.get(name=AGENTS), []
    for k in range(1, count + 1):
        user, created = get_user_model().objects.get_or_create(username=f"bench-agent-{k:02d}")
        if created:
            user.set_unusable_password()
            user.save()
        user.groups.add(group)
        if training_current_until(agent=user, at=datetime.now(UTC) + timedelta(hours=1)) is None:
            training_record(agent=user, by=None, note="bench/dialer_handoffs.py")
        tokens.append(Token.objects.get_or_create(user=user)[0].key)
    return tokens


def callable_pairs(cursor, targets: int, minutes: float) -> set[tuple[str, str]]:
    """(area code prefix, postal code) pairs whose every candidate zone is in
    the federal window from now until `minutes` later."""
    cursor.execute(
        "SELECT left(p.number, 5), c.postal_code, min(p.number) FROM (SELECT * FROM customers_phonenumber "
        "WHERE number IS NOT NULL ORDER BY id LIMIT %s) p JOIN customers_customer c ON c.id = p.customer_id "
        "GROUP BY 1, 2",
        [targets],
    )
    now, pairs = datetime.now(UTC), set()
    for prefix, postal, sample in cursor.fetchall():
        zones = [_zone(name) for name in candidate_zones(e164=sample, postal_code=postal)]
        local = [now.astimezone(zone) for zone in zones if zone]
        if zones and len(local) == len(zones):
            starts = [t.hour * 60 + t.minute for t in local]
            if all(m >= OPEN + 1 and m + minutes < CLOSE for m in starts):
                pairs.add((prefix, postal))
    return pairs


def targets_load(campaign: Campaign, count: int, pairs: set, blocked: float) -> int:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_callable (prefix text, postal text)")
        with cursor.copy("COPY bench_callable FROM STDIN") as copy:
            for pair in pairs:
                copy.write_row(pair)
        cursor.execute(
            """INSERT INTO campaigns_campaigntarget (campaign_id, phone_number_id, status, priority, attempts,
                   next_attempt_at, blocked_reasons, created_at, updated_at)
               SELECT %(campaign)s, p.id, 'queued', 0, 0,
                   CASE WHEN k.prefix IS NOT NULL OR random() < %(blocked)s
                        THEN now() - (p.id %% 3600) * interval '1 second' ELSE now() + interval '1 day' END,
                   '[]', now(), now()
               FROM (SELECT * FROM customers_phonenumber WHERE number IS NOT NULL ORDER BY id LIMIT %(n)s) p
               JOIN customers_customer c ON c.id = p.customer_id
               LEFT JOIN bench_callable k ON k.prefix = left(p.number, 5) AND k.postal = c.postal_code""",
            {"campaign": campaign.pk, "blocked": blocked, "n": count},
        )
        cursor.execute("DROP TABLE bench_callable")
        cursor.execute("VACUUM ANALYZE campaigns_campaigntarget")
        cursor.execute(
            "SELECT count(*) FILTER (WHERE next_attempt_at <= now()), count(*) FROM campaigns_campaigntarget "
            "WHERE campaign_id = %s",
            [campaign.pk],
        )
        due, total = cursor.fetchone()
    print(f"loaded {total:,} targets ({due:,} due now) in {time.perf_counter() - started:.1f} s")
    return due


def agent(port, token, body, outcome, stop_at, budget, out):
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
        status, answer = post("/api/v1/dialer/next/", body)
        out.append((time.perf_counter() - started, status))
        if status == 204:  # nothing callable now: an agent clicks "next" again a little later
            budget.release()
            time.sleep(0.2)
            continue
        if status != 200:
            break
        attempt = json.loads(answer)["attempt"]
        out.append((None, post(f"/api/v1/dialer/attempts/{attempt}/disposition/", disposition)[0]))
    server.close()


def handoffs_run(
    args, tokens, campaign: Campaign, label: str, *, seal_every: float = 0
) -> tuple[float, float]:
    """(hand-offs/s, p95 of next in ms)."""
    connection.close()
    server, port = api_bench.server_start(args.workers, 1)
    body = json.dumps({"campaign": campaign.pk}).encode()
    budget = threading.Semaphore(args.handoffs or 10**9)
    outs: list[list] = [[] for _ in tokens]
    seals: list[tuple] = []
    try:
        started = time.perf_counter()
        stop_at = started + args.seconds
        threads = [
            threading.Thread(target=agent, args=(port, token, body, args.outcome, stop_at, budget, out))
            for token, out in zip(tokens, outs, strict=True)
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
    ms = [s * 1000 for out in outs for s, status in out if s is not None and status == 200]
    statuses = Counter(status for out in outs for _, status in out)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [0.0] * 99
    rate = len(ms) / wall
    print(
        f"{label}: gunicorn {args.workers} sync workers, {len(tokens)} agents: {len(ms):,} hand-offs in "
        f"{wall:.1f} s = {rate:,.0f} hand-offs/s (target >= 300)\n"
        f"  next latency ms: p50 {cuts[49]:.1f}  p95 {cuts[94]:.1f}  p99 {cuts[98]:.1f}  max {max(ms, default=0):.1f}"
        f" (target p95 < 50)\n  status codes (next and disposition): {dict(statuses)}"
    )
    return rate, cuts[94]


VERIFY_SQL = """
SELECT (SELECT count(*) FROM campaigns_callattempt a JOIN campaigns_callattempt b
          ON b.target_id = a.target_id AND b.id > a.id AND b.handed_at < coalesce(a.ended_at, 'infinity')
         AND a.handed_at < coalesce(b.ended_at, 'infinity') WHERE a.campaign_id = %(c)s),
       (SELECT count(*) FROM campaigns_campaigntarget t JOIN (SELECT target_id, count(*) n
          FROM campaigns_callattempt WHERE campaign_id = %(c)s GROUP BY 1) a ON a.target_id = t.id
         WHERE a.n <> t.attempts),
       (SELECT count(*) FROM campaigns_callattempt a JOIN compliance_decisionrecord d ON d.id = a.decision_id
         WHERE a.campaign_id = %(c)s AND NOT d.allowed),
       (SELECT count(*) FROM campaigns_callattempt WHERE campaign_id = %(c)s AND ended_at IS NULL),
       (SELECT count(*) FROM compliance_decisionrecord WHERE campaign_id = %(c)s AND kind = 'handoff'),
       (SELECT count(*) FROM compliance_decisionrecord WHERE campaign_id = %(c)s AND NOT allowed)"""


def handoffs_verify(campaign: Campaign, pairs: set) -> None:
    with connection.cursor() as cursor:
        cursor.execute(VERIFY_SQL, {"c": campaign.pk})
        overlapping, mismatched, not_allowed, still_open, decisions, blocked = cursor.fetchone()
        cursor.execute(
            "SELECT left(p.number, 5), c.postal_code FROM campaigns_callattempt a JOIN customers_phonenumber p "
            "ON p.id = a.phone_number_id JOIN customers_customer c ON c.id = p.customer_id "
            "WHERE a.campaign_id = %s",
            [campaign.pk],
        )
        out_of_hours = sum(1 for pair in cursor.fetchall() if pair not in pairs)
    print(
        f"  checks: overlapping attempts of one target {overlapping}, attempts != target.attempts "
        f"{mismatched}, attempts whose decision blocked {not_allowed}, out-of-hours numbers handed "
        f"{out_of_hours}, attempts left open {still_open}; hand-off decisions {decisions:,} "
        f"({blocked:,} blocked: moved on, not handed)"
    )


def floor_run(campaign: Campaign, targets: int) -> float:
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
    command += ["-T", "20", "-h", settings["HOST"], "-p", str(settings["PORT"] or 5432)]
    command += ["-U", settings["USER"], settings["NAME"]]
    print("floor: " + " ".join(command))
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FILTER (WHERE status = 'leased'), count(*) FROM bench_dialer_floor")
        claimed, rows = cursor.fetchone()
        cursor.execute("DROP TABLE bench_dialer_floor")
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    rate = claimed / 20
    dry = " (RAN DRY: figure too low)" if claimed == rows else ""
    print(
        f"  {claimed:,} of {rows:,} rows claimed in 20 s = {rate:,.0f} claims/s{dry} (pgbench tps {tps:,.0f})"
    )
    return rate


def queue_age(campaign: Campaign, count: int, outcome: str) -> None:
    final = (
        "status = 'done'" if outcome == "connected" else "status = 'queued', next_attempt_at = now() + '4h'"
    )
    started, done = time.perf_counter(), 0
    with connection.cursor() as cursor:
        while done < count:
            cursor.execute(
                """UPDATE campaigns_campaigntarget SET status = 'leased', lease_until = now() + '10m',
                       lease_agent_id = (SELECT min(id) FROM auth_user), attempts = attempts + 1
                   WHERE id IN (SELECT id FROM campaigns_campaigntarget WHERE campaign_id = %s
                       AND status = 'queued' AND next_attempt_at <= now()
                       ORDER BY priority DESC, next_attempt_at, id LIMIT %s) RETURNING id""",
                [campaign.pk, min(10_000, count - done)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                break
            cursor.execute(
                f"UPDATE campaigns_campaigntarget SET {final}, lease_until = NULL, lease_agent_id = NULL "
                "WHERE id = ANY(%s)",
                [ids],
            )
            done += len(ids)
    print(f"aged the queue by {done:,} simulated hand-offs in {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--handoffs", type=int, help="stop after this many hand-offs (all agents)")
    parser.add_argument("--outcome", default="no_answer", choices=["no_answer", "connected", "busy"])
    parser.add_argument("--blocked", type=float, default=0.0, help="share of out-of-hours targets made due")
    parser.add_argument("--age", type=int, default=0, help="then age the queue by this many hand-offs")
    parser.add_argument(
        "--seal-every",
        type=float,
        default=0,
        help="then run again with the log's seal every this many seconds",
    )
    args = parser.parse_args()

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(
            f"Refusing to delete targets and decisions in '{name}': use a PostgreSQL database named *bench*."
        )
    campaign = campaign_reset()
    tokens = agents_ensure(args.agents)
    with connection.cursor() as cursor:
        # The whole run must stay inside the window: hand-offs, floor, ageing and a second run.
        pairs = callable_pairs(cursor, args.targets, minutes=2 * args.seconds / 60 + 30)
    print(
        f"database {name}, campaign {campaign.pk}, now {datetime.now(UTC):%H:%M} UTC; callable for the run: "
    )
    print("  area codes", ", ".join(sorted({prefix[2:] for prefix, _ in pairs})) or "none")
    if not targets_load(campaign, args.targets, pairs, args.blocked):
        sys.exit("No target is due now: no area code is in calling hours (08:00-21:00 local).")
    fresh, fresh_p95 = handoffs_run(args, tokens, campaign, "fresh queue")
    handoffs_verify(campaign, pairs)
    if args.seal_every:
        backlog = 0
        while chained := decision_log_seal(settle_timeout=30):
            backlog += chained
        print(f"sealed the backlog first: {backlog:,} rows")
        sealed_rate, sealed_p95 = handoffs_run(
            args,
            tokens,
            campaign,
            f"fresh queue, seal every {args.seal_every:g} s",
            seal_every=args.seal_every,
        )
        handoffs_verify(campaign, pairs)
        print(
            f"with the seal / without: p95 {sealed_p95 / fresh_p95:.0%}, hand-offs/s {sealed_rate / fresh:.0%} "
            "(target: p95 within 110%)"
        )
    floor = floor_run(campaign, args.targets)
    print(f"hand-offs / floor: {fresh / floor:.1%}")
    if args.age:
        queue_age(campaign, args.age, args.outcome)
        aged, _p95 = handoffs_run(args, tokens, campaign, "aged queue")
        handoffs_verify(campaign, pairs)
        print(f"aged / fresh: {aged / fresh:.0%} (target >= 80%)")


if __name__ == "__main__":
    main()
