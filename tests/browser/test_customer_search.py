"""In a real browser: an agent with only a caller's name finds the customer
from the ticket list, narrows the search by typing (results swap in place),
opens the customer's page (no email for agents) and a data access request
from it, which lands in the privacy team's queue (issue 16, items 7 and 10)."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import AGENTS
from helpdesk.models import Ticket
from tests.factories import CustomerFactory, PhoneNumberFactory, QueueFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery-staple"


def test_an_agent_finds_a_customer_by_name_and_opens_a_data_request_for_them(
    live_server,
    page,
    artifacts,
):
    agent = UserFactory(username="dana.agent", password=PASSWORD, first_name="Dana", last_name="Reyes")
    agent.groups.add(Group.objects.get(name=AGENTS))
    care = QueueFactory(name="Customer care")
    care.members.add(agent)
    privacy = QueueFactory(name="Privacy requests", ticket_types="data_access,erasure")
    grace = CustomerFactory(first_name="Grace", last_name="Hughes", email="grace.hughes@example.org")
    PhoneNumberFactory(customer=grace, number="+12127360042")
    other = CustomerFactory(first_name="Ada", last_name="Hughes-Park", email="ada@example.org")
    PhoneNumberFactory(customer=other, number="+13055550199")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dana.agent")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/agent/")
    page.goto(f"{live_server.url}/tickets/")

    page.fill(".customer-find input[name=q]", "hugh")
    page.click(".customer-find button")
    page.wait_for_url(f"{live_server.url}/customers/?q=hugh")
    results = page.locator("#results")
    assert results.locator(".customer-result").count() == 2
    assert "@example.org" not in results.inner_text()

    page.fill("#customer-q", "(212) 736-0042")  # typing narrows the results without a reload
    page.wait_for_function("document.querySelectorAll('#results .customer-result').length === 1")
    assert "Grace Hughes" in results.inner_text() and "(212) 736-0042" in results.inner_text()
    assert "q=%28212%29" in page.url or "q=(212)" in page.url  # the search is in the address bar
    page.screenshot(path=artifacts / "helpdesk_customer_search.png", full_page=True)

    results.get_by_role("link", name="Grace Hughes").click()
    page.wait_for_url(f"{live_server.url}/customers/{grace.pk}/")
    assert "grace.hughes@example.org" not in page.content()
    page.click("#new-ticket-for-customer")
    page.wait_for_url(f"{live_server.url}/tickets/new/?customer={grace.pk}")
    page.select_option("#id_type", "data_access")
    page.select_option("#id_legal_basis", "gdpr")
    page.select_option("#id_channel", "phone")
    page.fill("#id_subject", "Wants a copy of her data")
    page.click("#open-ticket")
    page.wait_for_url(f"{live_server.url}/tickets/*/")

    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.queue) == (grace, privacy)
    assert "Privacy requests" in page.locator(".ticket-head").inner_text()
    assert not errors, errors
