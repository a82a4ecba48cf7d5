"""The agent's call card says why the call may be made, from the decision's
evidence read through its type: the consent, the registry exemption and the
attempts, not the call's own description nor the rule set's version."""

import datetime as dt

import pytest

from accounts.services import training_record
from campaigns.scripts import call_text
from campaigns.services import targets_add
from compliance.registry.services import registry_file_import, registry_source_ensure
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory

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
    assert "Attempts in the 24 hours before: 0 on this subject across campaigns, 0 in this campaign." in why
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
