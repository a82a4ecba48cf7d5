"""Callbacks are picked in the callee's local time and decided by the engine
at that instant: a time outside the callee's windows is refused, with the
engine's next allowed time offered."""

import datetime as dt

import pytest
import time_machine

from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.services import targets_add
from tests.campaigns.conftest import TUESDAY_MORNING
from tests.factories import CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# Wednesday 2026-11-18 10:30 UTC: 05:30 in Maryland (EST).
BEFORE_DAWN_IN_MARYLAND = dt.datetime(2026, 11, 18, 10, 30, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        yield


@pytest.fixture
def maryland_call(trained_agent, informational_campaign, clock):
    customer = CustomerFactory(first_name="Ada", last_name="Byrd", state="MD", postal_code="21201")
    phone = PhoneNumberFactory(customer=customer, number="+14107360001")
    targets_add(campaign=informational_campaign, numbers=[str(phone.number)], by=None)
    CampaignTarget.objects.update(next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1))
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    assert handoff is not None
    return handoff.attempt


def test_a_callback_before_the_callees_calling_hours_is_refused_with_the_next_allowed_time(
    maryland_call, trained_agent
):
    with pytest.raises(dialer.CallbackRefused) as refused:
        dialer.attempt_dispose(
            attempt=maryland_call,
            agent=trained_agent,
            outcome="callback",
            callback_at=BEFORE_DAWN_IN_MARYLAND,
        )

    assert refused.value.reasons == ["outside_calling_hours"]
    assert refused.value.next_allowed == dt.datetime(2026, 11, 18, 13, 0, tzinfo=dt.UTC)  # 08:00 EST
    maryland_call.refresh_from_db()
    assert maryland_call.outcome == "" and maryland_call.ended_at is None
    assert CampaignTarget.objects.get().status == "leased"


def test_the_callback_picker_reads_the_time_in_the_callees_zone_and_offers_the_next_allowed_time(
    client, maryland_call, trained_agent
):
    client.force_login(trained_agent)
    url = f"/agent/dialer/attempts/{maryland_call.pk}/disposition/"

    page = client.post(
        url, {"outcome": "callback", "callback_at": "2026-11-18T05:30", "tz": "America/New_York"}, **HTMX
    ).content.decode()

    assert "Wed, Nov 18, 2026 05:30 EST (America/New_York) is not allowed for this callee" in page
    assert "The next allowed time is Wed, Nov 18, 2026 08:00 EST (America/New_York)" in page
    assert 'value="2026-11-18T08:00"' in page
    assert CallAttempt.objects.get(pk=maryland_call.pk).outcome == ""

    recorded = client.post(
        url, {"outcome": "callback", "callback_at": "2026-11-18T08:00", "tz": "America/New_York"}, **HTMX
    ).content.decode()

    assert "callback Wed, Nov 18, 2026 08:00 EST (America/New_York) for the callee" in recorded
    attempt = CallAttempt.objects.get(pk=maryland_call.pk)
    assert attempt.callback_at == dt.datetime(2026, 11, 18, 13, 0, tzinfo=dt.UTC)


def test_a_callback_in_a_zone_that_is_not_the_callees_is_a_400(client, maryland_call, trained_agent):
    client.force_login(trained_agent)

    response = client.post(
        f"/agent/dialer/attempts/{maryland_call.pk}/disposition/",
        {"outcome": "callback", "callback_at": "2026-11-18T10:30", "tz": "UTC"},
        **HTMX,
    )

    assert response.status_code == 400
    assert "give the time in America/New_York" in response.content.decode()
    assert CallAttempt.objects.get(pk=maryland_call.pk).outcome == ""


def test_the_disposition_api_refuses_the_same_callback_and_names_the_next_allowed_time(
    maryland_call, trained_agent
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(trained_agent)

    response = api.post(
        f"/api/v1/dialer/attempts/{maryland_call.pk}/disposition/",
        {"outcome": "callback", "callback_at": "2026-11-18T05:30:00-05:00"},
        format="json",
    )

    assert response.status_code == 400
    assert "2026-11-18T13:00:00+00:00" in response.json()["outcome"][0]


@pytest.mark.parametrize("tz", [None, "", "Bogus/Zone"])
def test_a_callback_with_its_own_offset_still_needs_the_callees_zone(
    client, maryland_call, trained_agent, tz
):
    # A time with an offset skipped the zone check, and its refusal then read a missing zone: a 500.
    client.force_login(trained_agent)
    data = {"outcome": "callback", "callback_at": "2026-11-18T05:30-05:00"}
    if tz is not None:
        data["tz"] = tz

    response = client.post(f"/agent/dialer/attempts/{maryland_call.pk}/disposition/", data, **HTMX)

    assert response.status_code == 400
    assert "give the time in America/New_York" in response.content.decode()
    assert CallAttempt.objects.get(pk=maryland_call.pk).outcome == ""
