"""An open call gets an outcome or is released on purpose, and a number on an
agent's screen is never handed out again, in any campaign."""

import datetime as dt
import threading
from collections import Counter

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.services import targets_add
from tests.campaigns.conftest import TUESDAY_MORNING, ny_phone
from tests.factories import CampaignFactory, UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def queue(campaign, phones):
    targets_add(campaign=campaign, numbers=[str(p.number) for p in phones], by=None)
    CampaignTarget.objects.filter(campaign=campaign).update(
        next_attempt_at=TUESDAY_MORNING - dt.timedelta(hours=1)
    )


def agent_named(name):
    user = UserFactory(username=name)
    user.groups.add(Group.objects.get(name=AGENTS))
    training_record(agent=user, by=None, at=TUESDAY_MORNING - dt.timedelta(days=30))
    return user


@pytest.fixture
def clock():
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        yield


@pytest.mark.django_db
def test_a_released_call_is_closed_without_an_outcome_with_a_note_and_its_target_queued_again(
    trained_agent, informational_campaign, clock
):
    queue(informational_campaign, [ny_phone(1)])
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)

    dialer.attempt_release(attempt=handoff.attempt, agent=trained_agent, note="Wrong campaign picked")

    attempt = CallAttempt.objects.get()
    assert attempt.outcome == "" and attempt.ended_at == TUESDAY_MORNING
    assert attempt.notes == "Released by the agent without an outcome. Wrong campaign picked"
    target = CampaignTarget.objects.get()
    assert (target.status, target.lease_agent, target.next_attempt_at) == ("queued", None, TUESDAY_MORNING)
    assert target.history.first().history_change_reason == "released by the agent without an outcome"
    with pytest.raises(dialer.ReleaseError):
        dialer.attempt_release(attempt=attempt, agent=trained_agent)


@pytest.mark.django_db
def test_the_page_hands_no_next_call_while_one_is_open_unless_it_is_released(
    client, trained_agent, informational_campaign, clock
):
    queue(informational_campaign, [ny_phone(1, first_name="Grace"), ny_phone(2, first_name="Alan")])
    client.force_login(trained_agent)
    client.post("/agent/dialer/next/", {"campaign": informational_campaign.pk}, **HTMX)
    first = CallAttempt.objects.get()

    refused = client.post("/agent/dialer/next/", {"campaign": informational_campaign.pk}, **HTMX)

    assert "This call has no outcome yet" in refused.content.decode()
    assert f'data-attempt="{first.pk}"' in refused.content.decode()  # the same call stays on screen
    assert CallAttempt.objects.count() == 1

    client.post(
        "/agent/dialer/next/",
        {"campaign": informational_campaign.pk, "release": first.pk, "notes": "Line dropped"},
        **HTMX,
    )

    first.refresh_from_db()
    assert first.outcome == "" and first.notes == "Released by the agent without an outcome. Line dropped"
    assert CallAttempt.objects.filter(ended_at__isnull=True).get().phone_number != first.phone_number


@pytest.mark.django_db
def test_a_number_on_an_agents_screen_is_not_handed_out_in_another_campaign(trained_agent, clock):
    other = agent_named("bob.agent")
    orders = CampaignFactory(name="Orders", purpose="informational", dialing_mode="manual", subject="orders")
    renewals = CampaignFactory(
        name="Renewals", purpose="informational", dialing_mode="manual", subject="renew"
    )
    phone = ny_phone(1)
    queue(orders, [phone])
    queue(renewals, [phone])
    assert dialer.dialer_next(campaign=orders, agent=trained_agent, now=TUESDAY_MORNING) is not None

    assert dialer.dialer_next(campaign=renewals, agent=other, now=TUESDAY_MORNING) is None

    waiting = CampaignTarget.objects.get(campaign=renewals)
    assert (waiting.status, waiting.blocked_reasons, waiting.attempts) == ("queued", [], 0)  # not moved on
    # Once the first call has its outcome, the other campaign may call the number.
    dialer.attempt_dispose(attempt=CallAttempt.objects.get(), agent=trained_agent, outcome="no_answer")
    assert dialer.dialer_next(campaign=renewals, agent=other, now=TUESDAY_MORNING) is not None


@pytest.mark.django_db
def test_the_guard_costs_the_hand_off_no_statement_of_its_own(trained_agent, informational_campaign, clock):
    queue(informational_campaign, [ny_phone(1)])
    with CaptureQueriesContext(connection) as statements:
        assert dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    claim = [q["sql"] for q in statements.captured_queries if "SKIP LOCKED" in q["sql"]]
    assert len(claim) == 1 and claim[0].count("NOT (EXISTS") == 2  # expired leases, then the queue
    # After the number's lock, read by the facts' statement (issue 17).
    facts = [q["sql"] for q in statements.captured_queries if "compliance_rulesetstamp" in q["sql"]]
    assert len(facts) == 1 and '"campaigns_callattempt"."ended_at" IS NULL' in facts[0]
    print(f"hand-off statements: {len(statements.captured_queries)}")


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_handing_out_at_once_never_put_one_number_on_two_screens():
    orders = CampaignFactory(name="Orders", purpose="informational", dialing_mode="manual", subject="orders")
    renewals = CampaignFactory(
        name="Renewals", purpose="informational", dialing_mode="manual", subject="renew"
    )
    phones = [ny_phone(i) for i in range(40)]
    queue(orders, phones)
    queue(renewals, phones)
    agents = [agent_named("ann.agent"), agent_named("ben.agent")]
    start = threading.Barrier(2)

    def work(agent, campaign):
        try:
            start.wait()
            while dialer.dialer_next(campaign=campaign, agent=agent, now=TUESDAY_MORNING) is not None:
                pass
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=work, args=(agents[0], orders)),
        threading.Thread(target=work, args=(agents[1], renewals)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    on_screens = Counter(
        CallAttempt.objects.filter(ended_at__isnull=True).values_list("phone_number", flat=True)
    )
    assert len(on_screens) == 40 and set(on_screens.values()) == {1}


@pytest.mark.django_db
def test_releasing_with_a_nul_in_the_notes_is_a_clear_400_and_keeps_the_call(
    client, trained_agent, informational_campaign, clock
):
    # The page's "release, then next" path stored the notes unchecked: PostgreSQL refused the NUL, a 500.
    queue(informational_campaign, [ny_phone(1), ny_phone(2)])
    client.force_login(trained_agent)
    client.post("/agent/dialer/next/", {"campaign": informational_campaign.pk}, **HTMX)
    first = CallAttempt.objects.get()

    response = client.post(
        "/agent/dialer/next/",
        {"campaign": informational_campaign.pk, "release": first.pk, "notes": "line\x00dropped"},
        **HTMX,
    )

    assert response.status_code == 400
    first.refresh_from_db()
    assert first.ended_at is None and CallAttempt.objects.count() == 1
