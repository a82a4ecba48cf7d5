"""An agent in a real browser takes a number and records "Do not call"; the
number is blocked from then on."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.services import targets_add
from consent.models import DncRequest
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Tuesday 2026-11-17 16:00 UTC: 11:00 in New York.
TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def shift():
    """The clock of this process (test and live server) at a legal calling hour."""
    with time_machine.travel(TUESDAY_MORNING, tick=True):
        yield


def test_an_agent_takes_a_call_records_do_not_call_and_the_number_is_blocked(
    live_server, page, artifacts, shift
):
    agent = UserFactory(username="dana.agent", password=PASSWORD, first_name="Dana")
    agent.groups.add(Group.objects.get(name=AGENTS))
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=10))
    campaign = CampaignFactory(
        name="Order updates",
        subject="orders",
        script="Hello, I'm calling about your order #4411: it ships tomorrow.",
        disclosure="This is Dana from Northwind Retail about your order. Say 'do not call' and we stop.",
    )
    customer = CustomerFactory(first_name="Grace", last_name="Hughes", state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number="+12127360042")
    targets_add(campaign=campaign, numbers=[str(phone.number)], by=None)
    CampaignTarget.objects.update(next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana.agent")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/agent/")

    page.click("#next-button")
    call = page.locator("#call article.call")
    call.wait_for()
    assert "Grace Hughes" in call.inner_text()
    assert "(212) 736-0042" in call.inner_text()
    assert "11:00 EST Tuesday America/New_York" in call.inner_text()  # the callee's local time, zone named
    assert "US calling window 08:00-21:00 in America/New_York" in call.inner_text()
    assert "about your order #4411" in call.inner_text()
    assert "Say 'do not call'" in call.inner_text()
    page.screenshot(path=artifacts / "agent_page_call.png", full_page=True)

    page.fill("#notes", "Customer asked us never to call again.")
    page.click("button[value=do_not_call]")
    page.locator("#call").get_by_text("Do not call").first.wait_for()
    page.screenshot(path=artifacts / "agent_page_after_do_not_call.png", full_page=True)

    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "do_not_call" and attempt.agent == agent
    request = DncRequest.objects.get(number="+12127360042")
    assert (request.recorded_by, request.source) == (agent, "agent")

    api = APIClient()
    api.force_authenticate(agent)
    answer = api.post(
        "/api/v1/compliance/check/",
        {"phone_number": "+1 212 736 0042", "campaign": campaign.pk},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["allowed"] is False
    assert "dnc_internal" in answer.json()["reasons"]

    # And the queue never hands it again, even once the lease would have run out.
    page.click("#next-button")
    page.locator("#call").get_by_text("No number in this campaign may be called right now").wait_for()
