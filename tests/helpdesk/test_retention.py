"""Retention of help-desk data: the data request log is kept 24 months (CCPA)
and no policy can shorten that; the closed-tickets purge removes old closed
tickets only, never open ones or a customer's on legal hold, and takes a
ticket's comments and events with it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from compliance.models import PurgeRun, RetentionPolicy
from compliance.retention import retention_purge
from core.retention import retention_categories
from helpdesk.models import Comment, DataRequestLog, Queue, Ticket, TicketEvent
from helpdesk.services import ticket_comment, ticket_create, ticket_status_set
from tests.factories import CustomerFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = timedelta(days=1)


@pytest.fixture
def queue():
    return Queue.objects.create(name="Customer care")


def request_log(days_ago: int) -> DataRequestLog:
    return DataRequestLog.objects.create(
        ticket_id=1000 + days_ago,
        request_type="data_access",
        legal_basis="ccpa",
        channel="web",
        received_at=NOW - (days_ago + 20) * DAY,
        responded_at=NOW - days_ago * DAY,
        outcome="fulfilled",
    )


def closed_ticket(queue, *, days_ago: int, status: str = "closed", customer=None) -> Ticket:
    """A ticket as imported from an older help desk: no comments or events of its own."""
    ticket = Ticket(
        queue=queue,
        subject=f"closed {days_ago} days ago",
        channel="email",
        status=status,
        customer=customer,
        due_at=NOW - (days_ago + 2) * DAY,
        resolved_at=NOW - days_ago * DAY if status in ("closed", "resolved") else None,
    )
    ticket._change_reason = "imported"
    ticket.save()
    return ticket


def assert_foreign_keys_hold():
    """PostgreSQL checks deferred foreign keys at commit, which a test never
    reaches: check them now."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_the_data_request_log_is_kept_24_months_by_default():
    category = retention_categories()["data_request_log"]
    assert category.legal_minimum_days == 730
    assert category.legal_basis == "CCPA 11 CCR 7101: consumer-request records 24 months"
    policy = RetentionPolicy.objects.get(category="data_request_log")
    assert (policy.period_days, policy.action, policy.active) == (730, "delete", True)


def test_the_data_request_log_purge_removes_only_records_past_24_months():
    old, kept = request_log(731), request_log(700)
    (run,) = retention_purge(category="data_request_log", now=NOW)
    assert (run.status, run.deleted) == ("succeeded", 1)
    assert list(DataRequestLog.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not DataRequestLog.objects.filter(pk=old.pk).exists()


def test_the_admin_refuses_to_keep_the_data_request_log_under_24_months(client, compliance_officer):
    policy = RetentionPolicy.objects.get(category="data_request_log")
    login_with_otp(client, compliance_officer)
    url = f"/admin/compliance/retentionpolicy/{policy.pk}/change/"
    answer = client.post(url, {"period_days": 729, "action": "delete", "active": "on", "note": "less data"})
    assert answer.status_code == 200
    assert "must be kept at least 730 days" in answer.content.decode()
    assert "CCPA 11 CCR 7101" in answer.content.decode()
    policy.refresh_from_db()
    assert policy.period_days == 730


def test_a_data_request_log_policy_shortened_behind_the_admins_back_purges_nothing():
    request_log(400)
    RetentionPolicy.objects.filter(category="data_request_log").update(period_days=365)
    (run,) = retention_purge(category="data_request_log", now=NOW)
    assert run.status == PurgeRun.Status.FAILED and "at least 730 days" in run.error
    assert DataRequestLog.objects.count() == 1


def test_closed_tickets_are_kept_unless_a_manager_turns_the_policy_on(queue):
    policy = RetentionPolicy.objects.get(category="closed_tickets")
    assert (policy.active, policy.period_days) == (False, 3 * 365 + 1)
    closed_ticket(queue, days_ago=5 * 365)
    runs = retention_purge(now=NOW)  # every active policy
    assert "closed_tickets" not in {run.category for run in runs}
    assert Ticket.objects.count() == 1


def test_the_closed_tickets_purge_leaves_open_tickets_and_legal_holds(queue):
    held = CustomerFactory(legal_hold=True, legal_hold_reason="litigation 2026-17")
    old_closed = closed_ticket(queue, days_ago=4 * 365)
    old_resolved = closed_ticket(queue, days_ago=4 * 365, status="resolved")
    recent = closed_ticket(queue, days_ago=365)
    on_hold = closed_ticket(queue, days_ago=4 * 365, customer=held)
    still_open = closed_ticket(queue, days_ago=4 * 365, status="pending")
    Ticket.objects.filter(pk=still_open.pk).update(created_at=NOW - 5 * 365 * DAY)
    assert Ticket.history.filter(id=old_closed.pk).exists()

    (run,) = retention_purge(category="closed_tickets", now=NOW)

    assert (run.status, run.deleted) == ("succeeded", 2), run.error
    assert set(Ticket.objects.values_list("pk", flat=True)) == {recent.pk, on_hold.pk, still_open.pk}
    assert not Ticket.history.filter(id__in=[old_closed.pk, old_resolved.pk]).exists()
    assert Ticket.history.filter(id=on_hold.pk).exists()
    assert_foreign_keys_hold()


def test_a_purged_ticket_takes_its_comments_events_and_their_history(queue, agent):
    ticket = ticket_create(queue=queue, subject="Refund", channel="phone", by=agent)
    comment = ticket_comment(ticket=ticket, body="Refund sent to Ada Quill.", public=True, by=agent)
    ticket_status_set(ticket=ticket, status="closed", by=agent)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=NOW - 4 * 365 * DAY)
    kept = ticket_create(queue=queue, subject="Open", channel="phone", by=agent)
    ticket_comment(ticket=kept, body="Still working on it.", public=False, by=agent)

    (run,) = retention_purge(category="closed_tickets", now=NOW)

    assert (run.status, run.deleted) == ("succeeded", 1), run.error
    assert list(Ticket.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Comment.history.filter(id=comment.pk).exists()
    assert not TicketEvent.objects.filter(ticket_id=ticket.pk).exists()
    assert Comment.objects.filter(ticket=kept).exists() and kept.events.exists()
    assert_foreign_keys_hold()
