"""Dialer hand-off latency while the retention purge deletes millions of
expired call attempts through the Celery worker (issue 6), beside the same
agents without the purge, on the customers of bench/customers_generate.py.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_purge
    .venv/bin/python bench/purge_during_handoffs.py [--attempts 5000000] [--targets 90000] \
        [--agents 20] [--workers 4] [--seconds 30] [--max-purge-seconds 600] [--broker-db 5]

Reuses bench/dialer_handoffs.py's campaign "bench dialer handoffs"
(informational, manual: no consent or registry needed), filled by
bench/dialer_data.py with --targets numbers in area codes callable for the
whole run (the real clock decides; outside US hours it says so and exits),
its agents, gunicorn (production settings) and checks.

The expired rows: campaign "bench purge old attempts" (paused), 50,000 done
targets on the last numbers, one hand-off decision, and --attempts call
attempts on them by one INSERT ... SELECT (generate_series), handed 6 years
ago (policy call_attempts: 1826 days, delete, activated). A real
`celery -A config worker --concurrency 1 --pool prefork` (Redis db
--broker-db) runs the beat task compliance.retention_purge for that
category.

Runs: agents for --seconds without the purge; then agents again while the
purge runs (latency counted from the task's PurgeRun start to its finish, up
to --max-purge-seconds); then --seconds without it again. Prints hand-offs/s
and p50/p95/p99 of `next` for each, the purge's rows/s, batches and longest
batch (PurgeRun.max_batch_ms), the worker's peak RSS, and the ratio
p95 during / p95 without (target <= 2). Database name must contain "bench".
"""

import argparse
import http.client
import json
import os
import statistics
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

import django

django.setup()

import dialer_data  # noqa: E402  (campaign, agents, targets)
import dialer_handoffs as dh  # noqa: E402  (gunicorn, checks)
from celery_worker import Worker  # noqa: E402
from django.db import connection  # noqa: E402
from expired_attempts import attempts_make, campaign_ensure  # noqa: E402

from compliance.models import PurgeRun, RetentionPolicy  # noqa: E402
from core.retention import FIVE_YEARS  # noqa: E402

OLD_CAMPAIGN = "bench purge old attempts"
OLD_TARGETS = 50_000
CATEGORY = "call_attempts"


def old_attempts_load(count: int) -> int:
    started = time.perf_counter()
    campaign, decision = campaign_ensure(
        name=OLD_CAMPAIGN, targets=OLD_TARGETS, reason="bench/purge_during_handoffs.py"
    )
    with connection.cursor() as cursor:
        inserted = attempts_make(
            cursor, rows=count, campaign=campaign, decision=decision, targets=OLD_TARGETS
        )
        cursor.execute("VACUUM ANALYZE campaigns_callattempt")
    print(
        f"inserted {inserted:,} call attempts handed over 6 years ago (campaign {campaign}) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return campaign


def agent(port, token, body, outcome, stop: threading.Event, out):
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

    while not stop.is_set():
        started = time.perf_counter()
        status, answer = post("/api/v1/dialer/next/", body)
        out.append((started, time.perf_counter() - started, status))
        if status == 204:
            time.sleep(0.2)
            continue
        if status != 200:
            break
        attempt = json.loads(answer)["attempt"]
        post(f"/api/v1/dialer/attempts/{attempt}/disposition/", disposition)
    server.close()


def summary(label: str, samples: list, window: tuple[float, float]) -> float:
    low, high = window
    ms = [s * 1000 for at, s, status in samples if status == 200 and low <= at <= high]
    statuses = Counter(status for at, _, status in samples if low <= at <= high)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [0.0] * 99
    wall = high - low
    print(
        f"{label}: {len(ms):,} hand-offs in {wall:.1f} s = {len(ms) / wall:,.0f} hand-offs/s; next ms: "
        f"p50 {cuts[49]:.1f}  p95 {cuts[94]:.1f}  p99 {cuts[98]:.1f}  max {max(ms, default=0):.1f}; "
        f"status codes {dict(statuses)}"
    )
    return cuts[94]


def agents_run(args, tokens, campaign, until) -> tuple[list, float]:
    """Agents until `until()` returns; returns the (start, seconds, status)
    samples and when the agents started (gunicorn up)."""
    connection.close()
    server, port = dh.api_bench.server_start(args.workers, 1)
    body = json.dumps({"campaign": campaign.pk}).encode()
    stop, outs = threading.Event(), [[] for _ in tokens]
    threads = [
        threading.Thread(target=agent, args=(port, token, body, "no_answer", stop, out))
        for token, out in zip(tokens, outs, strict=True)
    ]
    try:
        for thread in threads:
            thread.start()
        began = time.perf_counter()
        until()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        server.terminate()
        server.wait(timeout=30)
    return [sample for out in outs for sample in out], began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=5_000_000)
    parser.add_argument("--targets", type=int, default=90_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--max-purge-seconds", type=float, default=600)
    parser.add_argument("--broker-db", type=int, default=5)
    args = parser.parse_args()

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(f"Refusing to delete call attempts in '{name}': use a PostgreSQL database named *bench*.")
    campaign = dialer_data.campaign_ensure(dh.CAMPAIGN, "bench/purge_during_handoffs.py")
    print(f"database {name}, campaign {campaign.pk}, now {datetime.now(UTC):%H:%M} UTC")
    minutes = 2 * args.seconds / 60 + args.max_purge_seconds / 60 + 5
    layout = dialer_data.targets_ensure(campaign, targets=args.targets, blocked=0.0, minutes=minutes)
    tokens = dialer_data.agents_ensure(args.agents)
    old = old_attempts_load(args.attempts)
    policy = RetentionPolicy.objects.get(category=CATEGORY)
    if not policy.active or policy.period_days != FIVE_YEARS or policy.action != "delete":
        policy.active, policy.period_days, policy.action = True, FIVE_YEARS, "delete"
        policy._change_reason = "bench/purge_during_handoffs.py"
        policy.save()

    worker = Worker(broker_db=args.broker_db).start()
    print(f"celery worker {worker.process.pid} up, idle RSS {worker.idle_rss_mb():.0f} MB (tree)")
    run = None
    try:
        samples, began = agents_run(args, tokens, campaign, lambda: time.sleep(args.seconds + 2))
        p95_before = summary("without purge", samples, (began + 2, time.perf_counter()))

        last = PurgeRun.objects.filter(category=CATEGORY).order_by("-pk").values_list("pk", flat=True).first()
        window = {}

        def purge_wait():
            time.sleep(2)  # agents warm, like the first run's skipped 2 s
            worker.reset_peak()
            worker.send("compliance.retention_purge", kwargs={"category": CATEGORY})
            deadline = time.monotonic() + args.max_purge_seconds
            while time.monotonic() < deadline:
                connection.close()
                run = PurgeRun.objects.filter(category=CATEGORY, pk__gt=last or 0).order_by("pk").first()
                if run is not None and "start" not in window:
                    window["start"] = time.perf_counter()
                if run is not None and run.finished_at is not None:
                    window["end"] = time.perf_counter()
                    window["run"] = run
                    return
                time.sleep(0.2)
            window["end"] = time.perf_counter()

        samples, _ = agents_run(args, tokens, campaign, purge_wait)
        run = window.get("run")
        p95_during = summary("during purge", samples, (window.get("start", 0), window["end"]))
        samples, began = agents_run(args, tokens, campaign, lambda: time.sleep(args.seconds + 2))
        p95_after = summary("without purge, after", samples, (began + 2, time.perf_counter()))
    finally:
        worker.stop()
    dh.handoffs_verify(campaign, layout)
    if run is None:
        print(f"the purge did not finish within {args.max_purge_seconds:.0f} s (RUN INCOMPLETE)")
        return
    seconds = run.duration.total_seconds()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_callattempt WHERE campaign_id = %s", [old])
        left = cursor.fetchone()[0]
    print(
        f"purge ({run.status}): {run.deleted:,} call attempts deleted in {seconds:.1f} s = "
        f"{run.deleted / seconds:,.0f} rows/s, {run.batches:,} batches, longest batch "
        f"{run.max_batch_ms:.1f} ms; {left:,} old attempts left; worker peak RSS {worker.peak_rss_mb:.0f} MB "
        f"(sum of VmHWM {worker.hwm_mb:.0f} MB)"
    )
    base = min(p95_before, p95_after)
    print(
        f"p95 during purge / without: {p95_during:.1f} / {p95_before:.1f} ms = {p95_during / p95_before:.2f}x "
        f"(after: {p95_after:.1f} ms, {p95_during / base:.2f}x the lower) (target <= 2x)"
    )


if __name__ == "__main__":
    main()
