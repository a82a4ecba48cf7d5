"""Abandoned calls (47 CFR 64.1200(a)(7)): at most 3% of the calls answered
by a live person, per campaign over 30 days; an autodialed or prerecorded
campaign over it is paused at once and managers see why."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.abandonment import campaign_abandonment_check, campaign_abandonment_rate
from campaigns.models import CallAttempt, Campaign, CampaignTarget
from campaigns.scrub import scrub_context
from compliance.services import decision_make
from tests.campaigns.conftest import ny_phone
from tests.factories import CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db


def calls(campaign, outcomes: dict[str, int], *, now, days_ago: float = 1):
    """Attempts with these outcomes, `days_ago` before `now`."""
    agent = UserFactory(username="dialer.agent")
    phone = ny_phone(CallAttempt.objects.count() + 1)
    target = CampaignTarget.objects.create(campaign=campaign, phone_number=phone, next_attempt_at=now)
    handed_at = now - dt.timedelta(days=days_ago)
    record = decision_make(
        number=str(phone.number),
        context=scrub_context(campaign),
        at=handed_at,
        kind="check",
        actor=None,
    ).record
    CallAttempt.objects.bulk_create(
        CallAttempt(
            target=target,
            campaign=campaign,
            phone_number=phone,
            subject=campaign.subject,
            agent=agent,
            decision=record,
            caller_id=campaign.caller_id,
            handed_at=handed_at,
            ended_at=handed_at,
            outcome=outcome,
        )
        for outcome, n in outcomes.items()
        for _ in range(n)
    )


def test_the_rate_is_abandoned_calls_over_calls_a_person_answered_in_30_days():
    now = timezone.now()
    campaign = CampaignFactory(dialing_mode="autodialed")
    calls(
        campaign,
        {
            "connected": 90,
            "abandoned": 4,
            "callback": 3,
            "do_not_call": 2,
            "wrong_number": 1,
            # nobody (or a machine) answered: in neither count
            "no_answer": 50,
            "busy": 20,
            "voicemail": 30,
        },
        now=now,
    )
    calls(campaign, {"abandoned": 10}, now=now, days_ago=31)  # an older period
    calls(CampaignFactory(dialing_mode="autodialed"), {"abandoned": 10}, now=now)  # another campaign

    rate = campaign_abandonment_rate(campaign=campaign, now=now)

    assert (rate.abandoned, rate.live_answered) == (4, 100)
    assert rate.percent == Decimal("4.00") and rate.over_limit
    assert str(rate).startswith("4.00% (4 abandoned of 100 answered by a person")


def test_an_autodialed_campaign_over_3_percent_is_paused_with_the_figure_and_history():
    now = timezone.now()
    campaign = CampaignFactory(dialing_mode="autodialed", status="active")
    calls(campaign, {"connected": 96, "abandoned": 4}, now=now)

    campaign_abandonment_check(campaign, now)

    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert "4.00%" in campaign.paused_reason and "64.1200(a)(7)" in campaign.paused_reason
    latest = campaign.history.first()
    assert latest.status == "paused" and latest.history_change_reason == "abandoned-call rate over 3%"


def test_exactly_3_percent_is_within_the_limit():
    now = timezone.now()
    campaign = CampaignFactory(dialing_mode="prerecorded", status="active")
    calls(campaign, {"connected": 97, "abandoned": 3}, now=now)
    rate = campaign_abandonment_check(campaign, now)
    campaign.refresh_from_db()
    assert rate.percent == Decimal("3.00") and campaign.status == "active"


def test_a_manual_campaign_is_never_paused_for_abandonment():
    now = timezone.now()
    campaign = CampaignFactory(dialing_mode="manual", status="active")
    calls(campaign, {"connected": 1, "abandoned": 1}, now=now)
    campaign_abandonment_check(campaign, now)
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_a_second_check_does_not_pause_again_or_write_history():
    now = timezone.now()
    campaign = CampaignFactory(dialing_mode="autodialed", status="active")
    calls(campaign, {"connected": 10, "abandoned": 1}, now=now)
    campaign_abandonment_check(campaign, now)
    versions = campaign.history.count()
    campaign_abandonment_check(Campaign.objects.get(pk=campaign.pk), now)
    assert campaign.history.count() == versions


def test_managers_see_the_figure_and_why_a_campaign_was_paused(client, manager):
    now = timezone.now()
    campaign = CampaignFactory(name="Spring offers", dialing_mode="autodialed", status="active")
    calls(campaign, {"connected": 19, "abandoned": 1}, now=now)
    campaign_abandonment_check(campaign, now)
    client.force_login(manager)

    listing = client.get("/admin/campaigns/campaign/").content.decode()
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()

    assert "Paused automatically: abandoned-call rate 5.00%" in listing
    assert 'id="paused-reason"' in page and "Paused automatically: abandoned-call rate 5.00%" in page
    assert "5.00% (1 abandoned of 20 answered by a person" in page


def test_the_dialer_pauses_the_campaign_when_an_abandoned_call_tips_it_over():
    from campaigns import dialer

    now = timezone.now()
    campaign = CampaignFactory(dialing_mode="autodialed", status="active")
    calls(campaign, {"connected": 96, "abandoned": 3}, now=now)
    open_attempt = CallAttempt.objects.filter(campaign=campaign).first()
    CallAttempt.objects.filter(pk=open_attempt.pk).update(outcome="", ended_at=None)
    CampaignTarget.objects.filter(pk=open_attempt.target_id).update(
        status="leased", lease_agent=open_attempt.agent, lease_until=now + dt.timedelta(minutes=5)
    )
    open_attempt.refresh_from_db()

    dialer.attempt_dispose(attempt=open_attempt, agent=open_attempt.agent, outcome="abandoned")

    campaign.refresh_from_db()
    assert campaign.status == "paused" and "4." in campaign.paused_reason
