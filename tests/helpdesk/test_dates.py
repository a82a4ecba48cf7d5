"""One date format on the help desk's pages (issue 16, item 9): "Dec 2, 2026
14:18 EST", in the viewer's zone with the zone shown; a day as "Mar 1,
2026". No "2026-12-02 14:18", no "Dec 2, 14:18" without a year or a zone,
no ISO 8601 outside the JSON download."""

import datetime as dt
import re

import pytest

from helpdesk.services import ticket_comment, ticket_create, ticket_data_access, tickets_escalate
from tests.factories import ConsentGrantFactory, CustomerFactory, PhoneNumberFactory, QueueFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

OPENED = dt.datetime(2026, 12, 2, 19, 18, tzinfo=dt.UTC)  # 14:18 in New York
SITE_FORMAT = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d\d:\d\d [A-Z]{3,4}")
OTHER_FORMATS = [
    re.compile(r"\d{4}-\d\d-\d\d"),  # ISO dates and "2026-12-02 14:18"
    re.compile(r"\b[A-Z][a-z]{2} \d{1,2}, \d\d:\d\d\b"),  # "Dec 2, 14:18": no year, no zone
    re.compile(r"\b[ap]\.m\."),  # Django's default "2:18 p.m."
]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _only_site_format(text: str) -> None:
    for pattern in OTHER_FORMATS:
        assert not pattern.search(text), pattern.search(text).group(0)


@pytest.fixture
def grace():
    customer = CustomerFactory(first_name="Grace", last_name="Hughes")
    phone = PhoneNumberFactory(customer=customer, number="+12127360042")
    ConsentGrantFactory(phone_number=phone, granted_at=dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC))
    return customer


@pytest.fixture
def ticket(agent, grace, time_machine):
    time_machine.move_to(OPENED)
    queue = QueueFactory(name="Customer care", sla_hours=1)
    ticket = ticket_create(
        queue=queue, customer=grace, subject="Where is my parcel?", channel="email", by=agent
    )
    ticket_comment(ticket=ticket, body="Looking into it.", public=True, by=agent)
    return ticket


def test_the_ticket_page_shows_times_in_the_viewers_zone_with_the_zone(client, agent, ticket):
    client.force_login(agent)
    client.cookies["tz"] = "America/New_York"

    page = _text(client.get(f"/tickets/{ticket.pk}/").content.decode())

    assert "Opened Dec 2, 2026 14:18 EST by" in page
    assert "Dec 2, 2026 14:18 EST Opened via email." in page
    _only_site_format(page)


def test_without_a_zone_the_pages_show_utc_and_say_so(client, agent, ticket):
    client.force_login(agent)

    page = _text(client.get(f"/tickets/{ticket.pk}/").content.decode())

    assert "Opened Dec 2, 2026 19:18 UTC by" in page


@pytest.mark.parametrize("url", ["/tickets/", "queue", "customer"])
def test_lists_and_the_customer_page_use_the_one_format(client, agent, ticket, url):
    ticket.assignee = agent
    ticket.save()
    url = {
        "queue": f"/tickets/queue/{ticket.queue_id}/",
        "customer": f"/customers/{ticket.customer_id}/",
    }.get(url, url)
    client.force_login(agent)
    client.cookies["tz"] = "America/New_York"

    page = _text(client.get(url).content.decode())

    assert SITE_FORMAT.search(page), page
    _only_site_format(page)


def test_the_customer_page_says_days_in_the_one_format(client, agent, grace):
    client.force_login(agent)

    page = _text(client.get(f"/customers/{grace.pk}/").content.decode())

    assert "given Mar 1, 2026 via web form" in page
    _only_site_format(page)


def test_an_escalation_names_the_due_time_in_the_one_format(ticket, time_machine):
    time_machine.move_to(OPENED + dt.timedelta(days=3))

    assert tickets_escalate() == 1

    event = ticket.events.get(kind="escalated")
    assert re.fullmatch(r"Past its due time \([A-Z][a-z]{2} \d{1,2}, \d{4} \d\d:\d\d UTC\)\.", event.text), (
        event.text
    )


def test_the_readable_export_shows_instants_as_pages_do(client, compliance_officer, ticket):
    ticket = ticket_create(
        queue=ticket.queue,
        customer=ticket.customer,
        subject="My data",
        channel="email",
        type="data_access",
        legal_basis="gdpr",
        by=compliance_officer,
    )
    ticket_data_access(ticket=ticket, by=compliance_officer)
    login_with_otp(client, compliance_officer)
    client.cookies["tz"] = "America/New_York"

    page = _text(client.get(f"/tickets/{ticket.pk}/export/").content.decode())
    download = client.get(f"/tickets/{ticket.pk}/export.json").json()

    assert "Mar 1, 2026 10:00 EST" in page  # the consent's grant, in New York
    assert "+00:00" not in page and "T15:00" not in page
    assert download["consents"][0]["granted_at"] == "2026-03-01T15:00:00+00:00"  # the JSON keeps ISO 8601


def test_evidence_keys_ending_in_at_that_hold_no_instant_are_shown_as_written(
    client, compliance_officer, ticket
):
    """Evidence takes any keys through the API: a bare date or a word under a
    `…_at` key is shown as sent, not a 500."""
    phone = ticket.customer.phone_numbers.get()
    ConsentGrantFactory(phone_number=phone, evidence={"signed_at": "2026-03-01", "seen_at": "yesterday"})
    ticket = ticket_create(
        queue=ticket.queue,
        customer=ticket.customer,
        subject="My data",
        channel="email",
        type="data_access",
        legal_basis="gdpr",
        by=compliance_officer,
    )
    ticket_data_access(ticket=ticket, by=compliance_officer)
    login_with_otp(client, compliance_officer)

    answer = client.get(f"/tickets/{ticket.pk}/export/")

    assert answer.status_code == 200
    page = _text(answer.content.decode())
    assert "signed at: 2026-03-01" in page and "seen at: yesterday" in page
