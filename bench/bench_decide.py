"""Decisions per second of `compliance.policy.decide` over pre-gathered facts,
on one core (no database: facts gathering is not measured here).

    .venv/bin/python bench/bench_decide.py [--seconds 5] [--distinct 400]

Builds a realistic mix of facts (numbers from many states, multi-zone area
codes, addresses that disagree with the area code, marketing and
informational calls in every dialing mode, consents of every state, EBRs,
listed and stale registry data, instants spread over weeks and hours) and
runs `decide` over them in a loop, in 10 rounds: the median, best and worst
rounds' rates are printed (a shared machine's speed varies by the second).
Target: at least 20,000 decisions/s.
"""

import argparse
import os
import random
import statistics
import sys
import time as clock
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compliance.jurisdictions import candidate_states, candidate_zones, number_parse
from compliance.policy import CallContext, CallFacts, ConsentFact, RegistryFact, decide
from compliance.rules import ruleset_from_file

AREA_CODES = (305, 813, 208, 401, 860, 801, 601, 205, 215, 214, 206, 405, 410, 212, 312, 907, 605, 775, 504)
ADDRESSES = (
    (None, None),
    ("FL", "33101"),
    ("TX", "75201"),
    ("NY", "10001"),
    ("RI", "02903"),
    ("ID", "83702"),
    ("CA", "94105"),
    ("UT", "84101"),
    ("PA", "19103"),
    ("LA", "70112"),
)
OWN_LISTS = ("LA", "PA", "TX")
ROUNDS = 10


def facts_mix(count: int, seed: int = 2025) -> list[CallFacts]:
    rng = random.Random(seed)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    mix = []
    for index in range(count):
        number = f"+1{rng.choice(AREA_CODES)}555{rng.randrange(10_000):04d}"
        if rng.random() < 0.02:
            number = "+18005550123"
        e164, valid = number_parse(number)
        state, postal_code = rng.choice(ADDRESSES)
        zones = candidate_zones(e164=e164, postal_code=postal_code)
        states = candidate_states(e164=e164, state=state, postal_code=postal_code)
        # Mostly during the day in the Americas (dialers call in business hours), some at night.
        hour = rng.randrange(24) if rng.random() < 0.2 else rng.randrange(13, 24)
        at = start + timedelta(days=rng.randrange(60), hours=hour, minutes=rng.randrange(60))
        granted = at - timedelta(days=rng.randrange(1, 900))
        consents = tuple(
            ConsentFact(
                id=index * 10 + k,
                purpose=rng.choice(("marketing", "informational")),
                channel=rng.choice(("voice", "voice", "sms")),
                written=rng.random() < 0.7,
                granted_at=granted,
                expires_at=granted + timedelta(days=730) if rng.random() < 0.3 else None,
                revoked_at=granted + timedelta(days=10) if rng.random() < 0.1 else None,
            )
            for k in range(rng.choice((0, 1, 1, 2, 3)))
        )
        sources = ("national", *(f"state:{s}" for s in states if s in OWN_LISTS))
        registry = tuple(
            RegistryFact(
                source=source,
                listed=rng.random() < 0.3,
                synced_at=None if rng.random() < 0.02 else at - timedelta(days=rng.uniform(0, 40)),
                sync_id=rng.randrange(1, 1000),
            )
            for source in sources
        )
        purpose = rng.choice(("marketing", "marketing", "informational"))
        context = CallContext(
            purpose=purpose,
            dialing_mode=rng.choice(("manual", "autodialed", "prerecorded")),
            subject=rng.choice(("spring-sale", "renewal", "delivery")),
            campaign_id=rng.randrange(1, 20),
            campaign_status="active" if rng.random() < 0.95 else "paused",
            campaign_starts_at=start - timedelta(days=1),
            campaign_ends_at=start + timedelta(days=rng.choice((45, 90, 120))),
            window_start=time(9, 0) if rng.random() < 0.3 else None,
            window_end=time(19, 0) if rng.random() < 0.3 else None,
            max_attempts_per_day=rng.choice((None, 2, 5)),
        )
        requested = at - timedelta(days=rng.randrange(1, 500)) if rng.random() < 0.1 else None
        mix.append(
            CallFacts(
                at=at,
                e164=e164,
                number_valid=valid,
                candidate_zones=zones,
                candidate_states=states,
                customer_id=index,
                customer_erased=rng.random() < 0.01,
                consents=consents,
                internal_dnc=requested is not None and rng.random() < 0.5,
                dnc_requested_at=requested,
                registry=registry,
                last_purchase_at=at - timedelta(days=rng.randrange(1, 700)) if rng.random() < 0.4 else None,
                last_inquiry_at=at - timedelta(days=rng.randrange(1, 200)) if rng.random() < 0.2 else None,
                reassigned_at=granted + timedelta(days=5) if rng.random() < 0.03 else None,
                attempts_24h_same_subject=rng.choice((0, 0, 1, 2, 3)),
                attempts_24h_campaign=rng.choice((0, 0, 1, 2)),
                context=context,
            )
        )
        if rng.random() < 0.01:
            mix[-1] = replace(mix[-1], e164=None, number_valid=False, candidate_zones=(), candidate_states=())
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--distinct", type=int, default=400)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rules = ruleset_from_file()
    mix = facts_mix(args.distinct)
    outcomes = Counter()
    for facts in mix:  # warm caches (holidays, zones, rules by date) and tally the mix
        decision = decide(facts, rules)
        outcomes["allowed" if decision.allowed else "blocked"] += 1
        outcomes.update(decision.reasons)
    allowed = [facts for facts in mix if decide(facts, rules).allowed]
    print(f"distinct facts: {len(mix)}; mix: {dict(outcomes.most_common())}")
    for label, subset in (("mix", mix), ("allowed only (every check runs)", allowed)):
        rates = [_run(subset, rules, args.seconds / ROUNDS) for _ in range(ROUNDS)]
        print(
            f"decide, {label}: median {statistics.median(rates):,.0f}, best {max(rates):,.0f}, "
            f"worst {min(rates):,.0f} decisions/s over {ROUNDS} rounds of {args.seconds / ROUNDS:.1f} s (one core)"
        )


def _run(subset, rules, seconds: float) -> float:
    """Decisions per second over `seconds` (whole passes over the subset)."""
    done = 0
    began = clock.perf_counter()
    deadline = began + seconds
    while clock.perf_counter() < deadline:
        for facts in subset:
            decide(facts, rules)
        done += len(subset)
    return done / (clock.perf_counter() - began)


if __name__ == "__main__":
    main()
