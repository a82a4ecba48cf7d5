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

    assert (
        "Wed, Nov 18, 2026 05:30 EST (America/New_York) is not allowed for this callee" in alert.inner_text()
    )
    assert "next allowed time is Wed, Nov 18, 2026 08:00 EST" in alert.inner_text()
    assert page.input_value("input[name=callback_at]") == "2026-11-18T08:00"
    page.screenshot(path=artifacts / "agent_page_callback_refused.png", full_page=True)

    page.click("button[value=callback]")
    page.locator("#call .notice.ok").wait_for()
    assert "callback Wed, Nov 18, 2026 08:00 EST (America/New_York)" in page.locator("#call").inner_text()
    assert CallAttempt.objects.get().callback_at == dt.datetime(2026, 11, 18, 13, 0, tzinfo=dt.UTC)


def test_pressing_n_or_switching_campaign_on_an_open_call_asks_first_and_releases_it(on_a_call, artifacts):
    page = on_a_call
    first = CallAttempt.objects.get()
    grace = PhoneNumberFactory(
        customer=CustomerFactory(first_name="Grace", last_name="Hughes", state="NY", postal_code="10001"),
        number="+12127360042",
    )
    targets_add(campaign=first.campaign, numbers=[str(grace.number)], by=None)
    CampaignTarget.objects.filter(phone_number=grace).update(
        next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1)
    )
    asked = []

    def answer(accept):
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handle)

    answer(accept=False)
    page.keyboard.press("n")
    page.wait_for_timeout(300)
    assert "no outcome yet" in asked[-1]
    assert "Ada Byrd" in page.locator("#call").inner_text()  # still on the call
    assert CallAttempt.objects.count() == 1

    answer(accept=False)
    page.select_option("#campaign", label="Renewals (Manual (agent dials), informational)")
    page.wait_for_timeout(300)
    assert "no outcome yet" in asked[-1]
    assert page.input_value("#campaign") == str(first.campaign_id)  # the switch is undone
    assert "Ada Byrd" in page.locator("#call").inner_text()

    answer(accept=True)
    page.keyboard.press("n")
    page.locator("#call").get_by_text("Grace Hughes").wait_for()
    first.refresh_from_db()
    assert first.outcome == "" and first.notes.startswith("Released by the agent without an outcome.")
    assert CampaignTarget.objects.get(phone_number=first.phone_number).status == "queued"

    answer(accept=True)
    page.select_option("#campaign", label="Renewals (Manual (agent dials), informational)")
    page.locator("#call").get_by_text("without an outcome; it goes back to the queue").wait_for()
    page.screenshot(path=artifacts / "agent_page_released_on_switch.png", full_page=True)
    assert not CallAttempt.objects.filter(ended_at__isnull=True).exists()
