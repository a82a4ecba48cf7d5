"""Tickets that act: each does what it says through the existing services and
leaves history and a timeline event."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns import dialer
from campaigns.services import targets_add
from consent.models import ConsentGrant, DncRequest, SuppressionEntry
from consent.services import number_hash
from helpdesk.models import DataRequestLog, Queue, Ticket, TicketEvent
from helpdesk.services import (
    ticket_comment,
    ticket_create,
    ticket_data_access,
    ticket_erase,
    ticket_opt_out,
    ticket_status_set,
    tickets_escalate,
)
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def queue():
    return Queue.objects.create(name="Customer care", sla_hours=8)


@pytest.fixture
def grace():
    customer = CustomerFactory(first_name="Grace", last_name="Quixotic", email="grace.quixotic@example.org")
    phone = PhoneNumberFactory(customer=customer, number="+12127360501")
    ConsentGrantFactory(phone_number=phone, purpose="marketing")
    ConsentGrantFactory(phone_number=phone, purpose="informational", written=False, source="verbal")
    return customer


def test_an_opt_out_ticket_revokes_every_consent_and_files_the_dnc_request(queue, grace, agent):
    ticket = ticket_create(
        queue=queue, subject="Stop calling me", channel="email", by=agent, customer=grace, type="opt_out"
    )
    numbers = ticket_opt_out(ticket=ticket, by=agent)

    assert numbers == ["+12127360501"]
    assert not ConsentGrant.objects.filter(revoked_at__isnull=True).exists()
    assert set(ConsentGrant.objects.values_list("revoked_via", flat=True)) == {"ticket"}
    request = DncRequest.objects.get(number="+12127360501")
    assert (request.source, request.recorded_by) == ("ticket", agent)
    assert f"ticket #{ticket.pk}" in request.reason
    grant = ConsentGrant.objects.first()
    assert grant.history.first().history_user == agent
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.events.filter(kind="action", text__contains="Opt-out applied to +12127360501").exists()


def test_a_complaint_is_flagged_and_linked_to_the_last_30_days_of_calls(queue, grace, agent, time_machine):
    from accounts.services import training_record

    time_machine.move_to(TUESDAY_MORNING)
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=1))
    campaign = CampaignFactory()
    targets_add(campaign=campaign, numbers=["+12127360501"], by=None)
    handoff = dialer.dialer_next(campaign=campaign, agent=agent, now=timezone.now())
    assert handoff is not None

    ticket = ticket_create(
        queue=queue,
        subject="You called me at dinner",
        channel="phone",
        by=agent,
        customer=grace,
        type="complaint",
    )

    assert ticket.flagged_for_compliance
    assert list(ticket.related_attempts.all()) == [handoff.attempt]
    event = ticket.events.get(kind="action")
    assert event.data["decisions"] == [handoff.record.pk]


def test_a_data_access_request_exports_everything_and_is_logged(queue, grace, compliance_officer):
    ticket = ticket_create(
        queue=queue,
        subject="What do you have on me?",
        channel="web",
        by=compliance_officer,
        customer=grace,
        type="data_access",
        legal_basis="ccpa",
    )
    assert abs(ticket.due_at - ticket.created_at - dt.timedelta(days=45)) < dt.timedelta(seconds=1)  # CCPA

    export = ticket_data_access(ticket=ticket, by=compliance_officer)

    assert export["customer"]["email"] == "grace.quixotic@example.org"
    assert [c["purpose"] for c in export["consents"]] == ["marketing", "informational"]
    assert export["consents"][0]["evidence"]["disclosure_text"]
    assert export["tickets"][0]["id"] == ticket.pk
    json.dumps(export)  # a downloadable JSON file
    log = DataRequestLog.objects.get()
    assert (log.request_type, log.legal_basis, log.channel, log.outcome) == (
        "data_access",
        "ccpa",
        "web",
        "fulfilled",
    )


def test_a_data_access_export_lists_the_calls_made_to_the_customer(
    queue, grace, agent, compliance_officer, time_machine
):
    from accounts.services import training_record

    time_machine.move_to(TUESDAY_MORNING)
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=1))
    campaign = CampaignFactory(name="Autumn renewals")
    targets_add(campaign=campaign, numbers=["+12127360501"], by=None)
    handoff = dialer.dialer_next(campaign=campaign, agent=agent, now=timezone.now())
    assert handoff is not None
    ticket = ticket_create(
        queue=queue,
        subject="My data",
        channel="web",
        by=compliance_officer,
        customer=grace,
        type="data_access",
        legal_basis="ccpa",
    )

    export = ticket_data_access(ticket=ticket, by=compliance_officer)

    assert export["calls"] == [
        {
            "number": "+12127360501",
            "campaign": "Autumn renewals",
            "handed_at": handoff.attempt.handed_at.isoformat(),
            "ended_at": None,
            "outcome": "",
            "notes": "",
            "decision": handoff.record.pk,
        }
    ]


def test_an_erasure_request_leaves_no_trace_of_the_person_but_keeps_the_number_blocked(
    queue, grace, compliance_officer, manager
):
    ticket = ticket_create(
        queue=queue,
        subject="Erase Grace Quixotic",
        description="Please delete grace.quixotic@example.org and +1 212 736 0501",
        channel="email",
        by=compliance_officer,
        customer=grace,
        type="erasure",
        legal_basis="gdpr",
    )
    ticket_comment(
        ticket=ticket,
        body="Grace Quixotic confirmed by phone (212) 736-0501.",
        public=False,
        by=compliance_officer,
    )
    campaign = CampaignFactory()
    api = APIClient()
    api.force_authenticate(manager)
    api.post(
        "/api/v1/compliance/check/", {"phone_number": "+12127360501", "campaign": campaign.pk}, format="json"
    )

    assert ticket_erase(ticket=ticket, by=compliance_officer) is True

    leftovers = _search_every_text_column(
        ["Quixotic", "grace.quixotic", "2127360501", "212) 736-0501", "212 736 0501"]
    )
    assert leftovers == [], f"personal data left in: {leftovers}"
    assert SuppressionEntry.objects.filter(number_hash=number_hash("+12127360501")).exists()
    answer = api.post(
        "/api/v1/compliance/check/", {"phone_number": "+12127360501", "campaign": campaign.pk}, format="json"
    )
    assert "customer_erased" in answer.json()["reasons"]
    log = DataRequestLog.objects.get()
    assert (log.request_type, log.outcome) == ("erasure", "fulfilled")


def test_a_legal_hold_refuses_erasure_with_its_reason_on_the_ticket_and_in_the_log(queue, compliance_officer):
    held = CustomerFactory(legal_hold=True, legal_hold_reason="litigation hold, case 26-118")
    PhoneNumberFactory(customer=held, number="+12127360502")
    ticket = ticket_create(
        queue=queue,
        subject="Erase me",
        channel="letter",
        by=compliance_officer,
        customer=held,
        type="erasure",
        legal_basis="gdpr",
    )

    assert ticket_erase(ticket=ticket, by=compliance_officer) is False

    held.refresh_from_db()
    assert not held.is_erased and held.phone_numbers.get().number == "+12127360502"
    refusal = ticket.events.get(kind="refused")
    assert "legal hold" in refusal.text and "case 26-118" in refusal.text
    log = DataRequestLog.objects.get()
    assert log.outcome == "refused" and "case 26-118" in log.refusal_reason


def test_a_data_request_needs_its_legal_basis_and_its_customer(queue, agent):
    with pytest.raises(ValidationError, match="legal basis"):
        ticket_create(
            queue=queue, subject="x", channel="web", by=agent, customer=CustomerFactory(), type="erasure"
        )
    with pytest.raises(ValidationError) as error:
        ticket_create(
            queue=queue, subject="x", channel="web", by=agent, type="data_access", legal_basis="gdpr"
        )
    assert "customer" in error.value.message_dict
    assert not Ticket.objects.exists()


def test_overdue_tickets_escalate_once_and_come_first(queue, agent):
    early = ticket_create(queue=queue, subject="first", channel="email", by=agent)
    late = ticket_create(queue=queue, subject="second", channel="email", by=agent)
    Ticket.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    done = ticket_create(queue=queue, subject="done", channel="email", by=agent)
    Ticket.objects.filter(pk=done.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    ticket_status_set(ticket=done, status="closed", by=agent)

    assert tickets_escalate() == 1
    assert tickets_escalate() == 0
    late.refresh_from_db()
    assert late.escalated_at is not None and late.priority == Ticket.Priority.HIGH
    assert late.events.filter(kind=TicketEvent.Kind.ESCALATED).count() == 1
    assert list(Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES))[:2] == [late, early]
    assert late.history.first().history_change_reason == "escalated: past its due time"


def test_a_public_reply_opens_a_new_ticket_and_a_note_does_not(queue, agent):
    ticket = ticket_create(queue=queue, subject="Hello", channel="email", by=agent)
    ticket_comment(ticket=ticket, body="Internal: check the order", public=False, by=agent)
    ticket.refresh_from_db()
    assert ticket.status == "new"
    ticket_comment(ticket=ticket, body="Thanks, we are on it.", public=True, by=agent)
    ticket.refresh_from_db()
    assert ticket.status == "open"
    with pytest.raises(ValidationError):
        ticket_comment(ticket=ticket, body="   ", public=True, by=agent)


def _search_every_text_column(needles: list[str]) -> list[str]:
    """Every (table.column, needle) where a text, varchar or JSON column of
    the database still holds one of the needles (case-insensitive)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column in columns:
            for needle in needles:
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s', [f"%{needle}%"]
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column} ~ {needle}")
    return found


def test_an_opt_out_is_applied_once(queue, grace, agent):
    ticket = ticket_create(
        queue=queue, subject="Stop", channel="email", by=agent, customer=grace, type="opt_out"
    )
    ticket_opt_out(ticket=ticket, by=agent)
    with pytest.raises(ValidationError, match="already applied"):
        ticket_opt_out(ticket=ticket, by=agent)
    assert DncRequest.objects.filter(number="+12127360501").count() == 1
