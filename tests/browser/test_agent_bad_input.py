"""Bad input on the agent page is answered with a 400 whose message the page
shows in place (HTMX swaps it), not a silent failure or an error page."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group

from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.services import targets_add
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)  # 11:00 in New York
PASSWORD = "correct-horse-battery-staple"


def test_a_callback_with_an_unknown_time_zone_shows_the_message_on_the_call(live_server, page, artifacts):
    with time_machine.travel(TUESDAY_MORNING, tick=True):
        agent = UserFactory(username="dana.agent", password=PASSWORD)
        agent.groups.add(Group.objects.get(name=AGENTS))
        training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=10))
        campaign = CampaignFactory(name="Order updates")
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
        page.locator("#call article.call").wait_for()

        page.fill("input[name=callback_at]", "2026-11-18T10:00")
        page.evaluate("document.querySelector('input[name=tz]').value = 'Mars/Olympus_Mons'")
        page.click("button[value=callback]")
        alert = page.locator("#call .error")
        alert.wait_for()

        assert "unknown time zone" in alert.inner_text()
        assert "Grace Hughes" in page.locator("#call").inner_text()  # still on the call
        assert CallAttempt.objects.get().outcome == ""
        page.screenshot(path=artifacts / "agent_page_bad_time_zone.png", full_page=True)
