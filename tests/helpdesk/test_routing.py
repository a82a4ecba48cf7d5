"""A ticket opened without a queue goes where its type is routed (issue 16,
item 10): a data access request from a call lands in the privacy team's
queue, not in the agent's customer-care queue. And people are named the
same way in a queue's list and in its filter."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import AGENTS
from helpdesk.models import Queue, Ticket
from helpdesk.services import ticket_create
from tests.factories import CustomerFactory, PhoneNumberFactory, QueueFactory, UserFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def care(agent):
    queue = QueueFactory(name="Customer care")
    queue.members.add(agent)
    return queue


@pytest.fixture
def privacy():
    return QueueFactory(name="Privacy requests", ticket_types="data_access,erasure,opt_out")


@pytest.fixture
def grace():
    customer = CustomerFactory(first_name="Grace", last_name="Hughes")
    PhoneNumberFactory(customer=customer, number="+12127360042")
    return customer


def _quick(client, customer, type, **extra):
    return client.post(
        "/tickets/quick/",
        {"customer": customer.pk, "type": type, "subject": "Asked on the phone", **extra},
        **HTMX,
    )


def test_a_data_access_request_from_a_call_lands_in_the_queue_routed_its_type(
    client, agent, care, privacy, grace
):
    client.force_login(agent)

    response = _quick(client, grace, "data_access", legal_basis="gdpr")

    ticket = Ticket.objects.get()
    assert ticket.queue == privacy
    assert "Privacy requests" in response.content.decode()


def test_a_question_from_a_call_stays_in_the_agents_own_queue(client, agent, care, privacy, grace):
    client.force_login(agent)

    _quick(client, grace, "question")

    assert Ticket.objects.get().queue == care


def test_the_form_routes_by_type_unless_a_queue_is_chosen(client, agent, care, privacy, grace):
    client.force_login(agent)
    form = {"customer": grace.pk, "subject": "Copy of my data", "channel": "letter", "priority": "2"}

    page = client.get("/tickets/new/").content.decode()
    assert "By type (where this type is routed)" in page
    client.post("/tickets/new/", {**form, "type": "data_access", "legal_basis": "ccpa", "queue": ""})
    client.post("/tickets/new/", {**form, "type": "question", "queue": ""})
    client.post("/tickets/new/", {**form, "type": "data_access", "legal_basis": "ccpa", "queue": care.pk})

    assert [t.queue for t in Ticket.objects.order_by("id")] == [privacy, care, care]


def test_without_any_queue_the_form_says_so(client, agent, grace):
    client.force_login(agent)

    response = client.post(
        "/tickets/new/",
        {"customer": grace.pk, "subject": "Hello", "channel": "letter", "priority": "2", "type": "question"},
    )

    assert response.status_code == 200
    assert "There is no ticket queue yet" in response.content.decode()


def test_a_manager_routes_types_to_a_queue_in_the_admin_once_only(client, manager, care, privacy):
    login_with_otp(client, manager)
    complaints = QueueFactory(name="Complaints")
    url = f"/admin/helpdesk/queue/{complaints.pk}/change/"
    form = {
        "name": "Complaints",
        "description": "",
        "sla_hours": 4,
        "business_time_zone": "America/New_York",
        "business_day_start": "09:00",
        "business_day_end": "17:00",
        "business_weekdays": "0,1,2,3,4",
    }

    taken = client.post(url, {**form, "ticket_types": ["complaint", "erasure"]})
    assert "already takes Erasure request" in taken.content.decode()

    response = client.post(url, {**form, "ticket_types": ["complaint"]})
    assert response.status_code == 302
    complaints.refresh_from_db()
    assert complaints.ticket_types == "complaint"
    listing = client.get("/admin/helpdesk/queue/").content.decode()
    assert "Opt-out request, Data access request, Erasure request" in listing


def test_an_unknown_type_in_a_queue_is_refused(privacy):
    privacy.ticket_types = "data_access,refund"
    with pytest.raises(Exception, match="Unknown ticket type"):
        privacy.full_clean()


def test_the_queue_list_names_the_assignee_as_its_filter_does(client, agent, care):
    sam = UserFactory(username="agent2", first_name="Sam", last_name="Second-Agent")
    care.members.add(sam)
    ticket = ticket_create(queue=care, subject="Refund", channel="email", by=agent)
    ticket.assignee = sam
    ticket.save()
    client.force_login(agent)

    page = client.get(f"/tickets/queue/{care.pk}/").content.decode()

    results = page[page.index('id="results"') :]
    assert "<td>Sam Second-Agent</td>" in results and ">agent2<" not in results
    assert f'<option value="{sam.pk}">Sam Second-Agent</option>' in page


def test_the_admin_names_people_in_full_in_lists_and_choices(client, manager, agent, care):
    sam = UserFactory(username="agent2", first_name="Sam", last_name="Second-Agent")
    sam.groups.add(Group.objects.get(name=AGENTS))
    ticket = ticket_create(queue=care, subject="Refund", channel="email", by=agent)
    ticket.assignee = sam
    ticket.save()
    login_with_otp(client, manager)

    page = client.get("/admin/helpdesk/ticket/").content.decode()
    change = client.get(f"/admin/helpdesk/ticket/{ticket.pk}/change/").content.decode()
    queue = client.get(f"/admin/helpdesk/queue/{care.pk}/change/").content.decode()

    assert '<td class="field-assignee_name">Sam Second-Agent</td>' in page
    assert f'<option value="{sam.pk}" selected>Sam Second-Agent</option>' in change
    assert f'<option value="{agent.pk}" selected>{agent.get_full_name()}</option>' in queue  # a member


def test_queues_route_nothing_unless_told(care):
    assert Queue.objects.get(pk=care.pk).routed_types == set()
