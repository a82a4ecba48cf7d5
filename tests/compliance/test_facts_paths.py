"""The facts of a number are read in one round trip on PostgreSQL and in seven
queries elsewhere (the SQLite demo), and for many numbers in a fixed number
of set-based queries per chunk: every path must read the same facts,
attempt counts included. Tests marked `sqlite` also run on SQLite in CI."""

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import CallAttempt, CampaignTarget
from campaigns.selectors import campaign_call_context
from compliance.facts import _Number, _stored_facts, _stored_facts_orm, facts_gather, facts_gather_many
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.ruleset import ruleset_current
from compliance.services import decision_make
from consent.services import consent_revoke, suppression_add
from core import call_history
from tests.factories import (
    CampaignFactory,
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 17, 15, 0, 0, 123456, tzinfo=dt.UTC)


@pytest.fixture
def numbers(tmp_path):
    """A number with everything: consents of each kind (one expiring, one
    revoked), a DNC request, reassignment, national and Texas listings; one
    customer's number with nothing; one erased person's suppressed number;
    one number nobody has."""
    rich = CustomerFactory(
        state="TX", postal_code="78701", last_purchase_at=T0 - dt.timedelta(days=90), last_inquiry_at=T0
    )
    phone = PhoneNumberFactory(customer=rich, number="+15125550101", reassigned_at=T0 - dt.timedelta(days=1))
    ConsentGrantFactory(phone_number=phone, written=True, granted_at=T0 - dt.timedelta(days=10))
    ConsentGrantFactory(
        phone_number=phone,
        purpose="informational",
        written=False,
        granted_at=T0 - dt.timedelta(days=5),
        expires_at=T0 + dt.timedelta(days=30),
    )
    consent_revoke(number="+15125550101", via="sms", by=None, at=T0)
    ConsentGrantFactory(phone_number=phone, written=False, granted_at=T0 + dt.timedelta(seconds=1))
    PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360101")
    suppression_add(e164="+13055550101", source="erasure", reason="test")
    national, texas = registry_source_ensure(key="national"), registry_source_ensure(key="state:TX")
    (tmp_path / "n.txt").write_text("5125550101\n3055550101\n")
    (tmp_path / "tx.txt").write_text("5125550101\n")
    registry_file_import(source=national, paths=[tmp_path / "n.txt"])
    registry_file_import(source=texas, paths=[tmp_path / "tx.txt"])
    _calls(phone, T0)
    return ["+15125550101", "+12127360101", "+13055550101", "+14155550199"]


SUBJECT = "spring sale"


def _calls(phone, at):
    """Calls to the number: in this campaign (2 in the window, 1 older than 24 h,
    1 exactly 24 h ago: out), in another campaign on the same subject (1), on
    another subject (1); one handed after the instant (not counted)."""
    agent = UserFactory(username="facts.agent")
    this = CampaignFactory(name="this", subject=SUBJECT)
    same = CampaignFactory(name="same subject", subject=SUBJECT)
    other = CampaignFactory(name="other subject", subject="loyalty")
    record = decision_make(
        number=str(phone.number),
        context=campaign_call_context(campaign=this),
        at=at,
        kind="check",
        actor=None,
    ).record
    for campaign, before in [
        (this, dt.timedelta(minutes=1)),
        (this, dt.timedelta(hours=23, minutes=59)),
        (this, dt.timedelta(hours=24)),
        (this, dt.timedelta(hours=30)),
        (same, dt.timedelta(hours=2)),
        (other, dt.timedelta(hours=3)),
        (this, -dt.timedelta(minutes=1)),
    ]:
        CallAttempt.objects.create(
            target=CampaignTarget.objects.get_or_create(
                campaign=campaign, phone_number=phone, defaults={"next_attempt_at": at}
            )[0],
            campaign=campaign,
            phone_number=phone,
            subject=campaign.subject,
            agent=agent,
            decision=record,
            caller_id="+12125550100",
            handed_at=at - before,
        )


def _context(*, marketing: bool):
    from campaigns.models import Campaign

    campaign = Campaign.objects.get(name="this")
    return dataclasses.replace(
        campaign_call_context(campaign=campaign), purpose="marketing" if marketing else "informational"
    )


@pytest.mark.parametrize("marketing", [True, False])
def test_one_round_trip_reads_what_the_orm_path_reads(numbers, marketing):
    context = _context(marketing=marketing)
    for e164 in numbers:
        one = _stored_facts(e164, context=context, at=T0)  # on PostgreSQL: one statement
        orm = _stored_facts_orm(_Number.of(e164), context=context, at=T0)
        assert one == orm, e164
    rich = _stored_facts("+15125550101", context=_context(marketing=True), at=T0)
    assert len(rich.consents) == 3 and sum(1 for c in rich.consents if c.revoked_at) == 2
    assert rich.listed_in == {"national", "state:TX"} and set(rich.freshness) == {"national", "state:TX"}
    assert rich.dnc_requested_at == T0 and rich.customer.state == "TX"
    assert (rich.attempts.same_subject, rich.attempts.campaign) == (3, 2)
    assert _stored_facts("+13055550101", context=context, at=T0).suppressed


@pytest.mark.sqlite
@pytest.mark.parametrize("marketing", [True, False])
def test_facts_count_attempts_in_the_24_hours_before_the_instant(numbers, marketing):
    """Same subject across campaigns, and this campaign; the instant itself
    included, exactly 24 h before and anything after it excluded."""
    facts = facts_gather(
        number="+15125550101", context=_context(marketing=marketing), at=T0, rules=ruleset_current()
    )
    assert (facts.attempts_24h_same_subject, facts.attempts_24h_campaign) == (3, 2)
    # A minute later the call handed 23:59 before T0 is exactly 24 h old (out)
    # and the one handed at that minute is in (the instant itself counts).
    later = facts_gather(
        number="+15125550101",
        context=_context(marketing=marketing),
        at=T0 + dt.timedelta(minutes=1),
        rules=ruleset_current(),
    )
    assert (later.attempts_24h_same_subject, later.attempts_24h_campaign) == (3, 2)
    assert (
        later.attempts_24h_campaign
        == CallAttempt.objects.filter(
            campaign__name="this",
            handed_at__gt=T0 - dt.timedelta(hours=23, minutes=59),
            handed_at__lte=T0 + dt.timedelta(minutes=1),
        ).count()
    )


@pytest.mark.sqlite
@pytest.mark.parametrize("marketing", [True, False])
def test_the_bulk_path_gathers_what_facts_gather_gathers(numbers, marketing):
    context, rules = _context(marketing=marketing), ruleset_current()
    given = [*numbers, "not a number", "+1 555 123 4567", numbers[0]]  # unparseable, invalid, repeated
    chunks = list(facts_gather_many(numbers=given, context=context, at=T0, rules=rules, chunk_size=3))
    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    gathered = [pair for chunk in chunks for pair in chunk]
    assert [number for number, _facts in gathered] == given
    for number, facts in gathered:
        assert facts == facts_gather(number=number, context=context, at=T0, rules=rules), number


@pytest.mark.sqlite
def test_the_bulk_path_takes_a_fixed_number_of_queries_per_chunk(numbers):
    context, rules = _context(marketing=True), ruleset_current()
    many = [f"+1512555{i:04d}" for i in range(200)] + numbers
    for chunk_size in (10, len(many)):
        with CaptureQueriesContext(connection) as queries:
            chunks = list(
                facts_gather_many(numbers=many, context=context, at=T0, rules=rules, chunk_size=chunk_size)
            )
        assert len(queries) <= 9 * len(chunks), [q["sql"][:80] for q in queries]


@pytest.mark.sqlite
def test_without_a_call_history_provider_no_facts_are_gathered(numbers, monkeypatch):
    """Fail closed: no provider is an error, never zero attempts."""
    monkeypatch.setattr(call_history, "_provider", None)
    for gather in (
        lambda: facts_gather(
            number="+15125550101", context=_context(marketing=True), at=T0, rules=ruleset_current()
        ),
        lambda: list(
            facts_gather_many(
                numbers=["+15125550101"], context=_context(marketing=True), at=T0, rules=ruleset_current()
            )
        ),
    ):
        with pytest.raises(call_history.CallHistoryMissing):
            gather()
