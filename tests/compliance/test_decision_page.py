"""The decision page leads somewhere: the campaign by its name, the customer,
the call's proof and the number's contact record are links, each of which
opens for the compliance officer reading it; times are in the site's one
format, in the viewer's zone, and in the callee's own zone named."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from rest_framework.test import APIClient

from accounts.services import training_record
from campaigns import dialer
from campaigns.services import targets_add
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

# Tuesday 2026-11-17 16:00 UTC: 11:00 in New York, 10:00 in Chicago.
TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


class _Links(HTMLParser):
    """The hrefs of the page's content (not its navigation bar)."""

    def __init__(self):
        super().__init__()
        self.in_main, self.hrefs = False, []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.in_main = True
        elif tag == "a" and self.in_main:
            self.hrefs.append(dict(attrs)["href"])


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


@pytest.fixture
def handed_off(agent, time_machine):
    """A call handed to an agent: its decision, attempt and customer."""
    time_machine.move_to(TUESDAY_MORNING)
    customer = CustomerFactory(first_name="Ines", last_name="Ito", state="NY", postal_code="10001")
    PhoneNumberFactory(customer=customer, number="+12127360801")
    campaign = CampaignFactory(
        name="Order updates", purpose="informational", dialing_mode="manual", subject="orders"
    )
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=3))
    targets_add(campaign=campaign, numbers=["+12127360801"], by=None)
    handoff = dialer.dialer_next(
        campaign=campaign, agent=agent, now=TUESDAY_MORNING + dt.timedelta(minutes=1)
    )
    assert handoff is not None
    return handoff, customer, campaign


def test_a_hand_off_names_its_campaign_and_links_the_customer_the_call_and_the_contact_record(
    client, compliance_officer, handed_off
):
    handoff, customer, campaign = handed_off
    login_with_otp(client, compliance_officer)

    html = client.get(f"/compliance/decisions/{handoff.record.pk}/").content.decode()

    hrefs = links_of(html)
    assert f"/admin/campaigns/campaign/{campaign.pk}/change/" in hrefs
    assert ">Order updates</a>" in html and "campaign #" not in html
    assert f"/customers/{customer.pk}/" in hrefs and ">Ines Ito</a>" in html
    assert f"/compliance/attempts/{handoff.attempt.pk}/proof/" in hrefs
    assert "/compliance/timeline/?number=%2B12127360801" in hrefs
    for href in hrefs:  # every link opens for the officer: no 403, no 404
        assert client.get(href).status_code == 200, href


def test_the_times_are_in_one_format_in_the_viewers_zone_and_the_callees(
    client, compliance_officer, handed_off
):
    handoff, _, _ = handed_off
    login_with_otp(client, compliance_officer)
    client.cookies["tz"] = "America/Chicago"

    html = client.get(f"/compliance/decisions/{handoff.record.pk}/").content.decode()
    main = html[html.index("<main") :]

    assert "Nov 17, 2026 10:01 CST" in main  # decided for, in the viewer's zone
    assert "Tue, Nov 17, 2026 11:01 EST (America/New_York) for the callee" in main
    assert "Calls to this number in the 24 hours before: 0 on the campaign subject “orders”" in main
    assert not re.search(r"\d{4}-\d\d-\d\d", main), "an ISO date shows through"
    assert " UTC." not in main and "Tuesday 2026" not in main


def test_a_check_and_a_blocked_hand_off_say_that_no_call_was_made(
    client, compliance_officer, manager, agent, time_machine
):
    time_machine.move_to(TUESDAY_MORNING)
    PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360802")
    campaign = CampaignFactory(name="Winter sale", purpose="marketing", dialing_mode="autodialed")
    api = APIClient()
    api.force_authenticate(manager)
    answer = api.post(
        "/api/v1/compliance/check/",
        {"phone_number": "+12127360802", "campaign": campaign.pk, "at": TUESDAY_MORNING.isoformat()},
        format="json",
    ).json()
    login_with_otp(client, compliance_officer)

    html = client.get(f"/compliance/decisions/{answer['decision']}/").content.decode()

    # No call, but the campaign by its name all the same, a link to it.
    assert f'href="/admin/campaigns/campaign/{campaign.pk}/change/">Winter sale</a>' in html
    assert "none: a check, no call was made" in html
    assert "/compliance/attempts/" not in html


def test_without_the_campaign_permission_the_campaign_is_named_but_no_link(
    client, compliance_officer, handed_off
):
    handoff, _, _ = handed_off
    compliance_officer.is_staff = False  # the admin would refuse: no link to it
    compliance_officer.save()
    login_with_otp(client, compliance_officer)

    html = client.get(f"/compliance/decisions/{handoff.record.pk}/").content.decode()

    assert "Order updates" in html and "/admin/campaigns/" not in html
