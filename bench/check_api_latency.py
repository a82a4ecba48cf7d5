"""Throughput and p50/p95/p99 latency of POST /api/v1/compliance/check/ through
gunicorn, with 20 concurrent clients and then one, each beside the
plain-Django floor measured in the same run with the same clients and
gunicorn, on the 1M customers of bench/customers_generate.py and the
registry of bench/registry_import.py.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/consentdesk_bench_registry
    .venv/bin/python bench/check_api_latency.py --clients 20 --requests 4000 --single 1000 \
        --at "$(date -u +%Y-%m-%dT18:00:00+00:00)"
    .venv/bin/python bench/check_api_latency.py --requests 300 --single 100 --warmup 2  # a smoke run

Options: [--workers 4] [--threads 1] [--unknown 0.02] [--floor] [--seal-every S].

Starts gunicorn (config.wsgi; sync workers, gthread with --threads > 1) on a
free port with production settings (DJANGO_DEBUG=0, a bench secret key
unless one is set, DJANGO_SECURE_SSL_REDIRECT=0, CONSENTDESK_VAR_DIR
/tmp/consentdesk_bench_var unless set; log in
/tmp/consentdesk_bench_gunicorn.log) and stops it at the end. The caller,
"bench-api" in Agents, has an API token; the campaign "bench check latency"
is manual marketing, so the registry and its freshness are consulted. Both
are created if missing and every check logs a decision, so the script
refuses a database whose name does not contain "bench".

Each client thread keeps an HTTP/1.1 connection (sync workers close it after
each response) and POSTs checks of random customer numbers and --unknown of
numbers no customer has, at the current instant or --at (e.g.
--at "$(date -u +%Y-%m-%dT18:00:00+00:00)", daytime for US callees), after a
few unmeasured ones. A closed loop: latency includes the wait for a free
worker, and the clients share the cores with gunicorn and PostgreSQL (with
20 clients, p95 is at least 20 / requests per second whatever the plans).
The script names the (source, area code) pairs whose registry data is older
than 31 days or missing: their checks say `dnc_data_stale` (unless exempt),
still full decisions.

Phases: (1) --clients clients, --requests checks: requests/s, and the same
clients and bodies against bench/floor_wsgi.py's plain Django view (the
HTTP + Django floor); target: the check's requests/s >= 20% of the floor's.
(2) one client, --single checks, and the floor with one client: p50 and p95.
--floor adds the DRF floor in phase 1: bench/floor_wsgi.py's view with the
check API's token auth, role check and serializer but no facts, decision or
log. The summary block at the end is for an issue note.

--seal-every S runs the checks again with decision_log_seal every S seconds
in a thread of its own, to show that logging a decision never waits on the
seal (issue 15: p95 within 10% of the run without).
"""

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Inherited by gunicorn too, unless one is set.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-0123456789abcdef0123456789abcdef")
os.environ.setdefault("CONSENTDESK_SUPPRESSION_KEY", "bench-only-suppression-key-0123456789abcdef")
os.environ.setdefault("CONSENTDESK_VAR_DIR", "/tmp/consentdesk_bench_var")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.roles import AGENTS  # noqa: E402
from campaigns.models import Campaign  # noqa: E402
from campaigns.services import campaign_create  # noqa: E402
from compliance.facts import registry_sources_for  # noqa: E402
from compliance.jurisdictions import candidate_states  # noqa: E402
from compliance.registry.selectors import e164_to_registry_int, registry_freshness  # noqa: E402
from compliance.selectors import ruleset_current  # noqa: E402
from customers.models import PhoneNumber  # noqa: E402

TARGET_FLOOR_SHARE = 0.20
PATH = "/api/v1/compliance/check/"
FRESH_DAYS = 31
BASE_DIR = Path(__file__).resolve().parent.parent
LOG = Path("/tmp/consentdesk_bench_gunicorn.log")
SERVER_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
}


def caller_and_campaign() -> tuple[str, Campaign]:
    user, created = get_user_model().objects.get_or_create(username="bench-api")
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=AGENTS))
    token, _ = Token.objects.get_or_create(user=user)
    campaign = Campaign.objects.filter(name="bench check latency").first() or campaign_create(
        fields={
            "name": "bench check latency",
            "purpose": Campaign.Purpose.MARKETING,
            "dialing_mode": Campaign.DialingMode.MANUAL,
            "subject": "bench",
            "caller_id": "+13055550100",
            "status": Campaign.Status.ACTIVE,
        },
        by=None,
        reason="bench/check_api_latency.py",
    )
    return token.key, campaign


def numbers_pick(count: int, unknown_share: float, rng: random.Random) -> list[str]:
    bounds = PhoneNumber.objects.aggregate(low=Min("id"), high=Max("id"))
    ids = [rng.randint(bounds["low"], bounds["high"]) for _ in range(count)]
    known = dict(
        PhoneNumber.objects.filter(id__in=set(ids), number__isnull=False).values_list("id", "number")
    )
    numbers = []
    for pk in ids:
        if rng.random() < unknown_share or pk not in known:
            numbers.append(f"+1{rng.choice(['212', '305', '415', '801'])}299{rng.randrange(10000):04d}")
        else:
            numbers.append(str(known[pk]))
    return numbers


def freshness_report(numbers: list[str]) -> None:
    """Which registry sources speak for the numbers' area codes (national,
    and the list of a state that keeps one), and which of them are stale."""
    now = timezone.now()
    examples = {e164_to_registry_int(n) // 10_000_000: n for n in numbers if e164_to_registry_int(n)}
    synced = registry_freshness(area_codes=examples)
    rules = ruleset_current()
    needed = {
        (source, code)
        for code, e164 in examples.items()
        for source in registry_sources_for(
            states=candidate_states(e164=e164, state=None, postal_code=None), rules=rules, on=now.date()
        )
    }
    stale = sorted(
        f"{source} {code}"
        for source, code in needed
        if (source, code) not in synced or now - synced[source, code][0] > timedelta(days=FRESH_DAYS)
    )
    print(f"registry data for {len(needed)} (source, area code) pairs; stale or missing: {stale or 'none'}")
    if stale:
        print("  checks of those numbers give dnc_data_stale (unless exempt): still full decisions")


def server_start(workers: int, threads: int, wsgi: str = "config.wsgi") -> tuple[subprocess.Popen, int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).parent / "gunicorn"), wsgi, f"--bind=127.0.0.1:{port}"]
    command += [f"--workers={workers}", f"--threads={threads}", "--log-level=warning"]
    with LOG.open("w") as log:
        server = subprocess.Popen(
            command, cwd=BASE_DIR, env={**os.environ, **SERVER_ENV}, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/healthz")
            probe.getresponse().read()
            probe.close()
            return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not start; see {LOG}:\n{LOG.read_text()[-2000:]}")


def client(
    port: int,
    token: str,
    warmups: list[bytes],
    bodies: list[bytes],
    start: threading.Barrier,
    out: list,
    path: str = PATH,
):
    server = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(body: bytes) -> tuple[float, int | str, bytes]:
        started = time.perf_counter()
        try:
            server.request("POST", path, body=body, headers=headers)
            response = server.getresponse()
            return time.perf_counter() - started, response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            server.close()
            return time.perf_counter() - started, type(exc).__name__, b""

    for body in warmups:
        post(body)
    start.wait()
    server.close()  # idle at the barrier, it may have hit the server's keep-alive timeout
    out.extend(post(body) for body in bodies)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="> 1: gthread workers (keep-alive)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000, help="timed requests, all clients together")
    parser.add_argument("--single", type=int, default=1000, help="timed requests of the one-client phase")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per client")
    parser.add_argument("--at", help="instant to decide for, ISO 8601 with an offset (default: now)")
    parser.add_argument("--unknown", type=float, default=0.02, help="share of numbers no customer has")
    parser.add_argument("--floor", action="store_true", help="also measure bench/floor_wsgi.py's DRF view")
    parser.add_argument(
        "--seal-every",
        type=float,
        default=0,
        help="then run the checks again with the log's seal every S seconds",
    )
    args = parser.parse_args()

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit(
            f"Refusing to create a user and decisions in '{name}': use a PostgreSQL database named *bench*."
        )
    customers = PhoneNumber.objects.count()
    if not customers:
        sys.exit("No phone numbers: run bench/customers_generate.py first.")
    token, campaign = caller_and_campaign()
    rng = random.Random(2025)
    numbers = numbers_pick(args.requests + args.single + (args.clients + 1) * args.warmup, args.unknown, rng)
    print(f"database {name}: {customers:,} phone numbers; campaign {campaign.pk} ({campaign.purpose})")
    freshness_report(numbers)
    at = {"at": args.at} if args.at else {}
    bodies = [json.dumps({"phone_number": n, "campaign": campaign.pk, **at}).encode() for n in numbers]
    cut = args.clients * args.warmup
    warmups, timed = bodies[:cut], bodies[cut : cut + args.requests]
    single_warmups = bodies[cut + args.requests : cut + args.requests + args.warmup]
    single = bodies[cut + args.requests + args.warmup :]
    connection.close()  # not needed while the server runs

    plain = ("floor: plain Django view", "bench.floor_wsgi:application", "/floor/plain/")
    runs = [("check", "config.wsgi", PATH), plain]
    if args.floor:
        runs += [("floor: DRF auth + serializer", "bench.floor_wsgi:application", "/floor/check/")]
    figures = {}
    for label, wsgi, path in runs:
        results, wall = run(args, wsgi, path, token, warmups, timed)
        figures[label] = report(label, args.clients, args, results, wall)
        if path == PATH:
            check_results = results
    for label, wsgi, path in runs[:2]:
        results, wall = run(args, wsgi, path, token, single_warmups, single, clients=1)
        figures[label + ", one client"] = report(label + ", one client", 1, args, results, wall)
    sealed = None
    if args.seal_every:
        from compliance.decision_log import decision_log_seal

        backlog = 0
        while chained := decision_log_seal(settle_timeout=30):
            backlog += chained
        print(f"sealed the backlog first: {backlog:,} rows")
        connection.close()
        results, wall = run(args, "config.wsgi", PATH, token, warmups, timed, seal_every=args.seal_every)
        sealed = report(f"check, seal every {args.seal_every:g} s", args.clients, args, results, wall)
    reasons: Counter = Counter()
    for _, status, body in check_results:
        if status == 200:
            reasons.update(json.loads(body)["reasons"] or ["(allowed)"])
    print(f"reasons {dict(reasons.most_common())}")

    check, floor = figures["check"], figures[plain[0]]
    one, floor_one = figures["check, one client"], figures[plain[0] + ", one client"]
    share = check["rate"] / floor["rate"]
    lines = [
        f"check bench, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, database {name}: "
        f"{customers:,} numbers, gunicorn {args.workers} workers x {args.threads} threads"
        f"{', decided at ' + args.at if args.at else ''}",
        f"  {args.clients} clients: check {check['rate']:,.0f} requests/s (p50 {check['p50']:.1f} ms, "
        f"p95 {check['p95']:.1f} ms, errors {check['errors']}); floor (plain Django view) "
        f"{floor['rate']:,.0f} requests/s",
        f"  check / floor: {share:.1%} (target >= {TARGET_FLOOR_SHARE:.0%}: "
        f"{'met' if share >= TARGET_FLOOR_SHARE else 'MISSED'})",
    ]
    if args.floor:
        drf = figures["floor: DRF auth + serializer"]
        lines.append(f"  DRF floor (token auth, role, serializer): {drf['rate']:,.0f} requests/s")
    lines.append(
        f"  one client: check p50 {one['p50']:.2f} ms, p95 {one['p95']:.2f} ms ({one['rate']:,.0f} requests/s); "
        f"floor p50 {floor_one['p50']:.2f} ms, p95 {floor_one['p95']:.2f} ms"
    )
    if sealed:
        lines.append(
            f"  seal every {args.seal_every:g} s: p95 {sealed['p95']:.1f} ms, "
            f"{sealed['p95'] / check['p95']:.0%} of the run without (target <= 110%)"
        )
    print("\n--- summary ---\n" + "\n".join(lines))


def sealer(every: float, done: threading.Event, seals: list) -> None:
    """The decision log's seal every `every` seconds until `done` (beat runs
    it every minute): requests that log a decision must never wait on it."""
    from compliance.decision_log import decision_log_seal

    try:
        while not done.is_set():
            started = time.perf_counter()
            seals.append((decision_log_seal(), time.perf_counter() - started))
            done.wait(max(0.0, every - (time.perf_counter() - started)))
    finally:
        connection.close()


def seals_report(every: float, seals: list) -> None:
    chained = sum(count or 0 for count, _ in seals)
    longest = max((seconds for _, seconds in seals), default=0) * 1000
    print(f"  seal every {every:g} s: {len(seals)} seals chained {chained:,} rows, longest {longest:.0f} ms")


def run(
    args,
    wsgi: str,
    path: str,
    token: str,
    warmups: list[bytes],
    timed: list[bytes],
    seal_every: float = 0,
    clients: int | None = None,
):
    clients = clients or args.clients
    server, port = server_start(args.workers, args.threads, wsgi)
    done, seals = threading.Event(), []
    seal = threading.Thread(target=sealer, args=(seal_every, done, seals)) if seal_every else None
    try:
        start = threading.Barrier(clients + 1)
        outs: list[list] = [[] for _ in range(clients)]
        threads = [
            threading.Thread(
                target=client,
                args=(
                    port,
                    token,
                    warmups[k::clients],
                    timed[k::clients],
                    start,
                    outs[k],
                    path,
                ),
            )
            for k in range(clients)
        ]
        for thread in threads:
            thread.start()
        start.wait()
        started = time.perf_counter()
        if seal:
            seal.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        done.set()
        if seal and seal.is_alive():
            seal.join()
        server.terminate()
        server.wait(timeout=30)
    if seal_every:
        seals_report(seal_every, seals)
    return [result for out in outs for result in out], wall


def report(label: str, clients: int, args, results: list, wall: float) -> dict:
    statuses = Counter(status for _, status, _ in results)
    ms = [seconds * 1000 for seconds, _, _ in results]
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    errors = sum(n for status, n in statuses.items() if status != 200)
    print(
        f"{label}: gunicorn {args.workers} workers x {args.threads} threads, {clients} clients: "
        f"{len(ms):,} requests in {wall:.1f} s, {len(ms) / wall:,.0f} requests/s\n"
        f"  latency ms: p50 {cuts[49]:.2f}  p95 {cuts[94]:.2f}  p99 {cuts[98]:.2f}  max {max(ms):.1f}\n"
        f"  errors {errors}; status codes {dict(statuses)}"
    )
    return {"rate": len(ms) / wall, "p50": cuts[49], "p95": cuts[94], "errors": errors}


if __name__ == "__main__":
    main()
