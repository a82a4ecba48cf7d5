"""The decision: may this number be called at this instant for this purpose?

`decide(facts, rules)` is pure: no database, no clock. `compliance.facts`
gathers the facts; `compliance.rules` holds the rule data. It returns every
blocking reason (DESIGN.md's codes, in the table's order) and the evidence it
used. Unknown facts block, with the reason that says which.

Policy choices are DESIGN.md's ("Policy choices"); interpretations of the
rules that DESIGN.md leaves open are stated where they are made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from dateutil.relativedelta import relativedelta

from compliance.evidence import (
    EVIDENCE_VERSION,
    CapEvidence,
    EbrEventEvidence,
    EbrEvidence,
    Evidence,
    LitigatorEvidence,
    RegistryEvidence,
    RndEvidence,
    WindowEvidence,
    ZoneEvidence,
)
from compliance.registry.sources import LITIGATOR_KEY, NATIONAL_KEY, source_key, source_key_parse
from compliance.rnd.answers import (
    DATE_CONSENT,
    DATE_CONTACT,
    NO,
    YES,
    RndAnswer,
    answer_for_date,
    answer_is_fresh,
    answer_voids_consent,
    date_sent_for,
    rnd_fresh_window,
)
from compliance.rules import AUTOMATED_MODES, FEDERAL, Rule, RuleSet, window_text

REASON_CODES: tuple[str, ...] = (
    "invalid_number",
    "consent_missing",
    "consent_revoked",
    "consent_expired",
    "dnc_internal",
    "dnc_national",
    "dnc_state",
    "dnc_data_stale",
    "reassigned_number",
    "rnd_unverified",
    "litigator_listed",
    "timezone_unknown",
    "outside_calling_hours",
    "restricted_day",
    "frequency_cap",
    "customer_erased",
    "campaign_inactive",
)
PERMANENT_REASONS: frozenset[str] = frozenset(
    {
        "invalid_number",
        "consent_missing",
        "consent_revoked",
        "consent_expired",
        "dnc_internal",
        "dnc_national",
        "dnc_state",
        "reassigned_number",
        "litigator_listed",
        "timezone_unknown",
        "customer_erased",
    }
)
# rnd_unverified clears with a fresh RND "no": the query task asks for what is due.
TEMPORARY_REASONS: frozenset[str] = frozenset(
    {
        "dnc_data_stale",
        "rnd_unverified",
        "outside_calling_hours",
        "restricted_day",
        "frequency_cap",
        "campaign_inactive",
    }
)
# The reasons that depend on the instant only (what next_allowed_at solves).
TIME_REASONS: frozenset[str] = frozenset({"outside_calling_hours", "restricted_day", "campaign_inactive"})

LITIGATOR_POLICIES = ("block", "flag", "ignore")
RND_POLICIES = ("flag", "block")
MAINE = "ME"

NEXT_ALLOWED_HORIZON = timedelta(days=8)
_MIDNIGHT = time(0, 0)


@dataclass(frozen=True, slots=True)
class ConsentFact:
    id: int
    purpose: str  # "marketing" | "informational"
    channel: str  # "voice" | "sms"
    written: bool
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class RegistryFact:
    source: str  # "national" or "state:TX"
    listed: bool
    synced_at: datetime | None  # this source's last sync of the number's area code; None = never
    sync_id: int | None


@dataclass(frozen=True, slots=True)
class CallContext:
    purpose: str  # "marketing" | "informational"
    dialing_mode: str  # "manual" | "autodialed" | "prerecorded"
    subject: str
    channel: str = "voice"
    campaign_id: int | None = None
    campaign_status: str = "active"
    campaign_starts_at: datetime | None = None
    campaign_ends_at: datetime | None = None
    window_start: time | None = None  # local to the callee
    window_end: time | None = None  # exclusive
    max_attempts_per_day: int | None = None
    # The campaign's "block" | "flag" | "ignore"; None (unknown) reads as "block".
    litigator_policy: str | None = None


@dataclass(frozen=True, slots=True)
class CallFacts:
    at: datetime  # the instant of the call (UTC)
    e164: str | None  # normalised number, None when unparseable
    number_valid: bool  # valid and dialable
    candidate_zones: tuple[str, ...]  # IANA zones; empty = unknown
    candidate_states: tuple[str, ...]  # two-letter US states (area code's + address's)
    customer_id: int | None
    customer_erased: bool  # the number matches an erasure suppression hash
    consents: tuple[ConsentFact, ...]  # every consent of the number (revoked and expired too)
    internal_dnc: bool  # an active company DNC request exists
    dnc_requested_at: datetime | None  # the latest company DNC request, active or lifted
    registry: tuple[RegistryFact, ...]  # national, plus one per candidate state keeping its own list
    last_purchase_at: datetime | None
    last_inquiry_at: datetime | None
    reassigned_at: datetime | None  # the number was reported reassigned at
    attempts_24h_same_subject: int  # in the 24 h before `at`, all campaigns with the same subject
    attempts_24h_campaign: int  # in the 24 h before `at`, this campaign
    context: CallContext
    # RND answers known at `at` (the latest per date sent, errors left out), and
    # the company's RND policy ("flag" | "block"; None, unknown, reads as "block").
    rnd: tuple[RndAnswer, ...] = ()
    rnd_policy: str | None = None
    customer_created_at: datetime | None = None  # the contact date of last resort (Maine)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...]
    evidence: Evidence  # JSON values, the shape `compliance.evidence` documents


# --- cached lookups -------------------------------------------------------

_ZONES: dict[str, ZoneInfo | None] = {}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return _ZONES[name]
    except KeyError:
        try:
            found: ZoneInfo | None = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            found = None
        _ZONES[name] = found
        return found


@lru_cache(maxsize=1024)
def holiday_dates(jurisdiction: str, year: int) -> frozenset[date]:
    """Legal holidays (observed days included) of a state, or federal ones
    for "US". A subdivision the package does not know falls back to the
    federal holidays."""
    try:
        found = holidays.country_holidays(
            "US", subdiv=None if jurisdiction == FEDERAL else jurisdiction, years=year
        )
    except NotImplementedError:
        found = holidays.country_holidays("US", years=year)
    return frozenset(found)


@lru_cache(maxsize=1024)
def _sync_time_text(synced_at: datetime) -> str:
    """A registry sync's time as shown in evidence: a few sync runs serve every call."""
    return synced_at.isoformat()


@lru_cache(maxsize=8192)
def _months_after(instant: datetime, months: int) -> datetime:
    return instant + relativedelta(months=months)


# --- consent ---------------------------------------------------------------

_OK = "ok"
_REVOKED = "revoked"
_EXPIRED = "expired"
_REASSIGNED = "reassigned"


def _consent_states(facts: CallFacts, at: datetime) -> list[tuple[ConsentFact, str]]:
    """Each consent of the call's channel granted by `at`, with its state.

    A revocation revokes every consent of the number granted before it
    (DESIGN.md), not only the row it was recorded on. A consent granted at or
    before the number was reported reassigned was given by the previous
    subscriber: conservatively it counts for nothing, whenever the call is.
    So is one the RND says was followed by a permanent disconnection (a "yes"
    for its date or a later one)."""
    consents = facts.consents
    if not consents:
        return []
    revoked_until = None
    for consent in consents:
        revoked_at = consent.revoked_at
        if (
            revoked_at is not None
            and revoked_at <= at
            and (revoked_until is None or revoked_at > revoked_until)
        ):
            revoked_until = revoked_at
    channel = facts.context.channel
    reassigned_at = facts.reassigned_at
    states = []
    for consent in consents:
        if consent.channel != channel or consent.granted_at > at:
            continue
        if (revoked_until is not None and consent.granted_at <= revoked_until) or (
            consent.revoked_at is not None and consent.revoked_at <= at
        ):
            state = _REVOKED
        elif consent.expires_at is not None and consent.expires_at <= at:
            state = _EXPIRED
        elif (reassigned_at is not None and consent.granted_at <= reassigned_at) or _rnd_yes_for(
            facts, consent
        ):
            # Marked reassigned by staff after the consent, or an RND "yes"
            # for a date on or after the consent's (its UTC date).
            state = _REASSIGNED
        else:
            state = _OK
        states.append((consent, state))
    return states


def _written_marketing(consent: ConsentFact) -> bool:
    return consent.written and consent.purpose == "marketing"


def _any_express(consent: ConsentFact) -> bool:
    # Any express consent, marketing or informational, written or oral, is
    # prior express consent for an informational autodialed/prerecorded call:
    # consent to marketing calls includes consent to be called at all.
    return True


def _consent_outcome(
    states: list[tuple[ConsentFact, str]], kind: Callable[[ConsentFact], bool]
) -> tuple[list[int], set[str]]:
    """(ids of the usable consents of a kind, the reasons when none is)."""
    usable = [consent.id for consent, state in states if state is _OK and kind(consent)]
    if usable:
        return usable, set()
    found = {state for consent, state in states if kind(consent)}
    if not found:
        return [], {"consent_missing"}
    reasons: set[str] = set()
    if _REVOKED in found:
        reasons.add("consent_revoked")
    if _EXPIRED in found:
        reasons.add("consent_expired")
    if _REASSIGNED in found:
        reasons.add("reassigned_number")
    return [], reasons


# --- established business relationship ----------------------------------


def _ebr(facts: CallFacts, at: datetime, purchase_months: int, inquiry_months: int) -> EbrEvidence:
    """The EBR the customer's last purchase or inquiry gives at `at` (TSR
    310.2(q)). It runs for N calendar months after the event, end exclusive:
    a call exactly 18 months after the purchase has none. A company DNC
    request at or after the event voids it; so does the number's
    reassignment after the event (the relationship was with the previous
    subscriber)."""
    found: EbrEvidence = {"basis": None}
    for basis, event, months in (
        ("purchase", facts.last_purchase_at, purchase_months),
        ("inquiry", facts.last_inquiry_at, inquiry_months),
    ):
        if event is None or months <= 0 or event > at:
            continue
        until = _months_after(event, months)
        entry: EbrEventEvidence = {"at": event.isoformat(), "until": until.isoformat()}
        if basis == "purchase":
            found["purchase"] = entry
        else:
            found["inquiry"] = entry
        if at >= until:
            entry["void"] = "expired"
        elif facts.dnc_requested_at is not None and facts.dnc_requested_at >= event:
            entry["void"] = "dnc_request"
        elif facts.reassigned_at is not None and event <= facts.reassigned_at:
            entry["void"] = "reassigned"
        elif found["basis"] is None:
            found["basis"] = basis
    return found


# --- calling hours ---------------------------------------------------------


# The window a rule applies on a day, or why it allows no call that day ("holiday", "closed").
_DayWindow = tuple[time, time] | str


def _day_check(
    rule: Rule, local_date: date, weekday: int, local_time: time, day_ban_lifted: bool
) -> tuple[str | None, _DayWindow]:
    """(reason or None, the window applied) for one rule at one local time."""
    window = rule.windows[weekday]
    holiday = rule.holiday_ban != "none" and local_date in holiday_dates(rule.jurisdiction, local_date.year)
    if window is None or holiday:
        if rule.holiday_ban == "without_consent" and day_ban_lifted:
            window = rule.windows[0]
            # rule_from_record refuses a rule lifted by consent without a weekday window.
            assert window is not None
        else:
            return "restricted_day", ("holiday" if holiday else "closed")
    if window[0] <= local_time < window[1]:
        return None, window
    return "outside_calling_hours", window


def campaign_active(
    *, status: str, starts_at: datetime | None, ends_at: datetime | None, at: datetime
) -> bool:
    """A campaign may call at `at`: it is active, has started and has not
    ended (`ends_at` exclusive). The one statement of it: `decide` blocks
    with `campaign_inactive` on it, the dialer refuses a campaign on it
    (through `Campaign.active_at`)."""
    return status == "active" and (starts_at is None or at >= starts_at) and (ends_at is None or at < ends_at)


def decide(facts: CallFacts, rules: RuleSet) -> Decision:
    blocked: set[str] = set()
    at = facts.at
    context = facts.context
    marketing = context.purpose == "marketing"
    automated = context.dialing_mode in AUTOMATED_MODES

    if not facts.number_valid:
        blocked.add("invalid_number")
    if facts.customer_erased:
        blocked.add("customer_erased")

    # Local time in every candidate zone. Rules are those in effect on the
    # local date of the call; rules that are not about the time of day (caps,
    # consent, cooldowns, lists) apply if in effect on any candidate date.
    local_times = _local_times(at, facts.candidate_zones)
    zone_evidence: list[ZoneEvidence] = [
        {"zone": name, "local_time": local.isoformat()} for name, local in local_times
    ]
    if len(local_times) < len(facts.candidate_zones) or not facts.candidate_zones:
        blocked.add("timezone_unknown")
    purpose, mode = context.purpose, context.dialing_mode
    plan = _rules_plan(rules, _local_dates(local_times, at), facts.candidate_states, purpose, mode)

    # Consent. Marketing calls need written marketing consent when automated,
    # or always where a candidate state says so (CT); informational automated
    # calls need any express consent; other manual calls need none.
    states = _consent_states(facts, at)
    written_ids, written_reasons = _consent_outcome(states, _written_marketing)
    need = None
    if marketing and (automated or plan.written_consent_for_sales):
        need = "written_marketing"
        consent_ids, consent_reasons = written_ids, written_reasons
    elif not marketing and automated:
        need = "express"
        consent_ids, consent_reasons = _consent_outcome(states, _any_express)
    else:
        consent_ids, consent_reasons = [], set()
    blocked |= consent_reasons
    # The one place evidence is built (its shape: compliance.evidence).
    evidence: Evidence = {
        "evidence_version": EVIDENCE_VERSION,
        "ruleset_version": rules.version,
        "at": at.isoformat(),
        "zones": zone_evidence,
        "states": list(facts.candidate_states),
        "consent": {"needed": need, "ids": consent_ids},
    }
    if facts.reassigned_at is not None:
        evidence["reassigned_at"] = facts.reassigned_at.isoformat()

    # The company's own list, always; and a state cooldown after a DNC request
    # (WA: a year, even when the request was lifted).
    if facts.internal_dnc:
        blocked.add("dnc_internal")
    requested_at = facts.dnc_requested_at
    if requested_at is not None and requested_at <= at:
        for jurisdiction, days in plan.cooldowns:
            if at < requested_at + timedelta(days=days):
                blocked.add("dnc_internal")
                evidence["dnc_cooldown"] = {
                    "jurisdiction": jurisdiction,
                    "until": (requested_at + timedelta(days=days)).isoformat(),
                }

    # Registries decide marketing calls only, and only without an exemption
    # (written marketing consent, or a live EBR); so does their freshness.
    if marketing and facts.number_valid:
        _registries(facts, at, plan, written_ids, written_reasons, blocked, evidence)

    # The Reassigned Numbers Database: the safe harbor of consent-based
    # automated calls, Maine's check before a marketing call.
    _rnd(facts, rules, automated and need is not None, consent_ids, evidence, blocked)
    # Litigator lists: the campaign's policy; missing or old data never blocks.
    if facts.number_valid:
        _litigator(facts, evidence, blocked)

    # Attempt caps: a state's on the same subject, the campaign's own.
    caps: list[CapEvidence] = []
    for jurisdiction, cap in plan.caps:
        caps.append({"jurisdiction": jurisdiction, "cap": cap, "attempts": facts.attempts_24h_same_subject})
        if facts.attempts_24h_same_subject >= cap:
            blocked.add("frequency_cap")
    if context.max_attempts_per_day is not None:
        caps.append(
            {
                "jurisdiction": "campaign",
                "cap": context.max_attempts_per_day,
                "attempts": facts.attempts_24h_campaign,
            }
        )
        if facts.attempts_24h_campaign >= context.max_attempts_per_day:
            blocked.add("frequency_cap")
    if caps:
        evidence["caps"] = caps

    if not campaign_active(
        status=context.campaign_status,
        starts_at=context.campaign_starts_at,
        ends_at=context.campaign_ends_at,
        at=at,
    ):
        blocked.add("campaign_inactive")

    if local_times:
        # Utah lifts its day bans with prior express consent to the kind of
        # call being made (marketing consent for a marketing call).
        lifted = any(state is _OK and consent.purpose == purpose for consent, state in states)
        _calling_hours(facts, rules, local_times, lifted, blocked, evidence)

    reasons = tuple(sorted(blocked, key=_REASON_RANK.__getitem__)) if blocked else ()
    return Decision(allowed=not reasons, reasons=reasons, evidence=evidence)


def _local_times(at: datetime, zones: tuple[str, ...]) -> list[tuple[str, datetime]]:
    """The call's local time in each candidate zone that is known."""
    return [(name, at.astimezone(zone)) for name in zones if (zone := _zone(name)) is not None]


def _local_dates(local_times: list[tuple[str, datetime]], at: datetime) -> tuple[date, ...]:
    """The call's local dates (UTC's when no zone is known): the rules in effect."""
    return tuple({local.date() for _name, local in local_times} or {at.astimezone(UTC).date()})


@lru_cache(maxsize=4096)
def _zone_dates(at: datetime, zones: tuple[str, ...]) -> tuple[date, ...]:
    """`_local_dates` of a call at `at` with these candidate zones (memoised: many numbers, one instant)."""
    return _local_dates(_local_times(at, zones), at)


def decision_key(facts: CallFacts, rules: RuleSet) -> tuple[object, ...]:
    """What `decide`'s reasons (and `next_allowed_at`) depend on in `facts`,
    for deciding many numbers once per distinct key (the pre-launch scrub).

    Each part is read with `decide`'s own helpers, not restated: the instant,
    the context and the rule set's version; validity, erasure, the candidate
    zones and states; each consent's purpose, writtenness and state at the
    instant (`_consent_states`); the company DNC flag, and the request's time
    where a cooldown can apply; the EBR's basis and voids (`_ebr`); each
    registry source's listing and sync time; the attempt counts. Ids, the
    numbers themselves and the dates behind those states are left out: two
    facts with equal keys get the same reasons, not the same evidence (a
    property test holds `decide` to this)."""
    at = facts.at
    context = facts.context
    plan = _rules_plan(
        rules,
        _zone_dates(at, facts.candidate_zones),
        facts.candidate_states,
        context.purpose,
        context.dialing_mode,
    )
    ebr = _ebr(facts, at, plan.ebr_purchase_months, plan.ebr_inquiry_months)
    purchase, inquiry = ebr.get("purchase"), ebr.get("inquiry")
    return (
        rules.version,
        at,
        context,
        facts.number_valid,
        facts.customer_erased,
        facts.candidate_zones,
        facts.candidate_states,
        frozenset((consent.purpose, consent.written, state) for consent, state in _consent_states(facts, at)),
        facts.internal_dnc,
        facts.dnc_requested_at if plan.cooldowns else None,
        ebr["basis"],
        None if purchase is None else purchase.get("void", ""),
        None if inquiry is None else inquiry.get("void", ""),
        tuple((fact.source, fact.listed, fact.synced_at) for fact in facts.registry),
        facts.attempts_24h_same_subject,
        facts.attempts_24h_campaign,
        # The RND: the answers by date, the company's policy, the contact dates Maine asks with.
        tuple((answer.date_sent, answer.answer, answer.queried_at) for answer in facts.rnd),
        facts.rnd_policy,
        frozenset((consent.id, consent.granted_at) for consent in facts.consents) if facts.rnd else None,
        (facts.last_purchase_at, facts.last_inquiry_at, facts.customer_created_at)
        if MAINE in facts.candidate_states
        else None,
    )


_REASON_RANK = {code: rank for rank, code in enumerate(REASON_CODES)}
_PLANS_MAX = 50_000  # memoised plans kept before starting afresh


@dataclass(frozen=True, slots=True)
class _RulesPlan:
    """What the rules in effect on a call's local dates in its candidate
    states say, whatever the call's instant and facts: the same few
    (dates, states, purpose, mode) combinations serve every call of a day."""

    written_consent_for_sales: bool  # a state rule that applies to the call requires it
    cooldowns: tuple[tuple[str, int], ...]  # (jurisdiction, days) after a company DNC request
    caps: tuple[tuple[str, int], ...]  # (jurisdiction, attempts per 24 h on the same subject)
    ebr_purchase_months: int
    ebr_inquiry_months: int
    # (source, max age in days or None when no rule says, the same as a timedelta, reason when listed)
    registry_sources: tuple[tuple[str, int | None, timedelta | None, str], ...]


_plans: dict[tuple[object, ...], _RulesPlan] = {}


def _rules_plan(
    rules: RuleSet, dates: tuple[date, ...], states: tuple[str, ...], purpose: str, mode: str
) -> _RulesPlan:
    key = (rules.version, dates, states, purpose, mode)
    plan = _plans.get(key)
    if plan is not None:
        return plan
    federal: dict[int, Rule] = {}
    in_effect: dict[int, Rule] = {}  # state rules in effect, whatever they apply to
    for day in dates:
        for rule in rules.rules_for(FEDERAL, day):
            federal[id(rule)] = rule
        for state in states:
            for rule in rules.rules_for(state, day):
                in_effect[id(rule)] = rule
    binding = tuple(rule for rule in in_effect.values() if rule.applies(purpose, mode))
    named = [(NATIONAL_KEY, registry_max_age_days(rules, source=NATIONAL_KEY, dates=dates), "dnc_national")]
    # One entry per state keeping a list (the strictest age if its rule changes between the dates).
    for state in dict.fromkeys(rule.jurisdiction for rule in in_effect.values() if rule.own_dnc_list):
        state_list = source_key(state=state)
        named.append((state_list, registry_max_age_days(rules, source=state_list, dates=dates), "dnc_state"))
    sources = [
        (source, days, None if days is None else timedelta(days=days), reason)
        for source, days, reason in named
    ]
    plan = _RulesPlan(
        written_consent_for_sales=any(rule.written_consent_for_sales for rule in binding),
        cooldowns=tuple(
            (rule.jurisdiction, rule.dnc_request_cooldown_days)
            for rule in binding
            if rule.dnc_request_cooldown_days
        ),
        caps=tuple((rule.jurisdiction, rule.cap_per_24h) for rule in binding if rule.cap_per_24h is not None),
        ebr_purchase_months=min((rule.ebr_purchase_months for rule in federal.values()), default=0),
        ebr_inquiry_months=min((rule.ebr_inquiry_months for rule in federal.values()), default=0),
        registry_sources=tuple(sources),
    )
    if len(_plans) >= _PLANS_MAX:
        _plans.clear()
    _plans[key] = plan
    return plan


def registry_max_age_days(rules: RuleSet, *, source: str, dates: Iterable[date]) -> int | None:
    """The age in days beyond which a registry source's data is stale under
    the rules in effect on `dates` (the strictest if several are): the
    federal rule's for the national registry, the state's own-list rule's for
    a state's list. None when no rule gives one: the national registry's data
    then counts as stale, and no decision reads a state's list. The one
    reading of `dnc_list_max_age_days`: decisions, pages, reports and warnings
    all come here. None for the litigator list: its age never blocks a call
    (the evidence cites it)."""
    if source == LITIGATOR_KEY:
        return None
    state = source_key_parse(source)
    if state is None:
        return min(
            (rule.dnc_list_max_age_days for day in dates for rule in rules.rules_for(FEDERAL, day)),
            default=None,
        )
    return min(
        (
            rule.dnc_list_max_age_days
            for day in dates
            for rule in rules.rules_for(state, day)
            if rule.own_dnc_list
        ),
        default=None,
    )


def _registries(
    facts: CallFacts,
    at: datetime,
    plan: _RulesPlan,
    written_ids: list[int],
    written_reasons: set[str],
    blocked: set[str],
    evidence: Evidence,
) -> None:
    ebr = _ebr(facts, at, plan.ebr_purchase_months, plan.ebr_inquiry_months)
    evidence["ebr"] = ebr
    if written_ids:
        exemption = "written_consent"
        evidence["consent"]["exemption_ids"] = written_ids
    elif ebr["basis"]:
        exemption = "ebr"
    else:
        exemption = None
    evidence["exemption"] = exemption

    by_source = {fact.source: fact for fact in facts.registry}
    registry_evidence: list[RegistryEvidence] = []
    would_block = False
    for source, max_age_days, max_age, listed_reason in plan.registry_sources:
        fact = by_source.get(source)
        # Fresh means at most max_age_days old: exactly 31 days passes, one
        # second more is stale. No data, or no rule giving an age, is stale.
        stale = True
        synced_text, age_seconds = None, None
        if fact is not None and fact.synced_at is not None:
            age = at - fact.synced_at
            synced_text, age_seconds = _sync_time_text(fact.synced_at), int(age.total_seconds())
            stale = max_age is None or age > max_age
        registry_evidence.append(
            {
                "source": source,
                "max_age_days": max_age_days,
                "listed": None if fact is None else fact.listed,
                "sync_id": None if fact is None else fact.sync_id,
                "synced_at": synced_text,
                "age_seconds": age_seconds,
                "stale": stale,
            }
        )
        if exemption is None:
            if stale:
                blocked.add("dnc_data_stale")
                would_block = True
            if fact is not None and fact.listed:
                blocked.add(listed_reason)
                would_block = True
    evidence["registry"] = registry_evidence

    # The call would rely on the consent or EBR that reassignment voided: say
    # so (conservative: reassignment voids what the previous subscriber gave).
    if would_block and (
        "reassigned_number" in written_reasons
        or any(isinstance(entry, dict) and entry.get("void") == "reassigned" for entry in ebr.values())
    ):
        blocked.add("reassigned_number")


def _rnd(
    facts: CallFacts,
    rules: RuleSet,
    consent_based: bool,
    consent_ids: list[int],
    evidence: Evidence,
    blocked: set[str],
) -> None:
    """The Reassigned Numbers Database, where an answer matters: an
    autodialed or prerecorded call relying on consent has the safe harbor of
    47 CFR 64.1200(m) only with a fresh "no" for the consent's date (without
    one, the company's RND policy says: `block` -> rnd_unverified, `flag` ->
    allowed without the safe harbor); a marketing call with Maine among the
    candidate states needs a fresh "no" (10 M.R.S.A. §1499-B; EBR calls
    exempt), asked with the consent's date when it relies on consent, else
    with the latest contact (purchase, inquiry, the record's creation). A
    "yes" for that contact's date means the number changed hands since:
    reassigned_number. (A "yes" for a consent's date voided the consent
    already: `_consent_states`.)"""
    if not facts.number_valid:
        return
    context, at = facts.context, facts.at
    # Maine exempts calls to a person with an established business
    # relationship, whether or not the call also has written consent.
    ebr = evidence.get("ebr")
    maine = context.purpose == "marketing" and MAINE in facts.candidate_states and not (ebr and ebr["basis"])
    relied = set(consent_ids) or set(evidence["consent"].get("exemption_ids", ()))
    policy = facts.rnd_policy if facts.rnd_policy in RND_POLICIES else "block"
    window = rnd_fresh_window(rules, on=at.astimezone(UTC).date())
    if consent_based and not relied and not maine:
        # No usable consent (that blocks already): cite the "yes" that voided one, if one did.
        voided = _rnd_voiding(facts)
        if voided is not None:
            voided_consent, yes = voided
            evidence["rnd"] = _rnd_evidence(
                "consent",
                yes.date_sent,
                DATE_CONSENT,
                voided_consent.id,
                yes,
                window,
                False,
                False,
                policy,
                "reassigned_number",
            )
        return
    if not maine and not (consent_based and relied):
        return  # no answer matters
    candidates: list[tuple[date, str, int | None]] = [
        (date_sent_for(consent.granted_at), DATE_CONSENT, consent.id)
        for consent in facts.consents
        if consent.id in relied
    ]
    if not candidates:
        contacts = (facts.last_purchase_at, facts.last_inquiry_at, facts.customer_created_at)
        contact = max((moment for moment in contacts if moment is not None and moment <= at), default=None)
        if contact is not None:
            candidates.append((date_sent_for(contact), DATE_CONTACT, None))
    # The newest date first: a fresh "no" for any date the call relies on is the safe harbor.
    chosen: tuple[date | None, str | None, int | None, RndAnswer | None] = (None, None, None, None)
    fresh = False
    for candidate_day, candidate_kind, candidate_id in sorted(
        candidates, key=lambda candidate: candidate[0], reverse=True
    ):
        found = answer_for_date(facts.rnd, date_sent=candidate_day)
        if found is not None and found.answer == NO and answer_is_fresh(found, at=at, window=window):
            chosen, fresh = (candidate_day, candidate_kind, candidate_id, found), True
            break
        if chosen[0] is None:
            chosen = (candidate_day, candidate_kind, candidate_id, found)
    day, kind, consent_id, answer = chosen
    blocks = None
    if kind == DATE_CONTACT and answer is not None and answer.answer == YES:
        blocks = "reassigned_number"
    elif not fresh and (maine or policy == "block"):
        blocks = "rnd_unverified"
    if blocks:
        blocked.add(blocks)
    evidence["rnd"] = _rnd_evidence(
        "maine" if maine else "consent",
        day,
        kind,
        consent_id,
        answer,
        window,
        fresh,
        fresh and consent_based and kind == DATE_CONSENT,
        policy,
        blocks,
    )


def _rnd_yes_for(facts: CallFacts, consent: ConsentFact) -> RndAnswer | None:
    """The latest RND "yes" that voids `consent` (compliance.rnd.answers), if any."""
    granted_on = date_sent_for(consent.granted_at)
    return max(
        (answer for answer in facts.rnd if answer_voids_consent(answer, granted_on=granted_on)),
        key=lambda answer: (answer.queried_at, answer.query_id),
        default=None,
    )


def _rnd_voiding(facts: CallFacts) -> tuple[ConsentFact, RndAnswer] | None:
    """The latest consent of the call's channel an RND "yes" voided, with that answer."""
    found = None
    for consent in facts.consents:
        if consent.channel != facts.context.channel or consent.granted_at > facts.at:
            continue
        yes = _rnd_yes_for(facts, consent)
        if yes is not None and (found is None or consent.granted_at > found[0].granted_at):
            found = (consent, yes)
    return found


def _rnd_evidence(
    needed: str,
    day: date | None,
    kind: str | None,
    consent_id: int | None,
    answer: RndAnswer | None,
    window: timedelta | None,
    fresh: bool,
    safe_harbor: bool,
    policy: str,
    blocks: str | None,
) -> RndEvidence:
    return {
        "needed": needed,
        "date_sent": None if day is None else day.isoformat(),
        "date_kind": kind,
        "consent_id": consent_id,
        "query_id": None if answer is None else answer.query_id,
        "answer": None if answer is None else answer.answer,
        "queried_at": None if answer is None else answer.queried_at.isoformat(),
        "provider": None if answer is None else answer.provider,
        "fresh_hours": None if window is None else int(window.total_seconds() // 3600),
        "fresh": fresh,
        "safe_harbor": safe_harbor,
        "policy": policy,
        "blocks": blocks,
    }


def _litigator(facts: CallFacts, evidence: Evidence, blocked: set[str]) -> None:
    """A litigator list under the campaign's policy: `block` ->
    litigator_listed; `flag` -> the call goes ahead and the number goes to
    the review queue (the caller files it); `ignore` -> cited only. No data
    for the number's area code, or old data, never blocks: the evidence says
    which. It only ever adds a block."""
    policy = facts.context.litigator_policy
    if policy not in LITIGATOR_POLICIES:
        policy = "block"  # unknown: fail closed
    fact = next((fact for fact in facts.registry if fact.source == LITIGATOR_KEY), None)
    listed = None if fact is None or (fact.synced_at is None and not fact.listed) else fact.listed
    if listed and policy == "block":
        blocked.add("litigator_listed")
    litigator: LitigatorEvidence = {
        "policy": policy,
        "listed": listed,
        "sync_id": None if fact is None else fact.sync_id,
        "synced_at": None if fact is None or fact.synced_at is None else _sync_time_text(fact.synced_at),
        "flagged": bool(listed) and policy == "flag",
    }
    evidence["litigator"] = litigator


def _calling_hours(
    facts: CallFacts,
    rules: RuleSet,
    local_times: list[tuple[str, datetime]],
    day_ban_lifted: bool,
    blocked: set[str],
    evidence: Evidence,
) -> None:
    """Federal window for every call, the campaign's window for every call,
    each candidate state's rules that apply to the call; each evaluated at the
    local time in every candidate zone (an area code's state and a ZIP's zone
    may disagree)."""
    context = facts.context
    purpose, mode = context.purpose, context.dialing_mode
    start, end = context.window_start, context.window_end
    states = facts.candidate_states
    applied: list[WindowEvidence] = []
    for name, local in local_times:
        local_time = local.time()
        checks = _hours_plan(rules, local.date(), states, purpose, mode, day_ban_lifted)
        if checks is None:
            # No federal rule in effect: no window can be established.
            blocked.add("outside_calling_hours")
            applied.append(
                {"jurisdiction": FEDERAL, "zone": name, "window": None, "blocks": "outside_calling_hours"}
            )
            checks = _hours_plan(rules, local.date(), states, purpose, mode, day_ban_lifted, federal=False)
            assert checks is not None  # without the federal rules there is always a plan
        for jurisdiction, citation, window, shown, day_reason in checks:
            if day_reason:
                reason = day_reason
            elif isinstance(window, tuple) and window[0] <= local_time < window[1]:
                reason = None
            else:
                reason = "outside_calling_hours"
            if reason:
                blocked.add(reason)
            applied.append(
                {
                    "jurisdiction": jurisdiction,
                    "zone": name,
                    "window": shown,
                    "citation": citation,
                    "blocks": reason,
                }
            )
        if (start is not None and local_time < start) or (end is not None and local_time >= end):
            blocked.add("outside_calling_hours")
            applied.append(
                {
                    "jurisdiction": "campaign",
                    "zone": name,
                    "window": _campaign_window(start, end),
                    "blocks": "outside_calling_hours",
                }
            )
    evidence["windows"] = applied
    if start is not None or end is not None:
        evidence["campaign_window"] = _campaign_window(start, end)


# One calling-hours check: (jurisdiction, citation, window, window as shown, the day's reason or None).
_HoursCheck = tuple[str, str, _DayWindow, str, str | None]
_hours_plans: dict[tuple[object, ...], tuple[_HoursCheck, ...] | None] = {}


def _hours_plan(
    rules: RuleSet,
    local_date: date,
    states: tuple[str, ...],
    purpose: str,
    mode: str,
    day_ban_lifted: bool,
    *,
    federal: bool = True,
) -> tuple[_HoursCheck, ...] | None:
    """The calling-hours checks of one local date: per rule that applies,
    (jurisdiction, citation, window, window as shown, the day's reason or
    None), federal rules first, then each state's; what is left per call is
    comparing the local time with each window. None when no federal rule is
    in effect (and `federal`): no window can be established."""
    key = (rules.version, local_date, states, purpose, mode, day_ban_lifted, federal)
    try:
        return _hours_plans[key]
    except KeyError:
        pass
    weekday = local_date.weekday()
    federal_rules = rules.rules_for(FEDERAL, local_date)
    checks: tuple[_HoursCheck, ...] | None = None
    if not federal or federal_rules:
        found: list[_HoursCheck] = []
        for rule in (
            *federal_rules,
            *(rule for state in states for rule in rules.rules_for(state, local_date)),
        ):
            if rule.applies(purpose, mode):
                reason, window = _day_check(rule, local_date, weekday, _MIDNIGHT, day_ban_lifted)
                if reason == "outside_calling_hours":  # depends on the time: compared per call
                    reason = None
                shown = window if isinstance(window, str) else window_text(window)
                found.append((rule.jurisdiction, rule.citation, window, shown, reason))
        checks = tuple(found)
    if len(_hours_plans) >= _PLANS_MAX:
        _hours_plans.clear()
    _hours_plans[key] = checks
    return checks


@lru_cache(maxsize=1024)
def _campaign_window(start: time | None, end: time | None) -> str:
    return f"{start.strftime('%H:%M') if start else '00:00'}-{end.strftime('%H:%M') if end else '24:00'}"


# --- scheduling --------------------------------------------------------------


def next_allowed_at(facts: CallFacts, rules: RuleSet) -> datetime | None:
    """The earliest instant >= facts.at at which the time-dependent checks
    (calling hours, restricted days and holidays, the campaign's dates) pass
    for every candidate, other facts unchanged; None when a permanent reason
    blocks, the campaign is not active or is over, or nothing opens within 8
    days. The other temporary reasons (frequency_cap, dnc_data_stale) pass
    with time the caller measures, so they are not waited for here."""
    decision = decide(facts, rules)
    reasons = set(decision.reasons)
    if reasons & PERMANENT_REASONS:
        return None
    context = facts.context
    if context.campaign_status != "active":
        return None
    if not reasons & TIME_REASONS:
        return facts.at
    if context.campaign_ends_at is not None and facts.at >= context.campaign_ends_at:
        return None
    for instant in _openings(facts, rules):
        if not set(decide(dataclasses.replace(facts, at=instant), rules).reasons) & TIME_REASONS:
            return instant
    return None


def _openings(facts: CallFacts, rules: RuleSet) -> list[datetime]:
    """Every instant within the horizon at which some window may open: each
    window start of a federal or candidate-state rule, the campaign window's
    start and local midnight, in every candidate zone; and the campaign's
    start. The earliest allowed instant is always one of these."""
    at = facts.at
    horizon = at + NEXT_ALLOWED_HORIZON
    starts = {_MIDNIGHT}
    if facts.context.window_start is not None:
        starts.add(facts.context.window_start)
    for rule in rules.rules:
        if rule.jurisdiction == FEDERAL or rule.jurisdiction in facts.candidate_states:
            starts.update(window[0] for window in rule.windows if window is not None)
    instants = set()
    if facts.context.campaign_starts_at is not None and at < facts.context.campaign_starts_at <= horizon:
        instants.add(facts.context.campaign_starts_at)
    for name in facts.candidate_zones:
        zone = _zone(name)
        if zone is None:
            continue
        first_day = at.astimezone(zone).date()
        for offset in range(NEXT_ALLOWED_HORIZON.days + 1):
            day = first_day + timedelta(days=offset)
            for start in starts:
                instant = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
                if at < instant <= horizon:
                    instants.add(instant)
    return sorted(instants)
