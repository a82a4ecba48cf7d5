"""When nothing may be called, the agent page says why (the reasons counted
over the queue) and when the first target opens (the engine's
next_allowed_at); the API's answer stays a 204 with no body."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from campaigns import dialer
from campaigns.models import CampaignTarget
from campaigns.selectors import campaign_queue_outlook
from campaigns.services import targets_add
from tests.campaigns.conftest import ny_phone
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# Tuesday 2026-11-17 14:30 UTC: 09:30 in New York, inside the federal window, before the campaign's.
BEFORE_THE_CAMPAIGN_WINDOW = dt.datetime(2026, 11, 17, 14, 30, tzinfo=dt.UTC)
TEN_IN_NEW_YORK = dt.datetime(2026, 11, 17, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def ten_to_seven(db):
    campaign = CampaignFactory(
        name="Order updates", subject="orders", window_start=dt.time(10), window_end=dt.time(19)
    )
    targets_add(campaign=campaign, numbers=[str(ny_phone(i).number) for i in range(3)], by=None)
    CampaignTarget.objects.update(next_attempt_at=BEFORE_THE_CAMPAIGN_WINDOW - dt.timedelta(hours=1))
    return campaign


def test_the_outlook_counts_the_reasons_over_the_queue_and_names_the_engines_opening(
    trained_agent, ten_to_seven
):
    assert (
        dialer.dialer_next(campaign=ten_to_seven, agent=trained_agent, now=BEFORE_THE_CAMPAIGN_WINDOW) is None
    )

    outlook = campaign_queue_outlook(campaign=ten_to_seven, now=BEFORE_THE_CAMPAIGN_WINDOW)

    assert outlook.waiting == 3 and outlook.reasons == [("outside_calling_hours", 3)]
    assert (outlook.due, outlook.with_agents, outlook.on_other_screens) == (0, 0, 0)
    assert outlook.first_opens_at == TEN_IN_NEW_YORK and outlook.first_zone == "America/New_York"
    assert [(w["jurisdiction"], w["window"]) for w in outlook.first_blocked_by] == [
        ("campaign", "10:00-19:00")
    ]


def test_the_page_says_why_nothing_may_be_called_and_when_the_first_target_opens(
    client, trained_agent, ten_to_seven
):
    client.force_login(trained_agent)
    with time_machine.travel(BEFORE_THE_CAMPAIGN_WINDOW, tick=False):
        page = client.post("/agent/dialer/next/", {"campaign": ten_to_seven.pk}, **HTMX).content.decode()

    assert "No number in this campaign may be called right now." in page and "Try again later" not in page
    assert (
        "The first target opens <strong>Tue, Nov 17, 2026 10:00 EST (America/New_York), "
        "Tue, Nov 17, 2026 15:00 UTC" in page
    )
    assert "now it is outside the campaign&#x27;s own window 10:00-19:00 in America/New_York" in page
    assert "Why, over the 3 targets waiting:" in page
    assert "<strong>3</strong> It is outside the calling window" in page

    # The API's contract is unchanged: nothing callable is a 204 with no body.
    api = APIClient()
    api.force_authenticate(trained_agent)
    with time_machine.travel(BEFORE_THE_CAMPAIGN_WINDOW, tick=False):
        response = api.post("/api/v1/dialer/next/", {"campaign": ten_to_seven.pk}, format="json")
    assert response.status_code == 204 and response.content == b""
