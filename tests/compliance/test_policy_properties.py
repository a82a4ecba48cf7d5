"""Properties of `decide` over generated facts (hypothesis). Pure."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings
from hypothesis import strategies as st

from compliance.jurisdictions import candidate_states, candidate_zones, number_parse
from compliance.policy import (
    PERMANENT_REASONS,
    REASON_CODES,
    TEMPORARY_REASONS,
    TIME_REASONS,
    CallContext,
    CallFacts,
    ConsentFact,
    RegistryFact,
    decide,
    decision_key,
    next_allowed_at,
)
from compliance.rnd.answers import RndAnswer, date_sent_for
from tests.compliance.policy_factories import rules

NUMBERS = [
    "+13055550123",  # FL
    "+12085550123",  # ID, two zones
    "+14015550123",  # RI
    "+18605550123",  # CT
    "+18015550123",  # UT
    "+16015550123",  # MS
    "+12055550123",  # AL
    "+12155550123",  # PA
    "+12145550123",  # TX
    "+12065550123",  # WA
    "+14055550123",  # OK
    "+14105550123",  # MD
    "+12125550123",  # NY
    "+15045550123",  # LA
    "+19075550123",  # AK, two zones
    "+12075550123",  # ME: the RND check before marketing calls
    "+18005550123",  # toll-free
    "+1555",  # invalid
]
ADDRESSES = [
    (None, None),
    ("TX", "75201"),
    ("FL", "33101"),
    ("RI", "02903"),
    ("CA", "94105"),
    ("UT", "84101"),
    ("ME", "04101"),
]
OWN_LISTS = ("LA", "PA", "TX")

settings.register_profile("policy", max_examples=150, deadline=None)
settings.load_profile("policy")

instants = st.datetimes(
    min_value=datetime(2019, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
maybe_before = st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800)))


def usually(value, otherwise):
    """`value` three times in four: most generated calls are near-allowable, so
    that properties about allowed calls are exercised, not only blocked ones."""
    return st.one_of(st.just(value), st.just(value), st.just(value), otherwise)


@st.composite
def call_facts(draw) -> CallFacts:
    at = draw(instants)
    # Mostly in the US daytime (13:00-02:00 UTC), sometimes any time.
    if draw(st.booleans()):
        at = at.replace(hour=draw(st.sampled_from([13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1])))

    def before(delta):
        return None if delta is None else at - delta

    number = draw(st.sampled_from(NUMBERS))
    state, postal_code = draw(st.sampled_from(ADDRESSES))
    e164, valid = number_parse(number)
    zones = candidate_zones(e164=e164, postal_code=postal_code)
    states = candidate_states(e164=e164, state=state, postal_code=postal_code)
    good_consent = ConsentFact(
        id=1,
        purpose="marketing",
        channel="voice",
        written=True,
        granted_at=at - timedelta(days=30),
        expires_at=None,
        revoked_at=None,
    )
    consents = draw(
        st.lists(
            usually(
                good_consent,
                st.builds(
                    ConsentFact,
                    id=st.integers(2, 99),
                    purpose=st.sampled_from(["marketing", "informational"]),
                    channel=st.sampled_from(["voice", "voice", "sms"]),
                    written=st.booleans(),
                    granted_at=st.timedeltas(min_value=timedelta(days=-5), max_value=timedelta(days=900)).map(
                        lambda delta: at - delta
                    ),
                    expires_at=st.one_of(st.none(), instants),
                    revoked_at=st.one_of(st.none(), instants),
                ),
            ),
            max_size=3,
        )
    )
    sources = ["national", *(f"state:{s}" for s in states if s in OWN_LISTS), "litigator"]
    registry = tuple(
        RegistryFact(
            source=source,
            listed=draw(usually(False, st.just(True))),
            synced_at=before(
                draw(
                    usually(
                        timedelta(days=1),
                        st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=100))),
                    )
                )
            ),
            sync_id=draw(st.one_of(st.none(), st.integers(1, 9999))),
        )
        for source in sources
        if draw(st.integers(0, 9))  # sometimes a source has no data at all
    )
    window = draw(usually(None, st.tuples(st.integers(0, 12), st.integers(13, 23))))
    context = CallContext(
        purpose=draw(st.sampled_from(["marketing", "informational"])),
        dialing_mode=draw(st.sampled_from(["manual", "autodialed", "prerecorded"])),
        subject=draw(st.sampled_from(["sale", "delivery"])),
        channel=draw(usually("voice", st.just("sms"))),
        campaign_id=7,
        campaign_status=draw(usually("active", st.sampled_from(["paused", "draft", "finished"]))),
        campaign_starts_at=before(draw(usually(None, st.timedeltas(timedelta(days=-3), timedelta(days=60))))),
        campaign_ends_at=before(draw(usually(None, st.timedeltas(timedelta(days=-60), timedelta(days=1))))),
        window_start=time(window[0]) if window else None,
        window_end=time(window[1]) if window else None,
        max_attempts_per_day=draw(st.one_of(st.none(), st.integers(1, 5))),
        litigator_policy=draw(st.sampled_from(["block", "flag", "ignore", None])),
    )
    requested = before(draw(usually(None, maybe_before)))
    return CallFacts(
        at=at,
        e164=e164,
        number_valid=valid,
        candidate_zones=zones,
        candidate_states=states,
        customer_id=draw(st.one_of(st.none(), st.integers(1, 10))),
        customer_erased=draw(usually(False, st.booleans())),
        consents=tuple(consents),
        internal_dnc=requested is not None and draw(st.booleans()),
        dnc_requested_at=requested,
        registry=registry,
        last_purchase_at=before(draw(maybe_before)),
        last_inquiry_at=before(draw(maybe_before)),
        reassigned_at=before(draw(usually(None, maybe_before))),
        attempts_24h_same_subject=draw(usually(0, st.integers(0, 5))),
        attempts_24h_campaign=draw(usually(0, st.integers(0, 5))),
        context=context,
        rnd=tuple(
            {
                answer.date_sent: answer for answer in draw(st.lists(rnd_answers(at, consents), max_size=3))
            }.values()
        ),
        rnd_policy=draw(st.sampled_from(["flag", "block", None])),
        customer_created_at=before(draw(maybe_before)),
    )


def rnd_answers(at, consents):
    """RND answers for the consents' dates (or others), some fresh, some stale."""
    days = [date_sent_for(consent.granted_at) for consent in consents] or [at.date()]
    return st.builds(
        RndAnswer,
        query_id=st.integers(1, 999),
        number=st.just("+12075550123"),
        date_sent=st.one_of(st.sampled_from(days), st.dates(date(2020, 1, 1), date(2027, 12, 31))),
        date_kind=st.just("consent"),
        answer=st.sampled_from(["yes", "no", "no", "no_data"]),
        queried_at=st.timedeltas(timedelta(0), timedelta(days=60)).map(lambda delta: at - delta),
        provider=st.just("recorded"),
        rnd_update=st.just(""),
        consent_id=st.none(),
    )


def test_the_reason_codes_split_into_permanent_and_temporary():
    assert len(REASON_CODES) == 17
    assert set(REASON_CODES) == PERMANENT_REASONS | TEMPORARY_REASONS
    assert not PERMANENT_REASONS & TEMPORARY_REASONS
    assert TIME_REASONS <= TEMPORARY_REASONS


@given(call_facts())
def test_allowed_iff_no_reasons_and_reasons_are_canonical(facts):
    decision = decide(facts, rules())
    assert decision.allowed == (decision.reasons == ())
    assert set(decision.reasons) <= set(REASON_CODES)
    assert list(decision.reasons) == [code for code in REASON_CODES if code in decision.reasons]


@given(call_facts())
def test_decide_is_deterministic_and_its_evidence_is_json(facts):
    first, second = decide(facts, rules()), decide(facts, rules())
    assert first == second
    evidence = json.loads(json.dumps(first.evidence))
    assert evidence["ruleset_version"] == rules().version
    assert evidence["at"] == facts.at.isoformat()


@given(call_facts(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_adding_an_internal_dnc_entry_never_allows(facts, ago):
    requested = facts.at - ago
    if facts.dnc_requested_at is not None:
        requested = max(requested, facts.dnc_requested_at)
    before = decide(facts, rules())
    after = decide(replace(facts, internal_dnc=True, dnc_requested_at=requested), rules())
    assert not after.allowed
    assert "dnc_internal" in after.reasons
    assert before.allowed or not after.allowed


@given(call_facts(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
def test_revoking_every_consent_never_turns_a_block_into_an_allow(facts, ago):
    revoked_at = facts.at - ago

    def revoke(consent):
        if consent.revoked_at is not None and consent.revoked_at <= facts.at:
            return consent
        return replace(consent, revoked_at=revoked_at)

    before = decide(facts, rules())
    after = decide(replace(facts, consents=tuple(revoke(c) for c in facts.consents)), rules())
    if not before.allowed:
        assert not after.allowed


@given(call_facts(), st.integers(0, 11 * 3600 - 1), st.data())
def test_a_call_moved_past_21_local_is_never_allowed(facts, seconds_after_21, data):
    if not facts.candidate_zones:
        return
    zone = ZoneInfo(data.draw(st.sampled_from(facts.candidate_zones)))
    local_day = facts.at.astimezone(zone).date()
    later = datetime.combine(local_day, time(21, 0), tzinfo=zone) + timedelta(seconds=seconds_after_21)
    later = later.astimezone(UTC)
    if later < facts.at:
        later += timedelta(days=1)
    decision = decide(replace(facts, at=later), rules())
    assert not decision.allowed
    assert "outside_calling_hours" in decision.reasons


@given(call_facts())
def test_next_allowed_at_passes_the_time_checks(facts):
    found = next_allowed_at(facts, rules())
    decision = decide(facts, rules())
    if set(decision.reasons) & PERMANENT_REASONS:
        assert found is None
    if found is None:
        return
    assert facts.at <= found <= facts.at + timedelta(days=8)
    assert not set(decide(replace(facts, at=found), rules()).reasons) & TIME_REASONS
    if not set(decision.reasons) & TIME_REASONS:
        assert found == facts.at


small_shifts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))


@given(call_facts(), st.data())
def test_facts_with_one_decision_key_get_the_same_reasons(facts, data):
    # The bulk path (the pre-launch scrub) decides once per decision_key: two
    # facts with equal keys must get the same reasons and next opening. The
    # other facts differ where the key leaves things out (ids, the customer,
    # the number, sync ids) and in dates moved a little, so that they
    # sometimes cross a threshold (then the key must differ).
    def shifted(instant):
        return None if instant is None else instant - data.draw(small_shifts)

    other = replace(
        facts,
        customer_id=data.draw(st.one_of(st.none(), st.integers(1, 10))),
        consents=tuple(
            replace(
                consent,
                id=data.draw(st.integers(100, 999)),
                granted_at=shifted(consent.granted_at),
                expires_at=shifted(consent.expires_at),
                revoked_at=shifted(consent.revoked_at),
            )
            for consent in facts.consents
        ),
        dnc_requested_at=shifted(facts.dnc_requested_at),
        last_purchase_at=shifted(facts.last_purchase_at),
        last_inquiry_at=shifted(facts.last_inquiry_at),
        reassigned_at=shifted(facts.reassigned_at),
        registry=tuple(replace(fact, sync_id=data.draw(st.integers(1, 9999))) for fact in facts.registry),
    )
    same_key = decision_key(facts, rules()) == decision_key(other, rules())
    event(f"same key: {same_key}")
    if same_key:
        assert decide(other, rules()).reasons == decide(facts, rules()).reasons
        assert next_allowed_at(other, rules()) == next_allowed_at(facts, rules())


@given(call_facts(), st.sampled_from(["block", "flag", "ignore", None]))
def test_a_litigator_match_never_turns_a_block_into_an_allow(facts, policy):
    """Issue 18: a litigator listing only ever adds a block, whatever the
    campaign's policy; it never lifts another rule's."""
    listed = replace(
        facts,
        context=replace(facts.context, litigator_policy=policy),
        registry=(
            *(fact for fact in facts.registry if fact.source != "litigator"),
            RegistryFact(source="litigator", listed=True, synced_at=facts.at - timedelta(days=2), sync_id=9),
        ),
    )
    unlisted = replace(listed, registry=tuple(fact for fact in listed.registry if fact.source != "litigator"))
    with_match, without = decide(listed, rules()), decide(unlisted, rules())
    assert set(without.reasons) <= set(with_match.reasons)
    assert set(with_match.reasons) - set(without.reasons) <= {"litigator_listed"}
    if policy in ("block", None) and facts.number_valid:
        assert "litigator_listed" in with_match.reasons


@given(call_facts(), st.data())
def test_an_rnd_yes_never_turns_a_block_into_an_allow(facts, data):
    """A "yes" voids what it touches; it never allows what was blocked."""
    day = data.draw(st.dates(date(2019, 1, 1), date(2027, 12, 31)))
    yes = RndAnswer(
        query_id=1000,
        number="+12075550123",
        date_sent=day,
        date_kind="consent",
        answer="yes",
        queried_at=facts.at - timedelta(days=1),
        provider="recorded",
        rnd_update="",
        consent_id=None,
    )
    after = replace(facts, rnd=(*(answer for answer in facts.rnd if answer.date_sent != day), yes))
    if not decide(facts, rules()).allowed:
        assert not decide(after, rules()).allowed
