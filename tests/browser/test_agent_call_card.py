"""What an agent sees on the call card: the callback picker speaks the
callee's local time and names its zone, and an open call is never left
without an outcome by pressing N or switching campaign."""

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

# Tuesday 2026-11-17 16:00 UTC: 11:00 in Maryland.
TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def shift():
    with time_machine.travel(TUESDAY_MORNING, tick=True):
        yield


@pytest.fixture
def on_a_call(live_server, page, shift):
    agent = UserFactory(username="dana.agent", password=PASSWORD, first_name="Dana")
    agent.groups.add(Group.objects.get(name=AGENTS))
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=10))
    campaign = CampaignFactory(name="Order updates", subject="orders")
    CampaignFactory(name="Renewals", subject="renewals")
    customer = CustomerFactory(first_name="Ada", last_name="Byrd", state="MD", postal_code="21201")
    phone = PhoneNumberFactory(customer=customer, number="+14107360001")
    targets_add(campaign=campaign, numbers=[str(phone.number)], by=None)
    CampaignTarget.objects.update(next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana.agent")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/agent/")
    page.select_option(
        "#campaign", label=f"Order updates ({campaign.get_dialing_mode_display()}, {campaign.purpose})"
    )
    page.click("#next-button")
    page.locator("#call article.call").wait_for()
    return page


def test_the_callback_picker_names_the_callees_zone_and_refuses_a_time_before_their_hours(
    on_a_call, artifacts
):
    page = on_a_call
    picker = page.locator("#call fieldset.callback")
    assert "callee's local time" in picker.inner_text()
    assert "EST (America/New_York)" in picker.inner_text()

    page.fill("input[name=callback_at]", "2026-11-18T05:30")
    page.click("button[value=callback]")
    alert = page.locator("#call .error")
    alert.wait_for()

    assert "5:30 AM EST (America/New_York) is not allowed for this callee" in alert.inner_text()
    assert "next allowed time is Wed Nov 18, 8:00 AM EST" in alert.inner_text()
    assert page.input_value("input[name=callback_at]") == "2026-11-18T08:00"
    page.screenshot(path=artifacts / "agent_page_callback_refused.png", full_page=True)

    page.click("button[value=callback]")
    page.locator("#call .notice.ok").wait_for()
    assert "callback Wed Nov 18, 8:00 AM EST (America/New_York)" in page.locator("#call").inner_text()
    assert CallAttempt.objects.get().callback_at == dt.datetime(2026, 11, 18, 13, 0, tzinfo=dt.UTC)
