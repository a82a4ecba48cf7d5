"""What an agent reads on the call card when the number was called a minute
ago in another campaign, on another subject: the caps' counts say what they
count (this campaign's subject, in any campaign; this campaign), the recent
calls name each call's campaign and subject, so the two never read as
contradicting each other. The customer's name opens their page; no link on
the card leads an agent to a page their role may not open."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import Group

from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.services import targets_add
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Tuesday 2026-11-17 16:00 UTC: 11:00 in Maryland.
TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def shift():
    with time_machine.travel(TUESDAY_MORNING, tick=True):
        yield


def test_a_call_a_minute_ago_on_another_subject_reads_as_what_it_is(live_server, page, artifacts, shift):
    agent = UserFactory(username="dana.agent", password=PASSWORD, first_name="Dana")
    colleague = UserFactory(username="sam.agent", first_name="Sam")
    for person in (agent, colleague):
        person.groups.add(Group.objects.get(name=AGENTS))
        training_record(agent=person, by=None, at=TUESDAY_MORNING - dt.timedelta(days=10))
    orders = CampaignFactory(name="Order updates", subject="orders", max_attempts_per_day=2)
    renewals = CampaignFactory(name="Renewals", subject="renewals")
    customer = CustomerFactory(first_name="Ada", last_name="Byrd", state="MD", postal_code="21201")
    phone = PhoneNumberFactory(customer=customer, number="+14107360002")
    for campaign in (orders, renewals):
        targets_add(campaign=campaign, numbers=[str(phone.number)], by=None)
    CampaignTarget.objects.update(next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1))
    # A minute ago a colleague reached the same person about their renewal.
    earlier = dialer.dialer_next(
        campaign=renewals, agent=colleague, now=TUESDAY_MORNING - dt.timedelta(minutes=1)
    )
    assert earlier is not None
    dialer.attempt_dispose(attempt=earlier.attempt, agent=colleague, outcome="connected")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana.agent")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/agent/")
    page.select_option(
        "#campaign", label=f"Order updates ({orders.get_dialing_mode_display()}, {orders.purpose})"
    )
    page.click("#next-button")
    card = page.locator("#call article.call")
    card.wait_for()
    page.screenshot(path=artifacts / "agent_card_counts_and_recent_calls.png", full_page=True)

    why = card.locator(".why").inner_text()
    assert (
        "Calls to this number in the 24 hours before: 0 on the campaign subject “orders” in any campaign, "
        "0 in this campaign (it allows 2)." in why
    )
    assert "on this subject across campaigns" not in why
    recent = card.locator(".history").inner_text()
    assert "In every campaign, on every subject." in recent
    assert "Connected Renewals, subject “renewals”" in recent
    # One date format, the zone named: "Nov 17, 2026 15:59 UTC" (the viewer's zone).
    assert re.search(r"Nov 17, 2026 \d\d:\d\d [A-Z]{3}", recent), recent
    assert "11:00 EST Tuesday America/New_York" in card.locator(".local").inner_text()

    # The name opens the customer's page (a new tab: the open call stays); every
    # link on the card opens for an agent, and the decision (compliance only) is no link.
    name = card.locator(".callee a")
    assert name.inner_text() == "Ada Byrd"
    assert name.get_attribute("href") == f"/customers/{customer.pk}/"
    assert name.get_attribute("target") == "_blank"
    hrefs = card.locator("a[href]").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert hrefs, "the card has links"
    for href in hrefs:
        assert page.request.get(live_server.url + href).status == 200, href
    assert card.locator("a[href*='/compliance/']").count() == 0
    this_call = CallAttempt.objects.exclude(pk=earlier.attempt.pk).get()
    assert f"Decision #{this_call.decision_id} is in the log." in card.inner_text()
