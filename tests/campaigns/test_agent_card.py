"""The agent's call card says why the call may be made, from the decision's
evidence read through its type: the consent, the registry exemption and the
attempts, not the call's own description nor the rule set's version."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from accounts.roles import AGENTS, COMPLIANCE_OFFICERS
from accounts.services import training_record
from campaigns.models import CallAttempt
from campaigns.scripts import call_text
from campaigns.services import targets_add
from compliance.registry.services import registry_file_import, registry_source_ensure
from tests.factories import (
    CampaignFactory,
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    UserFactory,
)
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


def test_the_call_card_lists_what_decided_the_call(client, agent, tmp_path, time_machine):
    time_machine.move_to(TUESDAY_MORNING)
    registry = tmp_path / "national.txt"
    registry.write_text("2127360000\n")
    registry_file_import(source=registry_source_ensure(key="national"), paths=[registry])
    phone = PhoneNumberFactory(
        customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360702"
    )
    consent = ConsentGrantFactory(
        phone_number=phone,
        purpose="marketing",
        written=True,
        granted_at=TUESDAY_MORNING - dt.timedelta(days=9),
    )
    campaign = CampaignFactory(name="Winter sale", purpose="marketing", dialing_mode="autodialed")
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    targets_add(campaign=campaign, numbers=["+12127360702"], by=None)
    client.force_login(agent)

    card = client.post("/agent/dialer/next/", {"campaign": campaign.pk}).content.decode()

    why = card[card.index('class="why"') :]
    assert (
        f"Consent needed: prior express written consent to marketing calls. Consent used: #{consent.pk}."
        in why
    )
    assert "Registry exemption: written marketing consent." in why
    assert (
        f"Calls to this number in the 24 hours before: 0 on the campaign subject “{campaign.subject}” "
        "in any campaign, 0 in this campaign." in why
    )
    assert "US calling window 08:00-21:00 in America/New_York" in why
    assert "The call:" not in why and "Rule set version" not in why


def test_the_disclosure_and_script_are_filled_for_this_call(client, agent, time_machine):
    # The agent reads names, not "{agent}" or "<your name>".
    time_machine.move_to(TUESDAY_MORNING)
    agent.first_name, agent.last_name = "Dana", "Le"
    agent.save()
    PhoneNumberFactory(
        customer=CustomerFactory(first_name="Ada", last_name="Byrd", state="NY", postal_code="10001"),
        number="+12127360703",
    )
    nameless = PhoneNumberFactory(
        customer=CustomerFactory(first_name="", last_name="", state="NY", postal_code="10001"),
        number="+12127360704",
    )
    campaign = CampaignFactory(
        name="Orders",
        purpose="informational",
        dialing_mode="manual",
        disclosure="This is {agent} calling for Northwind Retail about your order.",
        script="Hello {first_name}, your order {unknown} is ready.",
    )
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    targets_add(campaign=campaign, numbers=["+12127360703"], by=None)
    client.force_login(agent)

    card = client.post("/agent/dialer/next/", {"campaign": campaign.pk}).content.decode()

    assert "This is Dana Le calling for Northwind Retail about your order." in card
    assert "Hello Ada, your order {unknown} is ready." in card  # an unknown placeholder stays as written
    assert "{agent}" not in card and "{first_name}" not in card

    # A customer without a name: the agent sees that, not a gap.
    assert call_text("Hello {first_name}", agent=agent, customer=nameless.customer) == (
        "Hello [first name unknown]"
    )


def test_a_name_holding_a_placeholder_is_shown_as_written(agent):
    customer = CustomerFactory(first_name="{last_name}", last_name="Byrd")
    assert call_text("Hello {first_name}", agent=agent, customer=customer) == "Hello {last_name}"


def test_the_caps_counts_name_their_state_cap_and_the_recent_calls_their_subject(client, agent, time_machine):
    # Maryland caps calls on one subject at 3 a day across campaigns: the card
    # says so beside the count, and a call on another subject is listed with it.
    time_machine.move_to(TUESDAY_MORNING - dt.timedelta(minutes=2))
    phone = PhoneNumberFactory(
        customer=CustomerFactory(state="MD", postal_code="21201"), number="+14107360705"
    )
    # Written marketing consent: exempt from the registries, so no registry data is needed.
    ConsentGrantFactory(
        phone_number=phone,
        purpose="marketing",
        written=True,
        granted_at=TUESDAY_MORNING - dt.timedelta(days=9),
    )
    sale = CampaignFactory(
        name="Winter sale", purpose="marketing", dialing_mode="manual", subject="winter sale"
    )
    survey = CampaignFactory(name="Survey", purpose="informational", dialing_mode="manual", subject="survey")
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    for campaign in (sale, survey):
        targets_add(campaign=campaign, numbers=["+14107360705"], by=None)
    client.force_login(agent)
    client.post("/agent/dialer/next/", {"campaign": survey.pk})
    first = CallAttempt.objects.get(campaign=survey)
    client.post(f"/agent/dialer/attempts/{first.pk}/disposition/", {"outcome": "no_answer"})
    time_machine.move_to(TUESDAY_MORNING)

    card = client.post("/agent/dialer/next/", {"campaign": sale.pk}).content.decode()

    assert (
        "Calls to this number in the 24 hours before: 0 on the campaign subject “winter sale” "
        "in any campaign (MD allows 3), 0 in this campaign." in card
    )
    history = card[card.index('class="history"') :]
    assert 'No answer <span class="muted">Survey, subject “survey”</span>' in history


def test_the_decision_is_a_link_only_for_an_agent_who_may_open_it(client, agent, time_machine):
    # Agents get a 403 on decision pages: no link for them; an agent who is
    # also a compliance officer gets one. The customer's page opens for both.
    time_machine.move_to(TUESDAY_MORNING)
    customer = CustomerFactory(state="NY", postal_code="10001")
    PhoneNumberFactory(customer=customer, number="+12127360706")
    PhoneNumberFactory(customer=customer, number="+12127360707")
    campaign = CampaignFactory(name="Orders", purpose="informational", dialing_mode="manual")
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    targets_add(campaign=campaign, numbers=["+12127360706", "+12127360707"], by=None)
    client.force_login(agent)

    card = client.post("/agent/dialer/next/", {"campaign": campaign.pk}).content.decode()
    first = CallAttempt.objects.get()
    assert f'href="/customers/{customer.pk}/"' in card
    assert "/compliance/decisions/" not in card and f"Decision #{first.decision_id} is in the log." in card
    assert client.get(f"/compliance/decisions/{first.decision_id}/").status_code == 403

    agent.groups.add(Group.objects.get(name=COMPLIANCE_OFFICERS))
    login_with_otp(client, agent)
    card = client.post("/agent/dialer/next/", {"campaign": campaign.pk, "release": first.pk}).content.decode()
    second = CallAttempt.objects.get(ended_at__isnull=True)
    assert f'href="/compliance/decisions/{second.decision_id}/"' in card


def test_a_call_whose_lease_ran_out_is_not_said_to_be_on_a_screen(client, agent, time_machine):
    """The card's recent calls read "on a screen now" as the hand-off does
    (campaigns.selectors.call_attempts_open: not ended, lease live)."""
    time_machine.move_to(TUESDAY_MORNING)
    phone = PhoneNumberFactory(
        customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360703"
    )
    ConsentGrantFactory(phone_number=phone, purpose="informational", written=True)
    first, second = (CampaignFactory(name=name, purpose="informational") for name in ("Orders", "Deliveries"))
    other = UserFactory(username="sam.second")
    other.groups.add(Group.objects.get(name=AGENTS))
    for person in (agent, other):
        training_record(agent=person, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    for campaign in (first, second):
        targets_add(campaign=campaign, numbers=[phone.number], by=None)
    client.force_login(other)
    assert client.post("/agent/dialer/next/", {"campaign": first.pk}).status_code == 200  # never ended

    time_machine.move_to(TUESDAY_MORNING + dt.timedelta(hours=2))  # its lease long over
    client.force_login(agent)
    card = client.post("/agent/dialer/next/", {"campaign": second.pk}).content.decode()

    history = card[card.index('class="history"') :]
    assert "Orders" in history and "no outcome" in history and "on a screen now" not in history
