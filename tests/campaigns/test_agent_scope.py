"""An agent sees and acts on their own calls only, on the agent page and in
the API; bad input on the agent page is a 400 with a message, never a 500."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.services import targets_add
from tests.campaigns.conftest import TUESDAY_MORNING, ny_phone
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def other_agent(db):
    user = UserFactory(username="bob.agent")
    user.groups.add(Group.objects.get(name=AGENTS))
    training_record(agent=user, by=None, at=TUESDAY_MORNING - dt.timedelta(days=30))
    return user


@pytest.fixture
def alices_call(trained_agent, informational_campaign):
    phone = ny_phone(1, first_name="Grace", last_name="Hughes")
    targets_add(campaign=informational_campaign, numbers=[str(phone.number)], by=None)
    CampaignTarget.objects.update(next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1))
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    assert handoff is not None
    return handoff.attempt


def test_another_agent_posting_a_disposition_on_the_page_gets_a_404_and_not_the_call_screen(
    client, alices_call, other_agent
):
    client.force_login(other_agent)

    response = client.post(
        f"/agent/dialer/attempts/{alices_call.pk}/disposition/", {"outcome": "no_answer"}, **HTMX
    )

    assert response.status_code == 404
    page = response.content.decode()
    assert "Grace" not in page and "Hughes" not in page and "736" not in page
    alices_call.refresh_from_db()
    assert alices_call.outcome == ""


def test_another_agent_gets_a_404_from_the_disposition_api(alices_call, other_agent):
    api = APIClient()
    api.force_authenticate(other_agent)

    response = api.post(
        f"/api/v1/dialer/attempts/{alices_call.pk}/disposition/", {"outcome": "busy"}, format="json"
    )

    assert response.status_code == 404
    assert "another agent" not in response.content.decode()
    alices_call.refresh_from_db()
    assert alices_call.outcome == ""


def test_the_agent_the_call_was_handed_to_still_records_it(client, alices_call, trained_agent):
    client.force_login(trained_agent)

    response = client.post(
        f"/agent/dialer/attempts/{alices_call.pk}/disposition/", {"outcome": "no_answer"}, **HTMX
    )

    assert response.status_code == 200
    assert CallAttempt.objects.get(pk=alices_call.pk).outcome == "no_answer"


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "../../etc/passwd", "\u00e9", "/"])
def test_a_callback_with_an_unknown_time_zone_is_a_400_with_a_message(client, alices_call, trained_agent, tz):
    client.force_login(trained_agent)

    response = client.post(
        f"/agent/dialer/attempts/{alices_call.pk}/disposition/",
        {"outcome": "callback", "callback_at": "2099-01-05T10:00", "tz": tz},
        **HTMX,
    )

    assert response.status_code == 400
    assert "unknown time zone" in response.content.decode()
    assert CallAttempt.objects.get(pk=alices_call.pk).outcome == ""


def test_an_impossible_callback_date_is_a_400_with_a_message(client, alices_call, trained_agent):
    client.force_login(trained_agent)

    response = client.post(
        f"/agent/dialer/attempts/{alices_call.pk}/disposition/",
        {"outcome": "callback", "callback_at": "2026-13-45T10:00", "tz": "America/New_York"},
        **HTMX,
    )

    assert response.status_code == 400
    assert "not a real date" in response.content.decode()


@pytest.mark.parametrize("campaign", ["abc", "1.5", "-1", "", "\u0661"])
def test_next_with_a_campaign_that_is_not_an_id_is_a_400_with_a_message(client, trained_agent, campaign):
    client.force_login(trained_agent)

    response = client.post("/agent/dialer/next/", {"campaign": campaign}, **HTMX)

    assert response.status_code == 400
    assert "Choose a campaign" in response.content.decode()


def test_next_with_an_unknown_campaign_id_is_a_404(client, trained_agent):
    client.force_login(trained_agent)
    for campaign in ["424242", "99999999999999999999999"]:
        assert client.post("/agent/dialer/next/", {"campaign": campaign}, **HTMX).status_code == 404


@pytest.mark.parametrize("when", ["9999-12-31T23:00", "0001-01-01T00:00"])
def test_a_callback_at_the_ends_of_the_calendar_is_a_400_with_a_message(
    client, alices_call, trained_agent, when
):
    client.force_login(trained_agent)

    response = client.post(
        f"/agent/dialer/attempts/{alices_call.pk}/disposition/",
        {"outcome": "callback", "callback_at": when, "tz": "Pacific/Pago_Pago"},
        **HTMX,
    )

    assert response.status_code == 400
    assert CallAttempt.objects.get(pk=alices_call.pk).outcome == ""


def test_notes_with_a_nul_character_are_a_400_with_a_message(client, alices_call, trained_agent):
    client.force_login(trained_agent)

    response = client.post(
        f"/agent/dialer/attempts/{alices_call.pk}/disposition/",
        {"outcome": "no_answer", "notes": "left a\x00message"},
        **HTMX,
    )

    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert CallAttempt.objects.get(pk=alices_call.pk).outcome == ""
