"""The Reassigned Numbers Database and litigator lists in `decide` (issue 18,
DESIGN.md "Reassigned numbers (FCC RND)", REGULATIONS.md): a "yes" voids the
consent it concerns; a fresh "no" is the safe harbor; without one the
company's RND policy decides for consent-based automated calls; a marketing
call to Maine needs a fresh "no" (EBR calls exempt); a litigator listing
under the campaign's policy. Pure: no database."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from compliance.policy import RegistryFact, decide
from compliance.rnd.answers import RndAnswer
from tests.compliance.policy_factories import call_facts, consent, context, eastern, fresh_registry, rules

AT = eastern(2025, 3, 12, 12, 0)  # a Wednesday, noon in New York and Portland, Maine
GRANTED = datetime(2025, 1, 10, 23, 30, tzinfo=UTC)  # the consent's UTC date: 2025-01-10
PORTLAND_ME = "+12075550123"  # area code 207: Maine
NEW_YORK = "+12125550123"
FRESH = timedelta(hours=720)  # the rule set's rnd_fresh_hours


CONSENT_DAY = GRANTED.date()


def answer(value: str, day: date = CONSENT_DAY, *, ago: timedelta = timedelta(days=1), query_id: int = 5):
    return RndAnswer(
        query_id=query_id,
        number=NEW_YORK,
        date_sent=day,
        date_kind="consent",
        answer=value,
        queried_at=AT - ago,
        provider="recorded",
        rnd_update="2025-03-01",
        consent_id=1,
    )


def facts(*, number: str = NEW_YORK, rnd=(), policy: str | None = "flag", **overrides):
    """An autodialed marketing call relying on written consent granted on GRANTED."""
    overrides.setdefault("consents", (consent(granted_at=GRANTED),))
    base = call_facts(number=number, at=AT, **overrides)
    return replace(base, rnd=tuple(rnd), rnd_policy=policy)


def test_a_yes_for_the_consents_date_voids_it_and_the_evidence_cites_it():
    decision = decide(facts(rnd=[answer("yes", query_id=31)]), rules())
    assert "reassigned_number" in decision.reasons
    assert decision.evidence["consent"]["ids"] == []
    rnd = decision.evidence["rnd"]
    assert (rnd["query_id"], rnd["answer"], rnd["date_sent"], rnd["consent_id"]) == (
        31,
        "yes",
        "2025-01-10",
        1,
    )
    assert rnd["blocks"] == "reassigned_number" and rnd["safe_harbor"] is False


def test_a_yes_for_a_later_date_voids_it_and_one_for_an_earlier_date_does_not():
    assert "reassigned_number" in decide(facts(rnd=[answer("yes", date(2025, 2, 1))]), rules()).reasons
    earlier = decide(facts(rnd=[answer("yes", date(2025, 1, 9))]), rules())
    assert "reassigned_number" not in earlier.reasons
    assert earlier.evidence["consent"]["ids"] == [1]


def test_a_fresh_no_for_the_consents_date_is_the_safe_harbor_cited_in_the_evidence():
    decision = decide(facts(rnd=[answer("no", query_id=77)]), rules())
    assert decision.allowed, decision.reasons
    rnd = decision.evidence["rnd"]
    assert rnd["needed"] == "consent" and rnd["date_sent"] == "2025-01-10" and rnd["date_kind"] == "consent"
    assert (rnd["query_id"], rnd["answer"], rnd["provider"]) == (77, "no", "recorded")
    assert rnd["fresh"] and rnd["safe_harbor"] and rnd["blocks"] is None and rnd["fresh_hours"] == 720


@pytest.mark.parametrize(
    ("ago", "fresh"),
    [(FRESH - timedelta(seconds=1), True), (FRESH, False), (FRESH + timedelta(days=1), False)],
    ids=["a second before 30 days", "exactly 30 days", "older"],
)
def test_a_no_is_fresh_for_30_times_24_hours_then_the_policy_decides(ago, fresh):
    flag = decide(facts(rnd=[answer("no", ago=ago)]), rules())
    assert flag.allowed and flag.evidence["rnd"]["fresh"] is fresh
    assert flag.evidence["rnd"]["safe_harbor"] is fresh
    block = decide(facts(rnd=[answer("no", ago=ago)], policy="block"), rules())
    assert block.allowed is fresh
    if not fresh:
        assert block.reasons == ("rnd_unverified",) and block.evidence["rnd"]["blocks"] == "rnd_unverified"


@pytest.mark.parametrize("rnd", [[], [answer("no_data")]], ids=["never asked", "no data"])
@pytest.mark.parametrize(
    ("policy", "blocked"), [("flag", False), ("block", True), (None, True)], ids=["flag", "block", "unknown"]
)
def test_without_a_fresh_no_the_company_policy_decides(rnd, policy, blocked):
    decision = decide(facts(rnd=rnd, policy=policy), rules())
    assert ("rnd_unverified" in decision.reasons) is blocked
    assert decision.evidence["rnd"]["safe_harbor"] is False
    assert decision.evidence["rnd"]["policy"] == (policy or "block")


def test_an_answer_asked_after_the_call_is_no_evidence_for_it():
    decision = decide(facts(rnd=[answer("no", ago=-timedelta(hours=1))], policy="block"), rules())
    assert decision.reasons == ("rnd_unverified",)


def test_manual_and_informational_manual_calls_need_no_rnd_answer():
    manual = facts(context=context(dialing_mode="manual"), policy="block")
    assert decide(manual, rules()).allowed and "rnd" not in decide(manual, rules()).evidence
    informational = facts(context=context(purpose="informational", dialing_mode="manual"), policy="block")
    assert decide(informational, rules()).allowed


def maine_cold_call(**overrides):
    """A manual marketing call to a Maine number without consent, the registries fresh and unlisted."""
    overrides.setdefault("context", context(dialing_mode="manual"))
    return facts(
        number=PORTLAND_ME,
        consents=(),
        customer_created_at=datetime(2024, 6, 1, 15, 0, tzinfo=UTC),
        **overrides,
    )


def test_maine_marketing_needs_a_fresh_no_whatever_the_company_policy():
    unasked = decide(maine_cold_call(), rules())
    assert unasked.reasons == ("rnd_unverified",)
    assert unasked.evidence["rnd"]["needed"] == "maine" and unasked.evidence["rnd"]["date_kind"] == "contact"
    assert unasked.evidence["rnd"]["date_sent"] == "2024-06-01"  # the record's creation, the latest contact
    asked = decide(maine_cold_call(rnd=[answer("no", date(2024, 6, 1))]), rules())
    assert asked.allowed, asked.reasons


def test_maine_asks_with_the_latest_contact_and_a_yes_for_it_is_a_reassigned_number():
    inquiry = datetime(2024, 11, 1, 16, 0, tzinfo=UTC)  # its EBR ended on 2025-02-01
    call = maine_cold_call(
        last_inquiry_at=inquiry, registry=fresh_registry(AT), rnd=[answer("yes", date(2024, 11, 1))]
    )
    decision = decide(call, rules())
    assert "reassigned_number" in decision.reasons
    assert decision.evidence["rnd"]["date_sent"] == "2024-11-01"


def test_maine_by_address_counts_too_and_an_ebr_call_is_exempt():
    by_address = facts(
        number=NEW_YORK,
        consents=(),
        address_state="ME",
        postal_code="04101",
        context=context(dialing_mode="manual"),
    )
    assert "ME" in by_address.candidate_states
    assert "rnd_unverified" in decide(by_address, rules()).reasons
    ebr = replace(by_address, last_purchase_at=AT - timedelta(days=30))
    decision = decide(ebr, rules())
    assert decision.allowed and decision.evidence["exemption"] == "ebr" and "rnd" not in decision.evidence


def test_maine_informational_calls_are_not_sales_calls():
    call = maine_cold_call(context=context(purpose="informational", dialing_mode="manual"))
    assert decide(call, rules()).allowed


def litigator(listed: bool | None, policy: str | None):
    registry = fresh_registry(AT)
    if listed is not None:
        registry = (
            *registry,
            RegistryFact(source="litigator", listed=listed, synced_at=AT - timedelta(days=3), sync_id=8),
        )
    return facts(rnd=[answer("no")], registry=registry, context=context(litigator_policy=policy))


@pytest.mark.parametrize(
    ("policy", "reasons", "flagged"),
    [
        ("block", ("litigator_listed",), False),
        ("flag", (), True),
        ("ignore", (), False),
        (None, ("litigator_listed",), False),
    ],
)
def test_a_listed_number_under_each_litigator_policy(policy, reasons, flagged):
    decision = decide(litigator(True, policy), rules())
    assert decision.reasons == reasons
    evidence = decision.evidence["litigator"]
    assert evidence["listed"] is True and evidence["flagged"] is flagged and evidence["sync_id"] == 8


@pytest.mark.parametrize("listed", [False, None], ids=["not listed", "no litigator data"])
def test_missing_or_unlisted_litigator_data_never_blocks_and_is_cited(listed):
    decision = decide(litigator(listed, "block"), rules())
    assert decision.allowed
    assert decision.evidence["litigator"]["listed"] is listed


def test_a_maine_call_with_consent_and_an_ebr_is_an_ebr_call():
    """Maine exempts a call to a person with an established business
    relationship, written consent or not: revoking the consent can never
    turn a Maine block into an allow (a hypothesis property found it)."""
    with_both = facts(
        number=PORTLAND_ME,
        context=context(dialing_mode="manual"),
        last_purchase_at=AT - timedelta(days=30),
        policy="block",
    )
    decision = decide(with_both, rules())
    assert decision.allowed, decision.reasons
    assert "rnd" not in decision.evidence
