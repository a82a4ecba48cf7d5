"""Open-loop capacity of the dialer: how many agents one web box holds with
p95 of POST /api/v1/dialer/next/ under 200 ms and no number handed twice.

    createdb -h 127.0.0.1 -U postgres consentdesk_bench_dialer
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_dialer
    DJANGO_DEBUG=1 .venv/bin/python manage.py migrate
    .venv/bin/python bench/dialer_capacity.py --steps 250,500,1000,1500,2000,2500,3000 --step-seconds 120 \
        --targets 500000
    .venv/bin/python bench/dialer_capacity.py --steps 10,20 --step-seconds 10 --talk-scale 0.01 \
        --targets 10000 --floor-seconds 5  # a smoke run

Options: [--workers 4] [--threads 1] [--blocked 0.0] [--stop-p95 2000] [--floor-clients 20] [--seed 17].

Simulated agents, each an asyncio task of one client process (a minimal
HTTP/1.1 client on asyncio streams, one connection per request as gunicorn's
sync workers close it anyway): take a call (next), talk for a random 10-30 s
(times --talk-scale), record an outcome (connected 30%, no answer 40%,
voicemail 20%, busy 10%: none comes due again within the run) and ask again;
when nothing is callable (204) wait 2 s (scaled) and ask again. Open loop: an
agent waits only on its own requests, never on other agents', so the request
rate is set by the agents and their talk time, not by the server's speed.

The agent count ramps through --steps: each step adds its new agents at
random moments over one maximum talk time, then measures for --step-seconds
(the ramp-in not counted): p50/p95/p99 of next, next/s, disposition p95,
errors, 204s. The ramp stops early when a step's p95 passes --stop-p95 ms
(saturated: later steps only queue). A number handed while another agent
holds it is a duplicate: the clients' own ledger per step, and overlapping
attempts of one number or target in SQL at the end (bench/dialer_handoffs.py's
checks, with attempts whose decision blocked and closed-ZIP numbers handed).

Data: campaign "bench dialer capacity" (informational, manual) filled by
bench/dialer_data.py with --targets numbers callable for the whole run (the
real clock decides; outside US hours it says so and exits); agents
bench-agent-0001... in bulk (Agents group, token, training acknowledgement:
the hand-off refuses an agent without a current one). Earlier runs'
attempts, unsealed decisions and target history are deleted and the targets
reset: the database's name must contain "bench".

gunicorn as bench/check_api_latency.py starts it (production settings,
DJANGO_DEBUG=0, CONSENTDESK_VAR_DIR /tmp/consentdesk_bench_var unless set).
Floor: the same client, --floor-clients concurrent requests in a closed loop
against bench/floor_wsgi.py's plain Django view on the same gunicorn
settings for --floor-seconds: requests/s, p50, p95.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
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
import dialer_handoffs  # noqa: E402  (its SQL checks)
from django.db import connection  # noqa: E402

CAMPAIGN = "bench dialer capacity"
NEXT, FLOOR_PATH = "/api/v1/dialer/next/", "/floor/plain/"
TARGET_P95_MS = 200
TALK = (10.0, 30.0)  # seconds, before --talk-scale
IDLE_WAIT = 2.0  # seconds after a 204, before --talk-scale
OUTCOMES = (("connected", 30), ("no_answer", 40), ("voicemail", 20), ("busy", 10))
TIMEOUT = 60.0
api_bench.LOG = Path("/tmp/consentdesk_bench_capacity_gunicorn.log")


async def post(port: int, path: str, token: str, body: bytes) -> tuple[int | str, bytes]:
    """One request on its own connection: (status, body), or (error name, b"")."""
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        length = {k.strip().lower(): v.strip() for k, v in headers.items()}.get("content-length")
        if length is not None:
            answer = await asyncio.wait_for(reader.readexactly(int(length)), TIMEOUT)
        else:
            answer = await asyncio.wait_for(reader.read(), TIMEOUT)
        return status, answer
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        return type(exc).__name__, b""
    finally:
        if writer is not None:
            writer.close()


@dataclass
class Calls:
    """What the agents share: samples, the ledger of numbers on screens, the stop."""

    port: int
    campaign: int
    scale: float
    rng: random.Random
    samples: list = field(default_factory=list)  # (kind, started, seconds, status)
    held: dict = field(default_factory=dict)  # number -> agent
    duplicates: list = field(default_factory=list)  # (at, number, holder, agent)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def pause(calls: Calls, seconds: float) -> None:
    """Sleep, cut short when the run stops (a call on screen still gets its outcome)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(calls.stop.wait(), seconds)


async def agent(calls: Calls, me: int, token: str, ramp_in: float) -> None:
    loop = asyncio.get_running_loop()
    body = json.dumps({"campaign": calls.campaign}).encode()
    outcomes, weights = zip(*OUTCOMES, strict=True)
    await pause(calls, calls.rng.uniform(0, ramp_in))
    while not calls.stop.is_set():
        started = loop.time()
        status, answer = await post(calls.port, NEXT, token, body)
        calls.samples.append(("next", started, loop.time() - started, status))
        if status == 204:
            await pause(calls, IDLE_WAIT * calls.scale)
            continue
        if status != 200:
            await pause(calls, 1.0)
            continue
        handoff = json.loads(answer)
        number = handoff["phone_number"]
        if number in calls.held:
            calls.duplicates.append((loop.time(), number, calls.held[number], me))
        calls.held[number] = me
        await pause(calls, calls.rng.uniform(*TALK) * calls.scale)
        outcome = calls.rng.choices(outcomes, weights)[0]
        started = loop.time()
        status, _ = await post(
            calls.port,
            f"/api/v1/dialer/attempts/{handoff['attempt']}/disposition/",
            token,
            json.dumps({"outcome": outcome}).encode(),
        )
        calls.samples.append(("disposition", started, loop.time() - started, status))
        if calls.held.get(number) == me:
            del calls.held[number]


def cuts_of(values: list[float]) -> list[float]:
    if len(values) < 2:
        return [values[0] if values else 0.0] * 99
    return statistics.quantiles(values, n=100, method="inclusive")


def step_report(calls: Calls, agents: int, window: tuple[float, float]) -> dict:
    low, high = window
    rows = [row for row in calls.samples if low <= row[1] < high]
    nexts = [s * 1000 for kind, _, s, status in rows if kind == "next" and status == 200]
    disposals = [s * 1000 for kind, _, s, status in rows if kind == "disposition" and status == 200]
    statuses = Counter(f"{kind} {status}" for kind, _, _, status in rows)
    errors = sum(n for key, n in statuses.items() if not key.endswith((" 200", " 204")))
    cut, dcut = cuts_of(nexts), cuts_of(disposals)
    seconds = high - low
    step = {
        "agents": agents,
        "p50": cut[49],
        "p95": cut[94],
        "p99": cut[98],
        "next_rate": len(nexts) / seconds,
        "pairs_rate": len(disposals) / seconds,
        "disposition_p95": dcut[94],
        "none_callable": statuses.get("next 204", 0),
        "errors": errors,
        "duplicates": sum(1 for at, *_ in calls.duplicates if low <= at < high),
    }
    print(
        f"  {agents:>5} agents: next p50 {step['p50']:7.1f}  p95 {step['p95']:7.1f}  p99 {step['p99']:7.1f} ms; "
        f"{step['next_rate']:6.1f} next/s, {step['pairs_rate']:6.1f} outcomes/s (p95 {step['disposition_p95']:.1f} ms); "
        f"204s {step['none_callable']}, errors {errors}, duplicates {step['duplicates']}",
        flush=True,
    )
    if errors:
        print(f"    status codes: {dict(statuses)}")
    return step


async def ramp(args, port: int, campaign: int, tokens: list[str]) -> tuple[list[dict], Calls]:
    calls = Calls(port=port, campaign=campaign, scale=args.talk_scale, rng=random.Random(args.seed))
    loop = asyncio.get_running_loop()
    ramp_in = TALK[1] * args.talk_scale
    tasks, steps = [], []
    for count in args.steps:
        for k in range(len(tasks), count):
            tasks.append(asyncio.create_task(agent(calls, k, tokens[k], ramp_in)))
        await asyncio.sleep(ramp_in)
        start = loop.time()
        await asyncio.sleep(args.step_seconds)
        steps.append(step_report(calls, count, (start, loop.time())))
        if steps[-1]["p95"] > args.stop_p95:
            print(f"  p95 above {args.stop_p95:g} ms: saturated, the ramp stops here")
            break
    calls.stop.set()
    await asyncio.gather(*tasks)
    return steps, calls


async def floor_closed_loop(port: int, clients: int, seconds: float, token: str) -> dict:
    loop = asyncio.get_running_loop()
    samples: list[tuple[float, int | str]] = []
    stop_at = loop.time() + seconds

    async def client() -> None:
        while loop.time() < stop_at:
            started = loop.time()
            status, _ = await post(port, FLOOR_PATH, token, b"{}")
            samples.append((loop.time() - started, status))

    started = loop.time()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = loop.time() - started
    ms = [s * 1000 for s, status in samples if status == 200]
    cut = cuts_of(ms)
    return {"rate": len(ms) / wall, "p50": cut[49], "p95": cut[94], "errors": len(samples) - len(ms)}


def with_server(args, wsgi: str, work):
    connection.close()
    server, port = api_bench.server_start(args.workers, args.threads, wsgi)
    try:
        return asyncio.run(work(port))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="250,500,1000,1500,2000,2500,3000", help="agent counts, ascending")
    parser.add_argument("--step-seconds", type=float, default=120, help="measured seconds per step")
    parser.add_argument("--talk-scale", type=float, default=1.0, help="talk time 10-30 s times this")
    parser.add_argument("--targets", type=int, default=500_000)
    parser.add_argument(
        "--blocked", type=float, default=0.0, help="share of targets due now in a closed zone"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="> 1: gthread workers")
    parser.add_argument(
        "--stop-p95", type=float, default=2000, help="stop the ramp when a step's p95 passes it"
    )
    parser.add_argument("--floor-clients", type=int, default=20)
    parser.add_argument("--floor-seconds", type=float, default=20)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    args.steps = sorted({int(n) for n in args.steps.split(",")})

    name = dialer_data.database_check("delete targets and decisions")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per request in flight
    ramp_in = TALK[1] * args.talk_scale
    minutes = (len(args.steps) * (args.step_seconds + ramp_in) + args.floor_seconds) / 60 + 15
    # Upper bound of the calls the run can hand: every agent on a 10 s call (scaled), no wait.
    most = sum(n * (args.step_seconds + ramp_in) for n in args.steps) / (TALK[0] * args.talk_scale + 0.05)
    campaign = dialer_data.campaign_ensure(CAMPAIGN, "bench/dialer_capacity.py")
    print(f"database {name}, campaign {campaign.pk}, now {datetime.now(UTC):%H:%M} UTC")
    if most > args.targets * (1 - args.blocked):
        print(
            f"note: the run may hand up to ~{most:,.0f} calls: with fewer targets the queue may run dry (204s)"
        )
    layout = dialer_data.targets_ensure(
        campaign,
        targets=args.targets,
        blocked=args.blocked,
        minutes=minutes,
        blocks=dialer_data.CAPACITY_BLOCKS,
    )
    tokens = dialer_data.agents_ensure(max(args.steps))

    started = time.perf_counter()
    print(
        f"ramp: {args.steps} agents, {args.step_seconds:g} s measured per step after {ramp_in:g} s ramp-in, "
        f"talk {TALK[0] * args.talk_scale:g}-{TALK[1] * args.talk_scale:g} s; gunicorn {args.workers} workers "
        f"x {args.threads} threads"
    )
    steps, calls = with_server(args, "config.wsgi", lambda port: ramp(args, port, campaign.pk, tokens))
    print(f"ramp done in {time.perf_counter() - started:.0f} s; calls still on screen: {len(calls.held)}")
    checks = dialer_handoffs.handoffs_verify(campaign, layout)
    plain = with_server(
        args,
        "bench.floor_wsgi:application",
        lambda port: floor_closed_loop(port, args.floor_clients, args.floor_seconds, tokens[0]),
    )
    print(
        f"floor, plain Django view: {args.floor_clients} concurrent clients (same client), {args.floor_seconds:g} s: "
        f"{plain['rate']:,.0f} requests/s, p50 {plain['p50']:.1f} ms, p95 {plain['p95']:.1f} ms, "
        f"errors {plain['errors']}"
    )

    duplicates = len(calls.duplicates) + checks["overlaps"]
    held, clean = None, True
    for step in steps:
        clean = clean and step["duplicates"] == 0 and step["errors"] == 0
        if clean and step["p95"] < TARGET_P95_MS:
            held = step["agents"]
    peak = max(steps, key=lambda s: s["next_rate"] + s["pairs_rate"])
    lines = [
        f"capacity bench (open loop), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, database {name}: "
        f"{args.targets:,} targets, talk {TALK[0] * args.talk_scale:g}-{TALK[1] * args.talk_scale:g} s "
        f"(scale {args.talk_scale:g}), {args.step_seconds:g} s per step, gunicorn {args.workers} workers x "
        f"{args.threads} threads",
        "  agents   next p50    p95     p99 ms   next/s  outcomes/s  204s  errors  dups",
        *(
            f"  {s['agents']:>6} {s['p50']:9.1f} {s['p95']:7.1f} {s['p99']:7.1f}   {s['next_rate']:7.1f} "
            f"{s['pairs_rate']:10.1f} {s['none_callable']:5} {s['errors']:7} {s['duplicates']:5}"
            for s in steps
        ),
        f"  largest agent count with p95 of next < {TARGET_P95_MS} ms, no errors, no duplicates: "
        f"{held if held is not None else 'none'} (goal >= 2,000 at talk scale 1)",
        f"  peak: {peak['next_rate'] + peak['pairs_rate']:,.1f} requests/s (next + outcome) at {peak['agents']} agents; "
        f"floor (plain Django view, {args.floor_clients} clients): {plain['rate']:,.0f} requests/s "
        f"({(peak['next_rate'] + peak['pairs_rate']) / max(plain['rate'], 1):.1%})",
        f"  duplicates (number handed while held; clients' ledger + SQL) {duplicates}; blocked numbers handed "
        f"{checks['blocked_handed']} (target 0 and 0: {'met' if duplicates == checks['blocked_handed'] == 0 else 'MISSED'})",
    ]
    print("\n--- summary ---\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
