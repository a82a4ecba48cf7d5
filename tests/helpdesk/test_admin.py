"""The help-desk admin for managers and compliance officers: lists and
filters, changes through the services (history with the user, a timeline
event), the request log read-only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk.models import DataRequestLog, Queue, Ticket
from helpdesk.services import ticket_comment, ticket_create
from tests.factories import CustomerFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/helpdesk/ticket/"


@pytest.fixture
def queue():
    return Queue.objects.create(name="Customer care", sla_hours=8)


def open_ticket(queue, by, subject="Where is my order?", **fields):
    return ticket_create(
        queue=queue, subject=subject, channel=fields.pop("channel", "phone"), by=by, **fields
    )


def listed(client, query: str = "") -> str:
    response = client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("persona", ["manager", "compliance_officer"])
def test_managers_and_compliance_officers_list_and_filter_tickets(request, persona, queue, agent):
    client = request.getfixturevalue("client")
    login_with_otp(client, request.getfixturevalue(persona))
    late = open_ticket(queue, agent, subject="Late parcel")
    Ticket.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=2))
    complaint = open_ticket(
        queue, agent, subject="Rude caller", type="complaint", customer=CustomerFactory(last_name="Zed")
    )
    done = open_ticket(queue, agent, subject="Loyalty card")
    Ticket.objects.filter(pk=done.pk).update(status="closed", due_at=timezone.now() - timedelta(days=2))

    page = listed(client)
    assert "Late parcel" in page and "Rude caller" in page and "Loyalty card" in page
    page = listed(client, "overdue=yes")
    assert "Late parcel" in page and "Rude caller" not in page and "Loyalty card" not in page
    page = listed(client, "flagged_for_compliance__exact=1")
    assert "Rude caller" in page and "Late parcel" not in page
    page = listed(client, "type__exact=complaint")
    assert "Rude caller" in page and "Late parcel" not in page
    page = listed(client, "status__exact=closed")
    assert "Loyalty card" in page and "Late parcel" not in page
    page = listed(client, f"queue__id__exact={queue.pk}")
    assert "Late parcel" in page
    page = listed(client, f"q=%23{complaint.pk}")
    assert "Rude caller" in page and "Late parcel" not in page
    page = listed(client, "q=parcel")
    assert "Late parcel" in page and "Rude caller" not in page

    detail = client.get(f"{CHANGELIST}{complaint.pk}/change/")
    assert detail.status_code == 200
    assert "Flagged for compliance officers" in detail.content.decode()  # the timeline inline


def test_a_status_change_in_the_admin_goes_through_the_service(client, manager, agent, queue):
    ticket = open_ticket(queue, agent)
    ticket_comment(ticket=ticket, body="Customer called twice.", public=False, by=agent)
    client.force_login(manager)
    url = f"{CHANGELIST}{ticket.pk}/change/"
    page = client.get(url).content.decode()
    assert "Customer called twice." in page  # comments shown, read-only

    response = client.post(
        url,
        {
            "subject": ticket.subject,
            "description": "",
            "queue": queue.pk,
            "status": "closed",
            "assignee": agent.pk,
            "priority": 2,
            "change_reason": "duplicate of an earlier ticket",
            **_empty_inlines(),
        },
    )

    assert response.status_code == 302, _errors(response)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.resolved_at is not None) == ("closed", agent, True)
    status_row = ticket.history.filter(status="closed").order_by("history_date").first()
    assert (status_row.history_user, status_row.history_change_reason) == (manager, "status: closed")
    assert ticket.history.first().history_change_reason == "assigned"
    event = ticket.events.get(kind="status")
    assert event.actor == manager
    assert event.text == "New → Closed: duplicate of an earlier ticket"
    assert ticket.events.filter(kind="assigned", actor=manager).exists()
    history = client.get(f"{url.removesuffix('change/')}history/").content.decode()
    assert manager.username in history and "status: closed" in history


def test_other_fields_change_with_a_history_reason(client, compliance_officer, agent, queue):
    ticket = open_ticket(queue, agent)
    login_with_otp(client, compliance_officer)
    response = client.post(
        f"{CHANGELIST}{ticket.pk}/change/",
        {
            "subject": "Where is my order? (2 parcels)",
            "description": "",
            "queue": queue.pk,
            "status": "new",
            "assignee": "",
            "priority": 3,
            "flagged_for_compliance": "on",
            "change_reason": "caller mentioned a recording",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 302, _errors(response)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.flagged_for_compliance) == (3, True)
    latest = ticket.history.first()
    assert latest.history_user == compliance_officer
    assert latest.history_change_reason.endswith("changed in the admin: caller mentioned a recording")
    assert not ticket.events.filter(kind="status").exists()  # the status did not change


def test_a_manager_opens_a_ticket_in_the_admin_through_the_service(client, manager, queue):
    customer = CustomerFactory()
    client.force_login(manager)
    response = client.post(
        f"{CHANGELIST}add/",
        {
            "queue": queue.pk,
            "subject": "Erase me",
            "description": "By letter.",
            "customer": customer.pk,
            "type": "erasure",
            "channel": "letter",
            "legal_basis": "gdpr",
            "priority": 2,
            "assignee": "",
            **_empty_inlines(),
        },
    )
    assert response.status_code == 302, _errors(response)
    ticket = Ticket.objects.get()
    assert (ticket.created_by, ticket.type, ticket.legal_basis) == (manager, "erasure", "gdpr")
    assert abs(ticket.due_at - (ticket.created_at + timedelta(days=30))) < timedelta(seconds=5)
    assert ticket.events.filter(kind="created").exists()


def test_a_data_request_without_customer_or_basis_is_refused_in_the_admin(client, manager, queue):
    client.force_login(manager)
    response = client.post(
        f"{CHANGELIST}add/",
        {
            "queue": queue.pk,
            "subject": "Copy of my data",
            "type": "data_access",
            "channel": "email",
            "priority": 2,
            **_empty_inlines(),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "must name the customer" in page and "needs its legal basis" in page
    assert not Ticket.objects.exists()


def test_managers_keep_queues_and_compliance_officers_only_read_them(
    client, manager, compliance_officer, agent
):
    client.force_login(manager)
    response = client.post(
        "/admin/helpdesk/queue/add/",
        {
            "name": "Complaints",
            "description": "",
            "members": [agent.pk],
            "sla_hours": 4,
            "business_time_zone": "America/Chicago",
            "business_day_start": "08:00",
            "business_day_end": "18:00",
            "business_weekdays": "0,1,2,3,4,5",
        },
    )
    assert response.status_code == 302, _errors(response)
    queue = Queue.objects.get(name="Complaints")
    assert list(queue.members.all()) == [agent]
    assert queue.history.get().history_user == manager

    login_with_otp(client, compliance_officer)
    assert client.get("/admin/helpdesk/queue/").status_code == 200
    assert client.get("/admin/helpdesk/queue/add/").status_code == 403
    assert client.get(f"{CHANGELIST}add/").status_code == 403


def test_the_data_request_log_is_read_only_and_for_compliance_officers(client, compliance_officer, manager):
    row = DataRequestLog.objects.create(
        ticket_id=41,
        request_type="erasure",
        legal_basis="ccpa",
        channel="web",
        received_at=timezone.now() - timedelta(days=3),
        responded_at=timezone.now(),
        outcome="refused",
        refusal_reason="Customer on legal hold.",
    )
    login_with_otp(client, compliance_officer)
    assert "Customer on legal hold." in client.get("/admin/helpdesk/datarequestlog/").content.decode()
    url = f"/admin/helpdesk/datarequestlog/{row.pk}/change/"
    assert client.get(url).status_code == 200  # viewable
    client.post(url, {"outcome": "fulfilled", "refusal_reason": ""})
    client.post(f"/admin/helpdesk/datarequestlog/{row.pk}/delete/", {"post": "yes"})
    row.refresh_from_db()
    assert row.outcome == "refused"

    client.force_login(manager)
    assert client.get("/admin/helpdesk/datarequestlog/").status_code == 403


def test_tickets_cannot_be_deleted_in_the_admin(client, superuser, agent, queue):
    ticket = open_ticket(queue, agent)
    login_with_otp(client, superuser)
    client.post(f"{CHANGELIST}{ticket.pk}/delete/", {"post": "yes"})
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def _empty_inlines() -> dict:
    management = {}
    for prefix in ("comments", "events"):
        management |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return management


def _errors(response) -> str:
    context = getattr(response, "context", None)
    if context and "adminform" in context:
        return f"{context['adminform'].form.errors} {context.get('inline_admin_formsets')}"
    return response.content.decode()[:2000]
