"""The help desk's agent pages: who may open them, what their buttons do
(through the services), and how many queries they cost."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from accounts.services import training_record
from campaigns import dialer
from campaigns.services import targets_add
from consent.models import ConsentGrant, DncRequest
from consent.services import consent_revoke
from helpdesk.models import Comment, DataRequestLog, Ticket
from helpdesk.services import ticket_comment, ticket_create, ticket_status_set
from tests.factories import (
    CampaignFactory,
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    QueueFactory,
    TicketFactory,
    UserFactory,
)
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def queue():
    return QueueFactory(name="Customer care")


@pytest.fixture
def grace():
    customer = CustomerFactory(first_name="Grace", last_name="Hughes", email="grace.hughes@example.org")
    phone = PhoneNumberFactory(customer=customer, number="+12127360042")
    ConsentGrantFactory(
        phone_number=phone,
        purpose="marketing",
        written=True,
        source="web_form",
        granted_at=dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC),
    )
    return customer


def _open(queue, customer, by, **kwargs):
    kwargs.setdefault("subject", "Where is my order?")
    kwargs.setdefault("channel", "email")
    return ticket_create(queue=queue, customer=customer, by=by, **kwargs)


def _login(client, user):
    login_with_otp(client, user)
    return client


# Who may open what


@pytest.fixture
def urls(queue, grace, agent):
    ticket = _open(queue, grace, agent)
    return [
        "/tickets/",
        f"/tickets/queue/{queue.pk}/",
        f"/tickets/{ticket.pk}/",
        "/tickets/new/",
        f"/tickets/new/?customer={grace.pk}",
        f"/customers/{grace.pk}/",
    ]


@pytest.mark.parametrize("role", ["agent", "manager", "compliance_officer"])
def test_every_ticket_page_opens_for_agents_managers_and_compliance_officers(client, urls, role, request):
    _login(client, request.getfixturevalue(role))
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_ticket_pages_are_forbidden_to_users_without_a_role_and_ask_strangers_to_log_in(
    client, urls, outsider
):
    for url in urls:
        assert client.get(url).status_code == 302, url
    _login(client, outsider)
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_agents_may_neither_export_nor_erase_a_customer(client, queue, grace, agent):
    access = _open(queue, grace, agent, type="data_access", legal_basis="gdpr")
    erasure = _open(queue, grace, agent, type="erasure", legal_basis="gdpr")
    _login(client, agent)

    assert client.post(f"/tickets/{access.pk}/export/produce/", **HTMX).status_code == 403
    assert client.get(f"/tickets/{access.pk}/export/").status_code == 403
    assert client.get(f"/tickets/{access.pk}/export.json").status_code == 403
    assert client.post(f"/tickets/{erasure.pk}/erase/", {"confirm": "erase"}, **HTMX).status_code == 403
    assert not DataRequestLog.objects.exists()
    grace.refresh_from_db()
    assert not grace.is_erased
    page = client.get(f"/tickets/{erasure.pk}/").content.decode()
    assert "Erase customer" not in page
    assert "A compliance officer answers erasure requests" in page


def test_the_nav_shows_tickets_to_each_role(client, agent, manager, compliance_officer):
    for user in (agent, manager, compliance_officer):
        login_with_otp(client, user)
        page = client.get("/tickets/").content.decode()
        nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
        assert '<a href="/tickets/" aria-current="page">Tickets</a>' in nav, user
    client.force_login(agent)
    page = client.get("/agent/").content.decode()
    assert '<a href="/tickets/" >Tickets</a>' in page[: page.index("</nav>")]
    assert '<a href="/customers/" >Customers</a>' in page[: page.index("</nav>")]  # the agents' search
    page = client.get("/customers/").content.decode()
    assert '<a href="/customers/" aria-current="page">Customers</a>' in page[: page.index("</nav>")]


# Lists


def test_my_tickets_shows_my_open_tickets_overdue_first(client, queue, agent, manager):
    now = timezone.now()
    later = TicketFactory(
        queue=queue, assignee=agent, subject="Due later", due_at=now + dt.timedelta(hours=5)
    )
    overdue = TicketFactory(
        queue=queue, assignee=agent, subject="Past due", due_at=now - dt.timedelta(hours=1), escalated_at=now
    )
    TicketFactory(queue=queue, assignee=manager, subject="Someone else's")
    TicketFactory(queue=queue, assignee=agent, subject="Done already", status="closed")

    page = _login(client, agent).get("/tickets/").content.decode()

    assert page.index("Past due") < page.index("Due later")
    assert "overdue" in page and "escalated" in page
    assert "Someone else" not in page and "Done already" not in page
    all_mine = client.get("/tickets/?status=all").content.decode()
    assert all_mine.index("Due later") < all_mine.index("Done already")
    assert f"/tickets/{overdue.pk}/" in page and f"/tickets/{later.pk}/" in page


def test_the_queue_view_filters_by_type_overdue_and_assignee(client, queue, agent, manager):
    queue.members.add(agent, manager)
    now = timezone.now()
    TicketFactory(queue=queue, subject="Plain question", assignee=agent)
    TicketFactory(queue=queue, subject="Stop calling", type="opt_out", due_at=now - dt.timedelta(hours=2))
    TicketFactory(queue=QueueFactory(name="Other"), subject="Another queue")
    _login(client, agent)
    url = f"/tickets/queue/{queue.pk}/"

    page = client.get(url).content.decode()
    assert "Plain question" in page and "Stop calling" in page and "Another queue" not in page
    page = client.get(url, {"type": "opt_out"}).content.decode()
    assert "Stop calling" in page and "Plain question" not in page
    page = client.get(url, {"overdue": "on"}).content.decode()
    assert "Stop calling" in page and "Plain question" not in page
    page = client.get(url, {"assignee": "me"}).content.decode()
    assert "Plain question" in page and "Stop calling" not in page
    page = client.get(url, {"assignee": "none"}).content.decode()
    assert "Stop calling" in page and "Plain question" not in page
    page = client.get(url, {"assignee": str(agent.pk)}).content.decode()
    assert "Plain question" in page and "Stop calling" not in page
    assert client.get(f"/tickets/?queue={queue.pk}").url == url


def test_queue_pages_are_paginated_with_a_bounded_number_of_queries(
    client, queue, agent, django_assert_max_num_queries
):
    now = timezone.now()
    for i in range(30):
        TicketFactory(queue=queue, subject=f"Ticket number {i:02d}", due_at=now + dt.timedelta(minutes=i))
    _login(client, agent)

    with django_assert_max_num_queries(8):
        first = client.get(f"/tickets/queue/{queue.pk}/").content.decode()
    assert "Ticket number 00" in first and "Ticket number 24" in first and "Ticket number 25" not in first
    assert "page=2" in first
    second = client.get(f"/tickets/queue/{queue.pk}/", {"page": 2}).content.decode()
    assert "Ticket number 25" in second and "Ticket number 29" in second and "page=3" not in second


def test_my_tickets_costs_the_same_queries_for_many_tickets(
    client, queue, agent, django_assert_max_num_queries
):
    for _ in range(25):
        TicketFactory(queue=queue, assignee=agent)
    _login(client, agent)
    with django_assert_max_num_queries(8):
        assert client.get("/tickets/").status_code == 200


# The ticket page and its actions


def test_the_timeline_merges_replies_notes_and_events_in_order(client, queue, grace, agent):
    ticket = _open(queue, grace, agent)
    ticket_comment(ticket=ticket, body="We are on it.", public=True, by=agent)
    ticket_comment(ticket=ticket, body="Carrier says Monday.", public=False, by=agent)
    ticket_status_set(ticket=ticket, status="pending", by=agent)

    page = _login(client, agent).get(f"/tickets/{ticket.pk}/").content.decode()

    opened, reply, status, note, pending = (
        page.index("Opened via email"),
        page.index("We are on it."),
        page.index("New → Open"),
        page.index("Carrier says Monday."),
        page.index("Open → Waiting for the customer"),
    )
    assert opened < reply < status < note < pending
    assert 'class="tl tl-reply tl-comment"' in page and 'class="tl tl-note tl-comment"' in page


def test_a_note_and_a_reply_through_the_page(client, queue, grace, agent):
    ticket = _open(queue, grace, agent)
    _login(client, agent)

    response = client.post(
        f"/tickets/{ticket.pk}/comment/", {"body": "Called the carrier.", "public": "0"}, **HTMX
    )
    assert response.status_code == 200
    assert "Called the carrier." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "new"  # a note does not answer the customer

    response = client.post(
        f"/tickets/{ticket.pk}/comment/", {"body": "It ships Monday.", "public": "1"}, **HTMX
    )
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert [(c.body, c.public, c.author) for c in Comment.objects.order_by("id")] == [
        ("Called the carrier.", False, agent),
        ("It ships Monday.", True, agent),
    ]
    assert "New → Open" in response.content.decode()


def test_an_empty_comment_is_refused_inline(client, queue, grace, agent):
    ticket = _open(queue, grace, agent)
    response = _login(client, agent).post(
        f"/tickets/{ticket.pk}/comment/", {"body": "  ", "public": "0"}, **HTMX
    )
    assert response.status_code == 200
    assert "Write something first." in response.content.decode()
    assert not Comment.objects.exists()


def test_without_htmx_an_action_redirects_back_to_the_ticket(client, queue, grace, agent):
    ticket = _open(queue, grace, agent)
    response = _login(client, agent).post(
        f"/tickets/{ticket.pk}/comment/", {"body": "A note.", "public": "0"}
    )
    assert response.status_code == 302 and response.url == f"/tickets/{ticket.pk}/"


def test_assign_to_me_unassign_and_close(client, queue, grace, agent):
    ticket = _open(queue, grace, agent)
    _login(client, agent)

    page = client.post(f"/tickets/{ticket.pk}/assign/", {"to": "me"}, **HTMX).content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == agent and f"Assigned to {agent.get_full_name()}." in page

    client.post(f"/tickets/{ticket.pk}/assign/", {"to": "nobody"}, **HTMX)
    ticket.refresh_from_db()
    assert ticket.assignee is None

    page = client.post(f"/tickets/{ticket.pk}/status/", {"status": "closed"}, **HTMX).content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.resolved_at is not None
    assert "New → Closed" in page
    assert ticket.history.first().history_user == agent


def test_an_unknown_status_is_refused_inline(client, queue, grace, agent):
    ticket = _open(queue, grace, agent)
    response = _login(client, agent).post(f"/tickets/{ticket.pk}/status/", {"status": "deleted"}, **HTMX)
    assert response.status_code == 200 and "Choose a status." in response.content.decode()


def test_an_agent_applies_an_opt_out_from_the_ticket(client, queue, grace, agent):
    ticket = _open(queue, grace, agent, type="opt_out", subject="Please stop calling")
    _login(client, agent)
    assert "Apply opt-out" in client.get(f"/tickets/{ticket.pk}/").content.decode()

    page = client.post(f"/tickets/{ticket.pk}/opt-out/", **HTMX).content.decode()

    assert "Opt-out applied to +12127360042" in page and "Apply opt-out" not in page
    assert not ConsentGrant.objects.filter(revoked_at__isnull=True).exists()
    request = DncRequest.objects.get(number="+12127360042")
    assert (request.source, request.recorded_by) == ("ticket", agent)
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_an_opt_out_for_a_customer_without_numbers_is_refused_inline(client, queue, agent):
    ticket = _open(queue, CustomerFactory(), agent, type="opt_out")
    response = _login(client, agent).post(f"/tickets/{ticket.pk}/opt-out/", **HTMX)
    assert response.status_code == 200
    assert "The customer has no phone number to stop calling." in response.content.decode()


def test_a_compliance_officer_produces_the_export_then_reads_and_downloads_it(
    client, queue, grace, compliance_officer
):
    ticket = _open(queue, grace, compliance_officer, type="data_access", legal_basis="ccpa")
    _login(client, compliance_officer)
    assert client.get(f"/tickets/{ticket.pk}/export.json").status_code == 404  # not answered yet

    page = client.post(f"/tickets/{ticket.pk}/export/produce/", **HTMX).content.decode()

    assert "Export produced" in page and f"/tickets/{ticket.pk}/export.json" in page
    log = DataRequestLog.objects.get()
    assert (log.ticket_id, log.outcome, log.responded_by) == (ticket.pk, "fulfilled", compliance_officer)
    readable = client.get(f"/tickets/{ticket.pk}/export/").content.decode()
    assert (
        "grace.hughes@example.org" in readable
        and "I agree to receive autodialed marketing calls." in readable
    )
    download = client.get(f"/tickets/{ticket.pk}/export.json")
    assert download["Content-Disposition"] == f'attachment; filename="customer-{grace.pk}-data.json"'
    data = json.loads(download.content)
    assert data["customer"]["email"] == "grace.hughes@example.org"
    assert data["phone_numbers"][0]["number"] == "+12127360042"
    assert DataRequestLog.objects.count() == 1  # reading it again is no new answer


def test_a_manager_may_not_erase_from_the_ticket_page_as_the_erase_api_refuses_them(
    client, queue, grace, manager
):
    ticket = _open(queue, grace, manager, type="erasure", legal_basis="gdpr")
    _login(client, manager)

    assert client.post(f"/tickets/{ticket.pk}/erase/", {"confirm": "erase"}, **HTMX).status_code == 403
    grace.refresh_from_db()
    assert not grace.is_erased
    assert not DataRequestLog.objects.exists()
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Erase customer" not in page and "A compliance officer answers erasure requests" in page


def test_a_compliance_officer_erases_the_customer_from_an_erasure_request(
    client, queue, grace, compliance_officer
):
    ticket = _open(queue, grace, compliance_officer, type="erasure", legal_basis="gdpr")
    _login(client, compliance_officer)

    unconfirmed = client.post(f"/tickets/{ticket.pk}/erase/", **HTMX).content.decode()
    assert "Tick the box to confirm the erasure." in unconfirmed
    grace.refresh_from_db()
    assert not grace.is_erased

    page = client.post(f"/tickets/{ticket.pk}/erase/", {"confirm": "erase"}, **HTMX).content.decode()

    grace.refresh_from_db()
    assert grace.is_erased and grace.first_name != "Grace"
    assert "The customer was erased" in page and "Grace" not in page


def test_a_legal_hold_refuses_the_erasure_and_the_page_says_why(client, queue, grace, compliance_officer):
    grace.legal_hold, grace.legal_hold_reason = True, "litigation 2026-114"
    grace.save()
    ticket = _open(queue, grace, compliance_officer, type="erasure", legal_basis="ccpa")
    _login(client, compliance_officer)

    response = client.post(f"/tickets/{ticket.pk}/erase/", {"confirm": "erase"}, **HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Erasure refused" in page and "litigation 2026-114" in page
    grace.refresh_from_db()
    assert not grace.is_erased and grace.first_name == "Grace"
    assert DataRequestLog.objects.get().outcome == "refused"


@pytest.fixture
def complaint(queue, grace, agent, time_machine):
    time_machine.move_to(TUESDAY_MORNING)
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=1))
    campaign = CampaignFactory(name="Order updates")
    targets_add(campaign=campaign, numbers=["+12127360042"], by=None)
    handoff = dialer.dialer_next(campaign=campaign, agent=agent, now=timezone.now())
    ticket = _open(queue, grace, agent, type="complaint", subject="You called me at dinner")
    return ticket, handoff.attempt


def test_a_complaint_lists_its_calls_and_links_decisions_for_compliance_officers_only(
    client, complaint, agent, compliance_officer
):
    ticket, attempt = complaint
    decision_link = f'href="/compliance/decisions/{attempt.decision_id}/"'

    as_agent = _login(client, agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Order updates" in as_agent and f"#{attempt.decision_id}" in as_agent
    assert decision_link not in as_agent

    as_officer = _login(client, compliance_officer).get(f"/tickets/{ticket.pk}/").content.decode()
    assert decision_link in as_officer
    assert "flagged for compliance" in as_officer


def test_the_ticket_page_costs_a_bounded_number_of_queries(
    client, complaint, agent, django_assert_max_num_queries
):
    ticket, _ = complaint
    for i in range(20):
        ticket_comment(ticket=ticket, body=f"Note {i}", public=i % 2 == 0, by=UserFactory())
        ticket_status_set(ticket=ticket, status="pending" if i % 2 else "open", by=agent)
    _login(client, agent)
    with django_assert_max_num_queries(10):
        page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Note 19" in page


# Opening tickets


def test_opening_a_ticket_for_a_customer_from_the_form(client, queue, grace, agent):
    _login(client, agent)
    assert "Grace Hughes" in client.get(f"/tickets/new/?customer={grace.pk}").content.decode()

    response = client.post(
        "/tickets/new/",
        {
            "customer": grace.pk,
            "queue": queue.pk,
            "type": "question",
            "subject": "Wrong size delivered",
            "description": "Ordered M, got XL.",
            "channel": "phone",
            "priority": "3",
        },
    )

    ticket = Ticket.objects.get()
    assert response.url == f"/tickets/{ticket.pk}/"
    assert (ticket.customer, ticket.subject, ticket.channel, ticket.priority, ticket.created_by) == (
        grace,
        "Wrong size delivered",
        "phone",
        3,
        agent,
    )


def test_the_form_finds_the_customer_by_phone_number(client, queue, grace, agent):
    _login(client, agent)
    form = {"queue": queue.pk, "type": "opt_out", "subject": "Stop", "channel": "letter", "priority": "2"}
    response = client.post("/tickets/new/", {**form, "phone": "(212) 736-0042"})
    assert Ticket.objects.get().customer == grace, response.content.decode()

    response = client.post("/tickets/new/", {**form, "phone": "(212) 736-9999"})
    assert response.status_code == 200 and "No customer has this number." in response.content.decode()


def test_a_data_request_without_its_legal_basis_is_refused_on_the_form(client, queue, grace, agent):
    response = _login(client, agent).post(
        "/tickets/new/",
        {
            "customer": grace.pk,
            "queue": queue.pk,
            "type": "erasure",
            "subject": "Forget me",
            "channel": "web",
            "priority": "2",
        },
    )
    assert response.status_code == 200
    assert "needs its legal basis" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_quick_ticket_from_the_call_screen(client, queue, grace, agent):
    other = QueueFactory(name="Agents' queue")
    other.members.add(agent)
    response = _login(client, agent).post(
        "/tickets/quick/",
        {"customer": grace.pk, "type": "data_access", "subject": "Wants a copy of data"},
        **HTMX,
    )
    assert "needs its legal basis" in response.content.decode()

    response = client.post(
        "/tickets/quick/",
        {
            "customer": grace.pk,
            "type": "data_access",
            "subject": "Wants a copy of data",
            "legal_basis": "ccpa",
        },
        **HTMX,
    )

    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.channel, ticket.queue, ticket.type) == (
        grace,
        "agent",
        other,
        "data_access",
    )
    assert f'href="/tickets/{ticket.pk}/"' in response.content.decode()


def test_the_call_screen_offers_the_quick_ticket_form(client, queue, grace, agent, time_machine):
    time_machine.move_to(TUESDAY_MORNING)
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=1))
    campaign = CampaignFactory(name="Order updates")
    targets_add(campaign=campaign, numbers=["+12127360042"], by=None)
    page = _login(client, agent).post("/agent/dialer/next/", {"campaign": campaign.pk}).content.decode()
    assert "Customer asked for…" in page
    assert 'hx-post="/tickets/quick/"' in page and f'name="customer" value="{grace.pk}"' in page


# The agent's home and the customer page


def test_the_agent_home_lists_my_open_tickets_overdue_first(client, queue, agent):
    now = timezone.now()
    TicketFactory(queue=queue, assignee=agent, subject="Due later", due_at=now + dt.timedelta(hours=5))
    TicketFactory(queue=queue, assignee=agent, subject="Past due", due_at=now - dt.timedelta(hours=1))
    TicketFactory(queue=queue, assignee=agent, subject="Closed one", status="closed")

    page = _login(client, agent).get("/agent/").content.decode()

    tickets = page[page.index('id="tickets"') :]
    assert tickets.index("Past due") < tickets.index("Due later")
    assert "Closed one" not in tickets


def test_the_customer_page_says_consents_and_calling_status_in_plain_words(client, queue, grace, agent):
    consent_revoke(
        number="+12127360042", via="sms", by=None, at=dt.datetime(2026, 5, 2, 14, 0, tzinfo=dt.UTC)
    )
    _open(queue, grace, agent, subject="Why did you call me?")

    page = _login(client, agent).get(f"/customers/{grace.pk}/").content.decode()

    assert (
        "Written consent to marketing calls by voice, given Mar 1, 2026 via web form; revoked May 2, 2026 by SMS"
        in page
    )
    assert "On the company do-not-call list since May 2, 2026 (asked by SMS)" in page
    assert "do not call" in page
    assert "Why did you call me?" in page
    assert f"/tickets/new/?customer={grace.pk}" in page


def test_the_customer_page_costs_a_bounded_number_of_queries(
    client, queue, agent, django_assert_max_num_queries
):
    customer = CustomerFactory()
    for i in range(5):
        phone = PhoneNumberFactory(customer=customer, number=f"+1212736{i:04d}")
        ConsentGrantFactory(phone_number=phone)
        ConsentGrantFactory(phone_number=phone, purpose="informational", channel="sms", written=False)
        TicketFactory(queue=queue, customer=customer)
    _login(client, agent)
    with django_assert_max_num_queries(11):  # one more since issue 18: the RND answers
        assert client.get(f"/customers/{customer.pk}/").status_code == 200
