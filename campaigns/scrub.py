"""The pre-launch scrub: before a campaign is activated, how many of its
targets may be called now, later today, later, or never, and why.

Every answer is the engine's own (`compliance.policy.decide` and
`next_allowed_at`), but not one call per target. The database reduces each
target to the few facts the decision depends on, set-based and in batches of
target ids (one query per batch):

- where the callee may be: the number's prefix `+1NPANXX` (its time zones,
  validity and area code state depend on nothing longer for US area codes;
  other numbers are kept whole), the address's state and ZIP;
- erasure (the customer's, and the suppression hash of an erased person's
  number, an HMAC computed in SQL);
- the state of the number's voice consents at the instant (ok, revoked,
  expired, reassigned; written marketing or other; whether one of the
  campaign's purpose is usable: Utah lifts its day bans with it);
- a company DNC request; a live established business relationship, and
  whether reassignment voided one;
- listing on each registry that can speak for the call (the national one and
  each state list), through `registry_listed_filter`;
- attempts in the last 24 h, on the campaign's subject and in the campaign.

Targets with the same reduced facts form a group; each distinct set of facts
is decided once, with the real rule set, from a `CallFacts` that carries
exactly those facts. So a 1M-target campaign costs a few batch queries and a
few thousand decisions; the test (tests/campaigns/test_scrub.py) checks the
classification against one `decide` per target.

The campaign is decided as if it were active (the scrub is for before
activation); its own dates, window and caps apply. "Later today" means the
engine's next allowed instant (`next_allowed_at`, other facts unchanged) is
before the end of the call centre's day (midnight in the current time zone,
settings.TIME_ZONE); "later" covers targets blocked only for a while beyond
that (hours, days, a cap, registry data to refresh); "never" those with a
permanent reason (DESIGN.md's codes that time does not clear).

On SQLite (the demo) the set-based path is not available: each target is
decided on its own (demo campaigns are small).
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import logging
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

import phonenumbers
from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from campaigns.models import Campaign, CampaignScrub, CampaignTarget
from campaigns.selectors import campaign_call_context
from compliance import jurisdictions
from compliance.facts import facts_gather, registry_sources_for
from compliance.jurisdictions import (
    STATE_CODES,
    STATE_OF_AREA_CODE,
    number_parse,
    number_state,
    number_zones,
    zip_place,
)
from compliance.policy import (
    PERMANENT_REASONS,
    REASON_CODES,
    TIME_REASONS,
    CallContext,
    CallFacts,
    ConsentFact,
    Decision,
    RegistryFact,
    decide,
    next_allowed_at,
)
from compliance.registry.models import RegistrySource
from compliance.registry.selectors import (
    RegistryInt,
    e164_to_registry_int,
    registry_freshness,
    registry_listed_filter,
)
from compliance.registry.sources import NATIONAL_KEY, source_key
from compliance.rules import RuleSet
from compliance.selectors import ruleset_current
from consent.models import SuppressionEntry
from consent.services import suppression_hmac_pads
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

BATCH_SIZE = 100_000
# Campaigns up to this many targets are scrubbed in the request; bigger ones
# by the worker, with a progress bar.
SYNC_LIMIT = 50_000
_US_AREA_CODES = sorted(f"{code:03d}" for code in STATE_OF_AREA_CODE)


@dataclasses.dataclass(frozen=True)
class TargetVerdict:
    klass: str
    reasons: tuple[str, ...]
    opens_at: datetime | None


@dataclasses.dataclass
class ScrubResult:
    total: int = 0
    classes: Counter = dataclasses.field(default_factory=Counter)
    reasons: Counter = dataclasses.field(default_factory=Counter)
    reasons_by_class: dict = dataclasses.field(default_factory=lambda: defaultdict(Counter))
    opens_by_hour: Counter = dataclasses.field(default_factory=Counter)
    decisions: int = 0  # distinct fact sets decided
    targets: dict[int, TargetVerdict] | None = None

    def add(self, verdict: TargetVerdict, count: int) -> None:
        self.total += count
        self.classes[verdict.klass] += count
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


# --- places ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Number:
    e164: str | None
    valid: bool
    zones: tuple[str, ...]
    area_state: str | None
    registry_area_code: int | None


_PLACES: dict[str, _Number] = {}
_PLACES_MAX = 1_000_000
_PLACES_STATE = {"loaded": False, "added": 0}


def _place_facts(place: str, sample: str) -> _Number:
    """A place's number facts, kept for the worker's life and in a file
    (`_places_file`) across processes: only the first scrub that meets a
    prefix pays for it (phonenumbers takes ~0.1-0.2 ms a number: 200,000
    prefixes, a national customer base, take 20-40 s). Keyed by place: for a
    prefix, any of its numbers gives the same facts (see the module's
    docstring)."""
    found = _PLACES.get(place)
    if found is None:
        if len(_PLACES) >= _PLACES_MAX:
            _PLACES.clear()
        found = _PLACES[place] = _number_facts(sample)
        _PLACES_STATE["added"] += 1
    return found


def _places_file() -> Path:
    """The file of known places' facts. Its name carries the phonenumbers
    version and a digest of compliance/jurisdictions.py and of
    `_number_facts`: facts computed with other data or rules are never read."""
    digest = hashlib.sha256()
    digest.update(phonenumbers.__version__.encode())
    digest.update(Path(jurisdictions.__file__).read_bytes())
    digest.update(_NUMBER_FACTS_SOURCE.encode())
    return Path(settings.VAR_DIR) / "cache" / f"scrub-places-{digest.hexdigest()[:16]}.json"


def _places_load() -> None:
    """Once per process: the places' facts saved by earlier processes."""
    if _PLACES_STATE["loaded"]:
        return
    _PLACES_STATE["loaded"] = True
    try:
        saved = json.loads(_places_file().read_text())
    except (OSError, ValueError):
        return
    for place, (e164, valid, zones, area_state, area_code) in saved.items():
        _PLACES.setdefault(place, _Number(e164, bool(valid), tuple(zones), area_state, area_code))


_PLACES_SAVE_AFTER = 1_000  # new places: a small scrub does not rewrite the file


def _places_save() -> None:
    """After scrubs that computed many new places: write them all (atomically:
    a temporary file renamed over the old one; a failure only costs time)."""
    if _PLACES_STATE["added"] < _PLACES_SAVE_AFTER or len(_PLACES) >= _PLACES_MAX:
        return
    path = _places_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(
                {
                    place: [n.e164, n.valid, list(n.zones), n.area_state, n.registry_area_code]
                    for place, n in _PLACES.items()
                },
                out,
                separators=(",", ":"),
            )
        os.replace(temporary, path)
        _PLACES_STATE["added"] = 0
    except OSError:
        logger.warning("could not save the scrub's place facts to %s", path, exc_info=True)


def _number_facts(sample: str) -> _Number:
    e164, valid = number_parse(sample)
    as_int = e164_to_registry_int(e164) if e164 else None
    return _Number(
        e164=e164,
        valid=valid,
        zones=number_zones(e164),
        area_state=number_state(e164),
        registry_area_code=None if as_int is None else as_int // 10_000_000,
    )


_NUMBER_FACTS_SOURCE = inspect.getsource(_number_facts)


# --- the database's part -------------------------------------------------------

_CONSENT_FLAGS = ("wm_ok", "wm_rev", "wm_exp", "wm_rea", "ot_ok", "ot_rev", "ot_exp", "ot_rea", "lift_ok")
_FLAGS = ("erased", "suppressed", *_CONSENT_FLAGS, "dnc", "ebr_live", "ebr_rea")


def _registry_keys(rules: RuleSet, at: datetime) -> list[str]:
    """Registry sources that can speak for a call today, and exist."""
    wanted = [NATIONAL_KEY] + [
        source_key(state=state)
        for state in sorted(STATE_CODES)
        if any(rule.own_dnc_list for rule in rules.state_rules(state, at.date()))
    ]
    existing = {source.key for source in RegistrySource.objects.all()}
    return [key for key in wanted if key in existing]


def _listed_sql(campaign: Campaign, low: int, high: int, key: str) -> tuple[str, tuple]:
    listed = (
        registry_listed_filter(
            queryset=CampaignTarget.objects.filter(campaign=campaign, id__gte=low, id__lt=high),
            number=RegistryInt("phone_number__number"),
            sources=[key],
        )
        .order_by()
        .values("id")
    )
    return listed.query.sql_with_params()


_BATCH_SQL = """
WITH batch AS (
    SELECT t.id AS target_id, t.phone_number_id, p.number, p.reassigned_at,
           c.state, c.erased_at, c.last_purchase_at, c.last_inquiry_at,
           nullif(btrim(split_part(btrim(c.postal_code), '-', 1)), '') AS zip5
    FROM campaigns_campaigntarget t
    JOIN customers_phonenumber p ON p.id = t.phone_number_id
    JOIN customers_customer c ON c.id = p.customer_id
    WHERE t.campaign_id = %(campaign)s AND t.id >= %(low)s AND t.id < %(high)s
),
consent_rows AS (
    SELECT g.phone_number_id, g.channel, g.purpose, g.written, g.granted_at, g.expires_at, g.revoked_at,
           max(g.revoked_at) FILTER (WHERE g.revoked_at <= %(at)s)
               OVER (PARTITION BY g.phone_number_id) AS revoked_until
    FROM consent_consentgrant g
    WHERE g.phone_number_id IN (SELECT phone_number_id FROM batch)
),
consent_states AS (
    SELECT r.phone_number_id, r.purpose, (r.written AND r.purpose = 'marketing') AS wm,
           CASE
               WHEN (r.revoked_until IS NOT NULL AND r.granted_at <= r.revoked_until)
                    OR r.revoked_at <= %(at)s THEN 'revoked'
               WHEN r.expires_at <= %(at)s THEN 'expired'
               WHEN p.reassigned_at IS NOT NULL AND r.granted_at <= p.reassigned_at THEN 'reassigned'
               ELSE 'ok'
           END AS state
    FROM consent_rows r JOIN batch p ON p.phone_number_id = r.phone_number_id
    WHERE r.channel = %(channel)s AND r.granted_at <= %(at)s
),
consent AS (
    SELECT phone_number_id,
           bool_or(wm AND state = 'ok') AS wm_ok,
           bool_or(wm AND state = 'revoked') AS wm_rev,
           bool_or(wm AND state = 'expired') AS wm_exp,
           bool_or(wm AND state = 'reassigned') AS wm_rea,
           bool_or(NOT wm AND state = 'ok') AS ot_ok,
           bool_or(NOT wm AND state = 'revoked') AS ot_rev,
           bool_or(NOT wm AND state = 'expired') AS ot_exp,
           bool_or(NOT wm AND state = 'reassigned') AS ot_rea,
           bool_or(state = 'ok' AND purpose = %(purpose)s) AS lift_ok
    FROM consent_states GROUP BY phone_number_id
),
dnc AS (
    SELECT d.number, max(d.requested_at) AS requested_at
    FROM consent_dncrequest d WHERE d.number IN (SELECT number FROM batch WHERE number IS NOT NULL)
    GROUP BY d.number
),
attempts AS (
    SELECT a.phone_number_id,
           count(*) FILTER (WHERE a.subject = %(subject)s) AS same_subject,
           count(*) FILTER (WHERE a.campaign_id = %(campaign)s) AS in_campaign
    FROM campaigns_callattempt a
    WHERE a.phone_number_id IN (SELECT phone_number_id FROM batch)
      AND a.handed_at > %(day_ago)s AND a.handed_at <= %(at)s
    GROUP BY a.phone_number_id
),
reduced AS (
    SELECT b.target_id, b.number,
           CASE WHEN b.number ~ '^\\+1[2-9][0-9]{{2}}[2-9][0-9]{{6}}$' AND substr(b.number, 3, 3) = ANY(%(us_npas)s)
                THEN left(b.number, 8) ELSE b.number END AS place,
           b.state, b.zip5,
           (b.number IS NULL OR b.erased_at IS NOT NULL) AS erased,
           {suppressed} AS suppressed,
           coalesce(k.wm_ok, false) AS wm_ok, coalesce(k.wm_rev, false) AS wm_rev,
           coalesce(k.wm_exp, false) AS wm_exp, coalesce(k.wm_rea, false) AS wm_rea,
           coalesce(k.ot_ok, false) AS ot_ok, coalesce(k.ot_rev, false) AS ot_rev,
           coalesce(k.ot_exp, false) AS ot_exp, coalesce(k.ot_rea, false) AS ot_rea,
           coalesce(k.lift_ok, false) AS lift_ok,
           (d.requested_at IS NOT NULL) AS dnc,
           {ebr_live} AS ebr_live,
           {ebr_rea} AS ebr_rea,
           {listed} AS listed,
           coalesce(a.same_subject, 0) AS same_subject,
           coalesce(a.in_campaign, 0) AS in_campaign
    FROM batch b
    LEFT JOIN consent k ON k.phone_number_id = b.phone_number_id
    LEFT JOIN dnc d ON d.number = b.number
    LEFT JOIN attempts a ON a.phone_number_id = b.phone_number_id
)
SELECT place, min(number), state, zip5, {flag_bits} AS flags, listed, same_subject, in_campaign,
       count(*), {target_ids}
FROM reduced
GROUP BY place, state, zip5, 5, listed, same_subject, in_campaign
"""
# The flags travel as one integer (bit i: _FLAGS[i]) and the registry
# listings as another (bit i: registry_keys[i]): a batch returns up to one
# row per target, and fewer columns are faster to fetch.
_FLAG_BITS = " | ".join(f"({name}::int << {bit})" for bit, name in enumerate(_FLAGS))


def _ebr_sql(event: str, months: int, *, reassigned: bool) -> str:
    """A live EBR from `event` (TSR 310.2(q), as `compliance.policy._ebr`):
    N months after it, end exclusive, void after a company DNC request at or
    after it, then void when the number was reassigned after it."""
    if months <= 0:
        return "false"
    live = (
        f"(b.{event} IS NOT NULL AND b.{event} <= %(at)s "
        f"AND %(at)s < b.{event} + make_interval(months => {int(months)}) "
        f"AND NOT coalesce(d.requested_at >= b.{event}, false))"
    )
    voided = f"coalesce(b.{event} <= b.reassigned_at, false)"
    return f"({live} AND {voided})" if reassigned else f"({live} AND NOT {voided})"


def _batch_rows(
    *,
    campaign: Campaign,
    context: CallContext,
    rules: RuleSet,
    at: datetime,
    low: int,
    high: int,
    registry_keys: list[str],
    suppression: bool,
    with_targets: bool,
):
    federal = rules.federal_rules(at.date())
    purchase_months = min((rule.ebr_purchase_months for rule in federal), default=0)
    inquiry_months = min((rule.ebr_inquiry_months for rule in federal), default=0)
    params: dict = {
        "campaign": campaign.pk,
        "low": low,
        "high": high,
        "at": at,
        "day_ago": at - timedelta(hours=24),
        "channel": context.channel,
        "purpose": context.purpose,
        "subject": context.subject,
        "us_npas": _US_AREA_CODES,
    }
    suppressed = "false"
    if suppression:
        # The suppression hash under every configured key (current and old), as
        # consent.services.suppression_hashes computes it.
        hashes = []
        for i, (ipad, opad) in enumerate(suppression_hmac_pads()):
            params[f"ipad{i}"], params[f"opad{i}"] = ipad, opad
            hashes.append(
                f"encode(sha256(%(opad{i})s || sha256(%(ipad{i})s || convert_to(b.number, 'UTF8'))), 'hex')"
            )
        suppressed = (
            "(b.number IS NOT NULL AND EXISTS (SELECT 1 FROM consent_suppressionentry s WHERE s.number_hash IN ("
            + ", ".join(hashes)
            + ")))"
        )
    listed_parts = []
    positional: list = []
    for key in registry_keys if context.purpose == "marketing" else []:
        sql, sql_params = _listed_sql(campaign, low, high, key)
        listed_parts.append(f"(b.target_id IN ({sql}))")
        positional.extend(sql_params)
    listed = " | ".join(f"({part}::int << {bit})" for bit, part in enumerate(listed_parts)) or "0"
    ebr = {
        "ebr_live": "("
        + _ebr_sql("last_purchase_at", purchase_months, reassigned=False)
        + " OR "
        + _ebr_sql("last_inquiry_at", inquiry_months, reassigned=False)
        + ")",
        "ebr_rea": "("
        + _ebr_sql("last_purchase_at", purchase_months, reassigned=True)
        + " OR "
        + _ebr_sql("last_inquiry_at", inquiry_months, reassigned=True)
        + ")",
    }
    sql = _BATCH_SQL.format(
        suppressed=suppressed,
        listed=listed,
        flag_bits=_FLAG_BITS,
        target_ids="array_agg(target_id)" if with_targets else "NULL",
        **ebr,
    )
    # The registry subqueries come compiled with positional placeholders:
    # turn the named ones into positional ones in order.
    sql, values = _positional(sql, params, listed_parts, positional)
    with transaction.atomic(), connection.cursor() as cursor:
        # The plan's cost estimate triggers JIT compilation, which takes
        # longer than running the query.
        cursor.execute("SET LOCAL jit = off")
        # Sorts and hashes of a batch (100k rows) in memory, not on disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    yield from rows


def _positional(sql: str, named: dict, listed_parts: list[str], listed_params: list) -> tuple[str, list]:
    """Mix of %(name)s and the compiled subqueries' %s, to one positional list."""
    values: list = []
    pieces: list[str] = []
    listed_iter = iter(listed_params)
    for token in re.split(r"(%\([a-z0-9_]+\)s|%s|%%)", sql):
        if token.startswith("%(") and token.endswith(")s"):
            values.append(named[token[2:-2]])
            pieces.append("%s")
        elif token == "%s":
            values.append(next(listed_iter))
            pieces.append("%s")
        else:
            pieces.append(token)
    return "".join(pieces), values


# --- the engine's part ---------------------------------------------------------


class _Evaluator:
    """Decides each distinct set of reduced facts once, with the engine."""

    def __init__(self, *, context: CallContext, rules: RuleSet, at: datetime, today_ends_at: datetime):
        self.context = context
        self.rules = rules
        self.at = at
        self.today_ends_at = today_ends_at
        self.numbers: dict[str, _Number] = {}
        self.verdicts: dict[tuple, TargetVerdict] = {}
        self.openings: dict[tuple, datetime | None] = {}
        self.freshness: dict[tuple[str, int], tuple[datetime, int]] = {}
        self.registry_keys: list[str] = []
        day = at - timedelta(days=1)
        self._t = {name: at - timedelta(days=days) for name, days in (("rev", 10), ("exp", 8), ("rea", 6))}
        self._t.update(
            rev_at=self._t["rev"] + timedelta(days=1),
            exp_at=self._t["exp"] + timedelta(days=1),
            reassigned_at=self._t["rea"] + timedelta(days=1),
            ok=at - timedelta(days=4),
            dnc=at - timedelta(days=20),
            inquiry=at - timedelta(days=7),
            purchase=day,
        )

    def verdict(self, row) -> TargetVerdict:
        place, sample, state, zip5, flags, listed, same_subject, in_campaign = row[:8]
        if sample is None:  # the number was erased with its customer
            return TargetVerdict(NEVER, ("customer_erased",), None)
        number = self.numbers.get(place)
        if number is None:
            number = self.numbers[place] = _place_facts(place, sample)
        zip_zone, zip_state = zip_place(zip5)
        zones = set(number.zones)
        if zip_zone:
            zones.add(zip_zone)
        states = set()
        if number.area_state:
            states.add(number.area_state)
        if state and state.strip().upper() in STATE_CODES:
            states.add(state.strip().upper())
        if zip_state:
            states.add(zip_state)
        key = (
            number.e164 is not None,
            number.valid,
            tuple(sorted(zones)),
            tuple(sorted(states)),
            number.registry_area_code,
            flags,
            listed,
            same_subject,
            in_campaign,
        )
        found = self.verdicts.get(key)
        if found is None:
            found = self.verdicts[key] = self._decide(
                number, key, {name: bool(flags >> bit & 1) for bit, name in enumerate(_FLAGS)}, listed
            )
        return found

    def _decide(self, number: _Number, key: tuple, flags: dict, listed) -> TargetVerdict:
        _e164, _valid, zones, states, area_code, _flags, _listed, same_subject, in_campaign = key
        facts = self._facts(number, zones, states, area_code, flags, listed, same_subject, in_campaign)
        decision = decide(facts, self.rules)
        return verdict_classify(
            decision=decision,
            opens_at=lambda: self._opens(facts, (zones, states, flags["lift_ok"])),
            today_ends_at=self.today_ends_at,
        )

    def _opens(self, facts: CallFacts, key: tuple) -> datetime | None:
        # Only time-dependent reasons block here, and those depend on the
        # places, the campaign and the Utah consent exception alone.
        if key not in self.openings:
            self.openings[key] = next_allowed_at(facts, self.rules)
        return self.openings[key]

    def _facts(self, number, zones, states, area_code, flags, listed, same_subject, in_campaign) -> CallFacts:
        """A CallFacts with exactly the reduced facts: synthetic consents,
        EBR and DNC dates placed so that `decide` finds the same states."""
        t, at, purpose = self._t, self.at, self.context.purpose
        other_purpose = "informational" if purpose == "marketing" else "marketing"
        consents = []

        def consent(written_marketing: bool, granted_at, *, purpose_=None, **dates):
            purpose_ = "marketing" if written_marketing else (purpose_ or other_purpose)
            consents.append(
                ConsentFact(
                    id=-len(consents) - 1,
                    purpose=purpose_,
                    channel=self.context.channel,
                    written=written_marketing,
                    granted_at=granted_at,
                    expires_at=dates.get("expires_at"),
                    revoked_at=dates.get("revoked_at"),
                )
            )

        for prefix, written in (("wm", True), ("ot", False)):
            if flags[f"{prefix}_rev"]:
                consent(written, t["rev"], revoked_at=t["rev_at"])
            if flags[f"{prefix}_exp"]:
                consent(written, t["exp"], expires_at=t["exp_at"])
            if flags[f"{prefix}_rea"]:
                consent(written, t["rea"])
        if flags["wm_ok"]:
            consent(True, t["ok"])
        if flags["ot_ok"]:
            consent(False, t["ok"], purpose_=purpose if flags["lift_ok"] else other_purpose)
        reassigned = flags["wm_rea"] or flags["ot_rea"] or flags["ebr_rea"]
        registry: tuple[RegistryFact, ...] = ()
        if number.e164 and area_code is not None:
            listed_in = {key for bit, key in enumerate(self.registry_keys) if listed >> bit & 1}
            facts = []
            for source in registry_sources_for(states=states, rules=self.rules, on=at.date()):
                synced_at, sync_id = self.freshness.get((source, area_code), (None, None))
                facts.append(
                    RegistryFact(
                        source=source, listed=source in listed_in, synced_at=synced_at, sync_id=sync_id
                    )
                )
            registry = tuple(facts)
        return CallFacts(
            at=at,
            e164=number.e164,
            number_valid=number.valid,
            candidate_zones=zones,
            candidate_states=states,
            customer_id=None,
            customer_erased=flags["erased"] or flags["suppressed"],
            consents=tuple(consents),
            internal_dnc=flags["dnc"],
            dnc_requested_at=t["dnc"] if flags["dnc"] else None,
            registry=registry,
            last_purchase_at=t["purchase"] if flags["ebr_live"] else None,
            last_inquiry_at=t["inquiry"] if flags["ebr_rea"] else None,
            reassigned_at=t["reassigned_at"] if reassigned else None,
            attempts_24h_same_subject=same_subject,
            attempts_24h_campaign=in_campaign,
            context=self.context,
        )


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
    span = CampaignTarget.objects.filter(campaign=campaign).aggregate(
        low=Min("id"), high=Max("id"), n=Count("id")
    )
    total = span["n"]
    if progress:
        progress(0, total)
    if not total:
        return result
    if connection.vendor != "postgresql":
        return _scrub_one_by_one(campaign, context, rules, at, today_ends_at, result, progress, total)

    evaluator = _Evaluator(context=context, rules=rules, at=at, today_ends_at=today_ends_at)
    evaluator.registry_keys = _registry_keys(rules, at) if context.purpose == "marketing" else []
    if context.purpose == "marketing":
        area_codes = (
            CampaignTarget.objects.filter(campaign=campaign)
            .annotate(area=RegistryInt("phone_number__number") / 10_000_000)
            .order_by()  # the model's ordering would make DISTINCT return every target
            .values_list("area", flat=True)
            .distinct()
        )
        evaluator.freshness = registry_freshness(area_codes=[code for code in area_codes if code is not None])
    suppression = SuppressionEntry.objects.exists()
    _places_load()
    batches = max(1, -(-total // (batch_size or BATCH_SIZE)))
    step = -(-(span["high"] - span["low"] + 1) // batches)
    done = 0
    for low in range(span["low"], span["high"] + 1, step):
        for row in _batch_rows(
            campaign=campaign,
            context=context,
            rules=rules,
            at=at,
            low=low,
            high=low + step,
            registry_keys=evaluator.registry_keys,
            suppression=suppression,
            with_targets=with_targets,
        ):
            verdict = evaluator.verdict(row)
            count = row[8]
            result.add(verdict, count)
            done += count
            if with_targets:
                for target_id in row[9]:
                    result.targets[target_id] = verdict
        if progress:
            progress(done, total)
    _places_save()
    result.decisions = len(evaluator.verdicts)
    return result


def _scrub_one_by_one(campaign, context, rules, at, today_ends_at, result, progress, total) -> ScrubResult:
    """The portable path (SQLite demo): one fact gathering and decision per target."""
    done = 0
    for target in CampaignTarget.objects.filter(campaign=campaign).select_related("phone_number").iterator():
        number = target.phone_number.number
        if number is None:
            verdict = TargetVerdict(NEVER, ("customer_erased",), None)
        else:
            facts = facts_gather(number=str(number), context=context, at=at, rules=rules)
            verdict = verdict_classify(
                decision=decide(facts, rules),
                opens_at=lambda facts=facts: next_allowed_at(facts, rules),
                today_ends_at=today_ends_at,
            )
        result.add(verdict, 1)
        result.decisions += 1
        if result.targets is not None:
            result.targets[target.pk] = verdict
        done += 1
        if progress and done % 1000 == 0:
            progress(done, total)
    if progress:
        progress(done, total)
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
        rows_total=CampaignTarget.objects.filter(campaign=campaign).count(),
    )
    if scrub.rows_total <= SYNC_LIMIT:
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
