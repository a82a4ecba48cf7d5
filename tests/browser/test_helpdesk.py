"""An agent in a real browser opens a ticket for a customer, adds an internal
note and closes it; the timeline shows both, without a page reload."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import AGENTS
from consent.services import consent_revoke
from helpdesk.models import Comment, Ticket
from tests.factories import (
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    QueueFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"


def test_an_agent_opens_a_ticket_adds_a_note_and_closes_it(live_server, page, artifacts):
    agent = UserFactory(username="dana.agent", password=PASSWORD, first_name="Dana", last_name="Reyes")
    agent.groups.add(Group.objects.get(name=AGENTS))
    QueueFactory(name="Customer care")
    customer = CustomerFactory(first_name="Grace", last_name="Hughes", state="NY", postal_code="10001")
    phone = PhoneNumberFactory(customer=customer, number="+12127360042")
    ConsentGrantFactory(phone_number=phone)
    consent_revoke(number="+12127360042", via="sms", by=None)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana.agent")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/agent/")

    page.locator("nav.nav").get_by_role("link", name="Tickets", exact=True).click()
    page.wait_for_url(f"{live_server.url}/tickets/")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    status = page.locator("#calling-status").inner_text()
    assert "revoked" in status and "On the company do-not-call list since" in status
    page.screenshot(path=artifacts / "helpdesk_customer.png", full_page=True)
    page.click("#new-ticket-for-customer")
    page.wait_for_url(f"{live_server.url}/tickets/new/?customer={customer.pk}")
    assert page.locator("#legal-basis-row").is_hidden()  # only for data requests
    page.select_option("#id_channel", "phone")
    page.fill("#id_subject", "Parcel arrived damaged")
    page.fill("#id_description", "The box was crushed; she wants a replacement.")
    page.click("#open-ticket")

    page.wait_for_url(f"{live_server.url}/tickets/*/")
    ticket = Ticket.objects.get()
    assert page.locator("#ticket h1").inner_text() == "Parcel arrived damaged"
    page.click("#assign-me")
    page.locator("#ticket-assignee").get_by_text("Dana Reyes").wait_for()

    page.fill("#comment-body", "Photos requested from the carrier; replacement approved.")
    page.click("#add-note")
    note = page.locator(".timeline .tl-note")
    note.wait_for()
    assert "Photos requested from the carrier" in note.inner_text()
    assert "Internal note" in note.inner_text()

    page.click("#close-ticket")
    page.locator("#ticket-status").get_by_text("Closed").wait_for()
    timeline = page.locator(".timeline").inner_text()
    assert "New → Closed" in timeline
    assert timeline.index("Photos requested") < timeline.index("New → Closed")
    assert page.url == f"{live_server.url}/tickets/{ticket.pk}/"  # no reloads, same page throughout
    page.screenshot(path=artifacts / "helpdesk_ticket.png", full_page=True)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.channel) == ("closed", agent, "phone")
    assert Comment.objects.get().public is False

    page.goto(f"{live_server.url}/tickets/?status=all")
    page.locator("#results").get_by_text("Parcel arrived damaged").wait_for()
    page.screenshot(path=artifacts / "helpdesk_my_tickets.png", full_page=True)
