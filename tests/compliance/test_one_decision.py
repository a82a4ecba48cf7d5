"""One decision from one set of facts: the hand-off, the check API,
`decide(facts_gather(...))` and the bulk path (`facts_gather_many`) decide a
number alike, attempt counts included (issue 14, item 1)."""

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.selectors import campaign_call_context
from compliance.decision_log import to_jsonable
from compliance.facts import facts_gather, facts_gather_many
from compliance.models import DecisionRecord
from compliance.policy import decide
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.ruleset import ruleset_current
from compliance.services import decision_make
from consent.services import consent_revoke
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

# Tuesday 2026-11-17 16:00 UTC: 11:00 in Miami and New York.
TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def trained_agent(agent):
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=30))
    return agent


@pytest.fixture
def api(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


def check(api, number, campaign, at):
    response = api.post(
        "/api/v1/compliance/check/",
        {"phone_number": number, "campaign": campaign.pk, "at": at.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


def queue(campaign, phone, at):
    return CampaignTarget.objects.create(campaign=campaign, phone_number=phone, next_attempt_at=at)


def test_the_check_api_counts_florida_calls_on_one_subject_across_campaigns(api, trained_agent):
    """Fla. Stat. 501.616(6): 3 calls per 24 h on one subject. Three campaigns
    called through the dialer; the check API blocks the fourth campaign."""
    phone = PhoneNumberFactory(
        customer=CustomerFactory(state="FL", postal_code="33101"), number="+13057360001"
    )
    ConsentGrantFactory(phone_number=phone, purpose="marketing", written=True)
    campaigns = [
        CampaignFactory(purpose="marketing", dialing_mode="manual", subject="spring sale") for _ in range(4)
    ]
    moment = TUESDAY_MORNING
    for campaign in campaigns:
        queue(campaign, phone, moment)
    assert check(api, "+13057360001", campaigns[3], moment)["allowed"] is True
    for campaign in campaigns[:3]:
        handoff = dialer.dialer_next(campaign=campaign, agent=trained_agent, now=moment)
        assert handoff is not None, campaign
        dialer.attempt_dispose(attempt=handoff.attempt, agent=trained_agent, outcome="no_answer")
        moment += dt.timedelta(minutes=5)
    body = check(api, "+13057360001", campaigns[3], moment)
    assert body["allowed"] is False and body["reasons"] == ["frequency_cap"]
    # 24 h after the first call it falls out of the window.
    later = check(api, "+13057360001", campaigns[3], TUESDAY_MORNING + dt.timedelta(hours=24, minutes=1))
    assert later["allowed"] is True, later


def test_the_check_api_counts_the_campaigns_own_daily_cap(api, trained_agent):
    phone = PhoneNumberFactory(
        customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360001"
    )
    campaign = CampaignFactory(purpose="informational", dialing_mode="manual", max_attempts_per_day=1)
    queue(campaign, phone, TUESDAY_MORNING)
    assert check(api, "+12127360001", campaign, TUESDAY_MORNING)["allowed"] is True
    handoff = dialer.dialer_next(campaign=campaign, agent=trained_agent, now=TUESDAY_MORNING)
    assert handoff is not None
    body = check(api, "+12127360001", campaign, TUESDAY_MORNING + dt.timedelta(minutes=5))
    assert body["allowed"] is False and body["reasons"] == ["frequency_cap"]
    assert body["evidence"]["caps"][-1]["attempts"] == 1, body["evidence"]


# --- every caller decides alike ------------------------------------------------

AREAS = {"305": ("FL", "33101"), "212": ("NY", "10001"), "410": ("MD", "21201")}


class _Rollback(Exception):
    """Ends an example: everything it wrote is rolled back."""


@st.composite
def worlds(draw):
    area = draw(st.sampled_from(sorted(AREAS)))
    return {
        "area": area,
        "customer": draw(st.sampled_from([None, "same", *sorted(set(AREAS) - {area})])),
        "consent": draw(st.sampled_from(["none", "written", "written", "express", "revoked"])),
        "dnc": draw(st.sampled_from([False, False, False, True])),
        "registry": draw(st.sampled_from(["never synced", "unlisted", "listed"])),  # the national registry
        "purchased_days_ago": draw(st.sampled_from([None, 30, 600])),  # EBR: 18 months after a purchase
        "purpose": draw(st.sampled_from(["marketing", "informational"])),
        "mode": draw(st.sampled_from(["manual", "autodialed"])),
        "cap": draw(st.sampled_from([None, None, 1, 2, 3])),
        "other_subject": draw(st.booleans()),  # the third campaign calls on another subject
        "hour": draw(st.one_of(st.integers(14, 22), st.integers(0, 23))),  # mostly daytime in the US
        "minute": draw(st.integers(0, 59)),
        "history": draw(
            st.lists(st.tuples(st.integers(0, 2), st.integers(0, 30 * 60)), max_size=4)
        ),  # (campaign, minutes before the instant)
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds())
def test_hand_off_check_api_facts_gather_and_the_bulk_path_decide_alike(world, api, trained_agent):
    """Compared: reasons, evidence and the facts themselves. Normalised only
    what legitimately differs: the decision ids and kinds (not compared), and
    the logged facts' `e164`, which the log keeps once in `phone_number`."""
    try:
        with transaction.atomic():
            _decide_alike(world, api, trained_agent)
            raise _Rollback
    except _Rollback:
        pass


def _decide_alike(world, api, agent):
    at = TUESDAY_MORNING.replace(hour=world["hour"], minute=world["minute"])
    number = f"+1{world['area']}7360042"
    customer_area = world["customer"]
    if customer_area is None:  # a number whose customer tells nothing of where they live
        customer = CustomerFactory(state="", postal_code="")
    else:
        state, postal_code = AREAS[world["area"] if customer_area == "same" else customer_area]
        customer = CustomerFactory(state=state, postal_code=postal_code)
    if world["purchased_days_ago"] is not None:
        customer.last_purchase_at = at - dt.timedelta(days=world["purchased_days_ago"])
        customer.save(update_fields=["last_purchase_at"])
    phone = PhoneNumberFactory(customer=customer, number=number)
    if world["consent"] != "none":
        ConsentGrantFactory(
            phone_number=phone,
            purpose="informational" if world["consent"] == "express" else "marketing",
            written=world["consent"] != "express",
            granted_at=at - dt.timedelta(days=40),
        )
    if world["consent"] == "revoked" or world["dnc"]:
        consent_revoke(number=number, via="api", by=None, at=at - dt.timedelta(days=2))
    if world["registry"] != "never synced":
        listed = number if world["registry"] == "listed" else f"+1{world['area']}7360043"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "national.txt"
            path.write_text(listed.removeprefix("+1") + "\n")
            registry_file_import(source=registry_source_ensure(key="national"), paths=[path])
    subject = "spring sale"
    campaigns = [
        CampaignFactory(
            purpose=world["purpose"],
            dialing_mode=world["mode"],
            subject=subject,
            max_attempts_per_day=world["cap"],
        ),
        CampaignFactory(purpose="marketing", dialing_mode="manual", subject=subject),
        CampaignFactory(
            purpose="marketing",
            dialing_mode="manual",
            subject="loyalty" if world["other_subject"] else subject,
        ),
    ]
    targets = [queue(campaign, phone, at) for campaign in campaigns]
    if world["history"]:
        record = decision_make(
            number=number,
            context=campaign_call_context(campaign=campaigns[0]),
            at=at,
            kind="check",
            actor=None,
        ).record
        for index, minutes in world["history"]:
            CallAttempt.objects.create(
                target=targets[index],
                campaign=campaigns[index],
                phone_number=phone,
                subject=campaigns[index].subject,
                agent=agent,
                decision=record,
                caller_id="+12125550100",
                handed_at=at - dt.timedelta(minutes=minutes),
                # Past calls, ended: an open one would keep the number off every other screen.
                ended_at=at - dt.timedelta(minutes=minutes) + dt.timedelta(seconds=20),
                outcome=CallAttempt.Outcome.NO_ANSWER,
            )
    campaign = campaigns[0]
    context = campaign_call_context(campaign=campaign)
    rules = ruleset_current()

    facts = facts_gather(number=number, context=context, at=at, rules=rules)
    decision = decide(facts, rules)
    event(" ".join(decision.reasons) or "allowed")  # --hypothesis-show-statistics shows the mix
    in_window = [(i, m) for i, m in world["history"] if m < 24 * 60]
    assert facts.attempts_24h_campaign == sum(1 for i, _m in in_window if i == 0)
    assert facts.attempts_24h_same_subject == sum(1 for i, _m in in_window if campaigns[i].subject == subject)

    [[(given, bulk_facts)]] = list(facts_gather_many(numbers=[number], context=context, at=at, rules=rules))
    assert given == number and bulk_facts == facts
    bulk = decide(bulk_facts, rules)

    checked = check(api, number, campaign, at)

    handoff = dialer.dialer_next(campaign=campaign, agent=agent, now=at)
    logged = DecisionRecord.objects.filter(kind=DecisionRecord.Kind.HANDOFF).latest("id")
    assert (handoff is not None) == logged.allowed

    evidence = to_jsonable(decision.evidence)
    assert (bulk.reasons, to_jsonable(bulk.evidence)) == (decision.reasons, evidence)
    assert (checked["allowed"], checked["reasons"], checked["evidence"]) == (
        decision.allowed,
        list(decision.reasons),
        evidence,
    )
    assert (logged.allowed, logged.reasons, logged.evidence) == (
        decision.allowed,
        list(decision.reasons),
        evidence,
    )
    assert logged.facts == {**to_jsonable(facts), "e164": None}
