"""The pre-launch scrub: before a campaign is activated, how many of its
targets may be called now, later today, later, or never, and why.

It runs on the engine, as the hand-off and the check API do: the targets'
numbers go through `compliance.facts.facts_gather_many` (a fixed number of
set-based queries per chunk, the attempt counts from the registered
call-history provider) and each target's facts are decided by
`compliance.policy.decide`. Not once per target: `decision_key` (beside
`decide`) reduces the facts to what the reasons depend on (zones, states,
consent states at the instant, list memberships and sync times, EBR basis,
counts), and each distinct key is decided, and classified, once. So a
1M-target campaign costs its fact queries and a few thousand decisions; the
test (tests/campaigns/test_scrub.py) checks the classification against one
`decide(facts_gather(...))` per target. Nothing is cached between runs and
no phone number is kept beyond the run (the place facts of
`compliance.jurisdictions` are memoised by prefix).

The campaign is decided as if it were active (the scrub is for before
activation); its own dates, window and caps apply. "Later today" means the
engine's next allowed instant (`next_allowed_at`, other facts unchanged) is
before the end of the call centre's day (midnight in the current time zone,
settings.TIME_ZONE); "later" covers targets blocked only for a while beyond
that (hours, days, a cap, registry data to refresh); "never" those with a
permanent reason (DESIGN.md's codes that time does not clear).
"""

from __future__ import annotations

import dataclasses
import gc
import logging
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from celery import shared_task
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone

from campaigns.models import Campaign, CampaignScrub, CampaignTarget
from campaigns.selectors import campaign_call_context
from compliance.facts import facts_gather_many
from compliance.policy import (
    PERMANENT_REASONS,
    REASON_CODES,
    TIME_REASONS,
    CallContext,
    CallFacts,
    Decision,
    decide,
    decision_key,
    next_allowed_at,
)
from compliance.rnd.answers import NO, YES
from compliance.rules import RuleSet
from compliance.ruleset import ruleset_current
from core.history import history_user

logger = logging.getLogger(__name__)

NOW = "now"
LATER_TODAY = "later_today"
LATER = "later"
NEVER = "never"
CLASSES = (NOW, LATER_TODAY, LATER, NEVER)
CLASS_LABELS = {
    NOW: "Callable now",
    LATER_TODAY: "Callable later today",
    LATER: "Not today (blocked for a while)",
    NEVER: "Never (blocked for good)",
}

# Targets are read BATCH_SIZE at a time; their facts are gathered (and
# progress reported) FACTS_CHUNK numbers at a time.
BATCH_SIZE = 50_000
FACTS_CHUNK = 25_000  # each set goes as one parameter (core.lookups.AnyOf), on either database
# Campaigns up to this many targets are scrubbed in the request; bigger ones
# by the worker, with a progress bar.
SYNC_LIMIT = 50_000

# Where an RND answer matters for a target (consent-based automated calls,
# Maine marketing): what the ledger holds for it at the scrub's instant. A
# launch needs a query for each "stale" and "missing" one.
RND_STATUSES = ("yes", "no", "no_data", "stale", "missing")
RND_STATUS_LABELS = {
    "yes": "“Yes”: disconnected since the consent or contact",
    "no": "A fresh “no” (the safe harbor)",
    "no_data": "“No data”",
    "stale": "A “no” older than the freshness window",
    "missing": "Never asked",
}


@dataclasses.dataclass(frozen=True)
class TargetVerdict:
    klass: str
    reasons: tuple[str, ...]
    opens_at: datetime | None
    rnd: str | None = None  # where an RND answer matters: one of RND_STATUSES


# A target whose number was erased with its customer has no number left to
# gather facts for: it is never callable, for the reason the engine gives an
# erased customer's number.
_ERASED = TargetVerdict(NEVER, ("customer_erased",), None)


@dataclasses.dataclass
class ScrubResult:
    total: int = 0
    classes: Counter = dataclasses.field(default_factory=Counter)
    reasons: Counter = dataclasses.field(default_factory=Counter)
    reasons_by_class: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))
    opens_by_hour: Counter = dataclasses.field(default_factory=Counter)
    decisions: int = 0  # distinct fact keys decided
    targets: dict[int, TargetVerdict] | None = None
    rnd: Counter = dataclasses.field(default_factory=Counter)

    def add(self, verdict: TargetVerdict, count: int) -> None:
        self.total += count
        self.classes[verdict.klass] += count
        if verdict.rnd is not None:
            self.rnd[verdict.rnd] += count
        for reason in verdict.reasons:
            self.reasons[reason] += count
            self.reasons_by_class[verdict.klass][reason] += count
        if verdict.klass == LATER_TODAY and verdict.opens_at is not None:
            hour = verdict.opens_at.replace(minute=0, second=0, microsecond=0)
            self.opens_by_hour[hour.isoformat()] += count

    def as_json(self) -> dict:
        return {
            "total": self.total,
            "classes": {klass: self.classes.get(klass, 0) for klass in CLASSES},
            "reasons": {code: self.reasons[code] for code in REASON_CODES if self.reasons.get(code)},
            "reasons_by_class": {
                klass: {code: n for code in REASON_CODES if (n := self.reasons_by_class[klass].get(code))}
                for klass in CLASSES
            },
            "opens_by_hour": dict(sorted(self.opens_by_hour.items())),
            "decisions": self.decisions,
            "rnd": {status: self.rnd.get(status, 0) for status in RND_STATUSES},
            "rnd_queries_needed": self.rnd.get("stale", 0) + self.rnd.get("missing", 0),
        }


def today_end(at: datetime) -> datetime:
    """Midnight after `at` in the call centre's time zone (the current one)."""
    local = timezone.localtime(at)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    return midnight.astimezone(at.tzinfo)


def scrub_context(campaign: Campaign) -> CallContext:
    """The campaign's call context as if it were activated."""
    return dataclasses.replace(campaign_call_context(campaign=campaign), campaign_status="active")


def verdict_classify(
    *, decision: Decision, opens_at: Callable[[], datetime | None], today_ends_at: datetime
) -> TargetVerdict:
    if decision.allowed:
        return TargetVerdict(NOW, (), None)
    reasons = set(decision.reasons)
    if reasons & PERMANENT_REASONS:
        return TargetVerdict(NEVER, decision.reasons, None)
    if reasons <= TIME_REASONS:
        opens = opens_at()
        if opens is not None and opens < today_ends_at:
            return TargetVerdict(LATER_TODAY, decision.reasons, opens)
    return TargetVerdict(LATER, decision.reasons, None)


class VerdictMemo:
    """Decides and classifies each distinct `decision_key` once."""

    def __init__(self, *, rules: RuleSet, today_ends_at: datetime):
        self.rules = rules
        self.today_ends_at = today_ends_at
        self.verdicts: dict[tuple[object, ...], TargetVerdict] = {}

    def verdict(self, facts: CallFacts) -> TargetVerdict:
        key = decision_key(facts, self.rules)
        found = self.verdicts.get(key)
        if found is None:
            rules = self.rules
            decision = decide(facts, rules)
            found = self.verdicts[key] = dataclasses.replace(
                verdict_classify(
                    decision=decision,
                    opens_at=lambda: next_allowed_at(facts, rules),
                    today_ends_at=self.today_ends_at,
                ),
                rnd=rnd_status(decision, facts),
            )
        return found


def rnd_status(decision: Decision, facts: CallFacts) -> str | None:
    """What the RND ledger holds for a call where an answer matters (the
    decision's `rnd` evidence; a consent voided by a "yes" counts as "yes"),
    None where no answer matters."""
    rnd = decision.evidence.get("rnd")
    if rnd is None:
        voided = "reassigned_number" in decision.reasons and any(a.answer == YES for a in facts.rnd)
        return YES if voided else None
    if rnd["answer"] is None:
        return "missing"
    if rnd["answer"] == NO:
        return NO if rnd["fresh"] else "stale"
    return rnd["answer"]


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a scrub's run: a 1M-target
    run allocates tens of millions of small acyclic objects (rows, facts,
    keys), and each collection they trigger scans every object alive, which
    took ~40% of the run. Resumed afterwards, whatever happens; cycles made
    meanwhile are collected then."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _target_batches(campaign: Campaign, size: int) -> Iterator[list[tuple[int, str | None]]]:
    """(target id, E.164 number or None when erased), by id, `size` at a time
    (keyset pages: each is one indexed query, none holds a cursor open)."""
    last = 0
    while True:
        rows = list(
            CampaignTarget.objects.filter(campaign=campaign, id__gt=last)
            .annotate(e164=Cast("phone_number__number", CharField()))
            .order_by("id")
            .values_list("id", "e164")[:size]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def scrub_compute(
    *,
    campaign: Campaign,
    at: datetime,
    today_ends_at: datetime | None = None,
    with_targets: bool = False,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int | None = None,
) -> ScrubResult:
    """Classify every target of `campaign` at `at` (see the module's
    docstring). `with_targets` also returns each target's verdict (for tests
    and small campaigns). `progress(done, total)` is called after each batch."""
    today_ends_at = today_ends_at or today_end(at)
    context = scrub_context(campaign)
    rules = ruleset_current()
    result = ScrubResult(targets={} if with_targets else None)
    total = CampaignTarget.objects.filter(campaign=campaign).count()
    if progress:
        progress(0, total)
    memo = VerdictMemo(rules=rules, today_ends_at=today_ends_at)
    read: deque[tuple[int, str | None]] = deque()  # targets read, waiting for their facts

    def numbers() -> Iterator[str]:
        for batch in _target_batches(campaign, batch_size or BATCH_SIZE):
            for target in batch:
                read.append(target)
                yield target[1] or ""  # an erased number: no facts are read for it (below)

    with _cyclic_gc_paused():
        done = 0
        for chunk in facts_gather_many(
            numbers=numbers(),
            context=context,
            at=at,
            rules=rules,
            chunk_size=FACTS_CHUNK,
        ):
            counts: Counter[TargetVerdict] = Counter()
            for _number, facts in chunk:
                target_id, number = read.popleft()
                verdict = _ERASED if number is None else memo.verdict(facts)
                counts[verdict] += 1
                if result.targets is not None:
                    result.targets[target_id] = verdict
            for verdict, count in counts.items():
                result.add(verdict, count)
            done += len(chunk)
            if progress:
                progress(done, total)
    result.decisions = len(memo.verdicts)
    return result


# --- runs --------------------------------------------------------------------------


def scrub_start(*, campaign: Campaign, by, at: datetime | None = None) -> CampaignScrub:
    """Record a scrub of `campaign` and run it: in this request when the
    campaign is small, else by the worker (after this transaction commits)."""
    at = at or timezone.now()
    scrub = CampaignScrub.objects.create(
        campaign=campaign,
        requested_by=history_user(by),
        at=at,
        today_ends_at=today_end(at),
        rows_total=(total := CampaignTarget.objects.filter(campaign=campaign).count()),
    )
    if total <= SYNC_LIMIT:
        scrub_run(scrub_id=scrub.pk)
        scrub.refresh_from_db()
    else:
        scrub_run_task.delay_on_commit(scrub.pk)
    return scrub


def scrub_run(*, scrub_id: int) -> CampaignScrub | None:
    """Run a recorded scrub once: claimed with a status guard, so a second
    delivery of the task does nothing. Progress is committed per batch."""
    claimed = CampaignScrub.objects.filter(pk=scrub_id, status=CampaignScrub.Status.PENDING).update(
        status=CampaignScrub.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    scrub = CampaignScrub.objects.select_related("campaign").get(pk=scrub_id)

    def progress(done: int, total: int) -> None:
        CampaignScrub.objects.filter(pk=scrub_id).update(rows_done=done, rows_total=total)

    try:
        result = scrub_compute(
            campaign=scrub.campaign, at=scrub.at, today_ends_at=scrub.today_ends_at, progress=progress
        )
    except Exception as error:
        logger.exception("scrub %s of campaign %s failed", scrub_id, scrub.campaign_id)
        CampaignScrub.objects.filter(pk=scrub_id).update(
            status=CampaignScrub.Status.FAILED, finished_at=timezone.now(), error=repr(error)[:2000]
        )
        raise
    CampaignScrub.objects.filter(pk=scrub_id).update(
        status=CampaignScrub.Status.SUCCEEDED,
        finished_at=timezone.now(),
        result=result.as_json(),
        rows_done=result.total,
        rows_total=result.total,
    )
    scrub.refresh_from_db()
    return scrub


@shared_task(name="campaigns.scrub_run", ignore_result=True)
def scrub_run_task(scrub_id: int) -> None:
    scrub_run(scrub_id=scrub_id)
