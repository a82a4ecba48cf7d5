"""The tickets API: contract field names, 400s naming the field, roles,
filters, and a bounded number of queries per page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.models import Comment, Queue, Ticket
from helpdesk.services import ticket_comment, ticket_create
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def queue():
    return Queue.objects.create(name="Customer care", sla_hours=8)


@pytest.fixture
def customer():
    return CustomerFactory(first_name="Ada", last_name="Quill")


def open_ticket(queue, by, **fields):
    return ticket_create(
        queue=queue,
        subject=fields.pop("subject", "Where is my order?"),
        channel=fields.pop("channel", "phone"),
        by=by,
        **fields,
    )


def test_an_agent_opens_a_ticket_with_the_contract_fields(agent, queue, customer):
    response = api_for(agent).post(
        "/api/v1/tickets/",
        {
            "queue": queue.pk,
            "subject": "Asked for a copy of their data",
            "description": "On the phone, after the order call.",
            "type": "data_access",
            "channel": "agent",
            "customer": customer.pk,
            "priority": 3,
            "legal_basis": "ccpa",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert (ticket.type, ticket.channel, ticket.customer, ticket.priority) == (
        "data_access",
        "agent",
        customer,
        3,
    )
    assert (body["status"], body["queue"], body["queue_name"], body["customer"]) == (
        "new",
        queue.pk,
        "Customer care",
        customer.pk,
    )
    assert body["legal_basis"] == "ccpa" and body["overdue"] is False and body["assignee"] is None
    # CCPA: 45 calendar days, whatever the queue's business hours.
    assert abs(ticket.due_at - (ticket.created_at + timedelta(days=45))) < timedelta(seconds=5)
    assert ticket.history.get().history_user == agent
    assert ticket.events.get().kind == "created"
    assert ticket.created_by == agent


def test_a_question_needs_only_queue_subject_and_channel(agent, queue):
    response = api_for(agent).post(
        "/api/v1/tickets/", {"queue": queue.pk, "subject": "Opening hours?", "channel": "web"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["type"] == "question" and response.json()["priority"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"queue": 999_999}, "queue"),
        ({"queue": None}, "queue"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"type": "praise"}, "type"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": 9}, "priority"),
        ({"priority": "urgent"}, "priority"),
        ({"customer": 999_999}, "customer"),
        ({"legal_basis": "lgpd"}, "legal_basis"),
        ({"type": "erasure", "customer": None, "legal_basis": "gdpr"}, "customer"),  # the service refuses
        ({"type": "opt_out", "customer": None}, "customer"),  # the service refuses
        ({"type": "data_access", "legal_basis": ""}, "legal_basis"),
    ],
)
def test_bad_ticket_input_is_a_400_naming_the_field(agent, queue, customer, change, field):
    payload = {"queue": queue.pk, "subject": "Help", "channel": "email", "customer": customer.pk, **change}
    response = api_for(agent).post("/api/v1/tickets/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Ticket.objects.exists()


def test_a_non_object_body_is_a_400_not_a_500(agent):
    response = api_for(agent).post("/api/v1/tickets/", "[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_patching_the_status_leaves_history_and_a_timeline_event(agent, queue):
    ticket = open_ticket(queue, agent)
    response = api_for(agent).patch(
        f"/api/v1/tickets/{ticket.pk}/", {"status": "resolved", "note": "address changed"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "resolved" and response.json()["resolved_at"]
    ticket.refresh_from_db()
    latest = ticket.history.first()
    assert (latest.status, latest.history_user, latest.history_change_reason) == (
        "resolved",
        agent,
        "status: resolved",
    )
    event = ticket.events.get(kind="status")
    assert event.actor == agent and "address changed" in event.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": "new"}, "status"),  # a ticket never goes back to new
        ({}, "status"),
        ({"status": "closed", "subject": "renamed"}, "subject"),
        ({"status": "closed", "assignee": 1}, "assignee"),
    ],
)
def test_a_bad_patch_is_a_400_and_changes_nothing(agent, queue, payload, field):
    ticket = open_ticket(queue, agent)
    response = api_for(agent).patch(f"/api/v1/tickets/{ticket.pk}/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.subject) == ("new", "Where is my order?")


def test_tickets_are_never_put_or_deleted(agent, queue):
    ticket = open_ticket(queue, agent)
    client = api_for(agent)
    assert client.put(f"/api/v1/tickets/{ticket.pk}/", {"status": "closed"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/tickets/{ticket.pk}/").status_code == 405
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_assigning_and_unassigning(agent, manager, queue):
    ticket = open_ticket(queue, manager)
    client = api_for(manager)

    response = client.post(f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": agent.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["assignee"], response.json()["assignee_username"]) == (agent.pk, "alice.agent")
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.history.first().history_user == manager
    assert ticket.events.filter(kind="assigned", actor=manager).exists()

    response = client.post(f"/api/v1/tickets/{ticket.pk}/assign/", {"assignee": None}, format="json")
    assert response.status_code == 200 and response.json()["assignee"] is None
    ticket.refresh_from_db()
    assert ticket.assignee is None


@pytest.mark.parametrize("assignee", ["outsider", "inactive", 999_999, "me", None])
def test_assigning_to_someone_who_cannot_work_tickets_is_a_400(agent, outsider, superuser, queue, assignee):
    ticket = open_ticket(queue, agent)
    if assignee == "inactive":
        agent.is_active = False
        agent.save()
        assignee = agent.pk
    elif assignee == "outsider":
        assignee = outsider.pk
    payload = {} if assignee is None else {"assignee": assignee}
    response = api_for(superuser).post(f"/api/v1/tickets/{ticket.pk}/assign/", payload, format="json")
    assert response.status_code == 400, response.content
    assert "assignee" in response.json()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_replies_and_notes_through_the_comments_endpoint(agent, queue):
    ticket = open_ticket(queue, agent)
    client = api_for(agent)
    url = f"/api/v1/tickets/{ticket.pk}/comments/"

    note = client.post(url, {"body": "Customer sounded upset.", "public": False}, format="json")
    reply = client.post(url, {"body": "Your parcel ships tomorrow.", "public": True}, format="json")

    assert note.status_code == reply.status_code == 201, (note.json(), reply.json())
    assert set(reply.json()) == {"id", "ticket", "author", "body", "public", "created_at"}
    assert (reply.json()["ticket"], reply.json()["author"], reply.json()["public"]) == (
        ticket.pk,
        agent.pk,
        True,
    )
    listed = client.get(url).json()["results"]
    assert [(c["body"], c["public"]) for c in listed] == [
        ("Customer sounded upset.", False),
        ("Your parcel ships tomorrow.", True),
    ]
    ticket.refresh_from_db()
    assert ticket.status == "open"  # a public reply opens a new ticket
    assert Comment.objects.get(public=True).history.get().history_user == agent


def test_a_comment_defaults_to_an_internal_note(agent, queue):
    ticket = open_ticket(queue, agent)
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "FYI"}, format="json")
    assert response.status_code == 201 and response.json()["public"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"body": "   "}, "body"), ({}, "body"), ({"body": "hi", "public": "perhaps"}, "public")],
)
def test_a_bad_comment_is_a_400_naming_the_field(agent, queue, payload, field):
    ticket = open_ticket(queue, agent)
    response = api_for(agent).post(f"/api/v1/tickets/{ticket.pk}/comments/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Comment.objects.exists()


def test_comments_of_an_unknown_ticket_are_a_404(agent):
    assert api_for(agent).get("/api/v1/tickets/999999/comments/").status_code == 404
    assert (
        api_for(agent).post("/api/v1/tickets/999999/comments/", {"body": "x"}, format="json").status_code
        == 404
    )


@pytest.mark.parametrize("persona", ["agent", "manager", "compliance_officer"])
def test_every_role_works_tickets(request, persona, queue):
    user = request.getfixturevalue(persona)
    client = api_for(user)
    created = client.post(
        "/api/v1/tickets/", {"queue": queue.pk, "subject": "Hello", "channel": "sms"}, format="json"
    )
    assert created.status_code == 201
    ticket_id = created.json()["id"]
    assert client.get("/api/v1/tickets/").status_code == 200
    assert client.get(f"/api/v1/tickets/{ticket_id}/").status_code == 200
    assert client.patch(f"/api/v1/tickets/{ticket_id}/", {"status": "open"}, format="json").status_code == 200
    assert (
        client.post(f"/api/v1/tickets/{ticket_id}/comments/", {"body": "ok"}, format="json").status_code
        == 201
    )


def test_users_without_a_role_and_anonymous_callers_get_nothing(outsider, agent, queue):
    ticket = open_ticket(queue, agent)
    for client in (api_for(outsider), APIClient()):
        assert client.get("/api/v1/tickets/").status_code in (401, 403)
        assert client.get(f"/api/v1/tickets/{ticket.pk}/").status_code in (401, 403)
        assert client.get(f"/api/v1/tickets/{ticket.pk}/comments/").status_code in (401, 403)
        payload = {"queue": queue.pk, "subject": "x", "channel": "sms"}
        assert client.post("/api/v1/tickets/", payload, format="json").status_code in (401, 403)
        assert client.patch(
            f"/api/v1/tickets/{ticket.pk}/", {"status": "closed"}, format="json"
        ).status_code in (
            401,
            403,
        )
    assert Ticket.objects.count() == 1 and Ticket.objects.get().status == "new"


def test_the_list_filters(agent, manager, queue, customer):
    other_queue = Queue.objects.create(name="Complaints", sla_hours=4)
    mine = open_ticket(queue, agent, assignee=agent)
    complaint = open_ticket(other_queue, agent, type="complaint", customer=customer, subject="Rude caller")
    closed = open_ticket(queue, agent)
    Ticket.objects.filter(pk=closed.pk).update(status="closed", due_at=timezone.now() - timedelta(days=3))
    late = open_ticket(queue, agent, assignee=manager)
    Ticket.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    client = api_for(agent)

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/tickets/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids("") == {mine.pk, complaint.pk, closed.pk, late.pk}
    assert ids("status=closed") == {closed.pk}
    assert ids("type=complaint") == {complaint.pk}
    assert ids(f"queue={other_queue.pk}") == {complaint.pk}
    assert ids(f"customer={customer.pk}") == {complaint.pk}
    assert ids(f"assignee={manager.pk}") == {late.pk}
    assert ids("assignee=me") == {mine.pk}
    assert ids("assignee=none") == {complaint.pk, closed.pk}
    assert ids("overdue=true") == {late.pk}  # closed and past due is not overdue
    assert ids("overdue=false") == {mine.pk, complaint.pk, closed.pk}
    assert ids(f"status=new&queue={queue.pk}&overdue=true") == {late.pk}
    row = next(r for r in client.get("/api/v1/tickets/").json()["results"] if r["id"] == late.pk)
    assert row["overdue"] is True


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=urgent", "status"),
        ("type=praise", "type"),
        ("queue=abc", "queue"),
        ("customer=-1", "customer"),
        ("assignee=somebody", "assignee"),
        ("overdue=maybe", "overdue"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(agent, query, field):
    response = api_for(agent).get(f"/api/v1/tickets/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_page_of_tickets_costs_the_same_few_queries_however_many(agent, manager, queue, customer):
    def list_queries() -> int:
        client = api_for(type(agent).objects.get(pk=agent.pk))  # roles are cached per user object
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/tickets/?limit=100")
        assert response.status_code == 200
        return len(queries)

    for _ in range(2):
        open_ticket(queue, agent, assignee=manager, customer=customer, type="complaint")
    few = list_queries()
    for i in range(20):
        ticket = open_ticket(queue, agent, assignee=agent if i % 2 else manager, customer=customer)
        ticket_comment(ticket=ticket, body="note", public=False, by=agent)
    assert list_queries() == few <= 6


def test_a_page_of_comments_costs_the_same_few_queries_however_many(agent, queue):
    ticket = open_ticket(queue, agent)
    url = f"/api/v1/tickets/{ticket.pk}/comments/"
    ticket_comment(ticket=ticket, body="first", public=False, by=agent)
    with CaptureQueriesContext(connection) as one:
        assert api_for(type(agent).objects.get(pk=agent.pk)).get(url).status_code == 200
    for i in range(15):
        ticket_comment(ticket=ticket, body=f"note {i}", public=bool(i % 2), by=agent)
    with CaptureQueriesContext(connection) as many:
        assert len(api_for(type(agent).objects.get(pk=agent.pk)).get(url).json()["results"]) == 16
    assert len(many) == len(one) <= 5


def test_the_schema_documents_the_ticket_endpoints(manager):
    schema = api_for(manager).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/tickets/"])
    assert {"get", "patch"} <= set(paths["/api/v1/tickets/{id}/"])
    assert "post" in paths["/api/v1/tickets/{id}/assign/"]
    assert {"get", "post"} <= set(paths["/api/v1/tickets/{ticket_id}/comments/"])
    filters = {p["name"] for p in paths["/api/v1/tickets/"]["get"]["parameters"]}
    assert {"status", "type", "queue", "assignee", "overdue", "customer"} <= filters
