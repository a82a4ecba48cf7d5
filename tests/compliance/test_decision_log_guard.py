"""The decision log is append-only in PostgreSQL itself, twice over. The
app's role (what web, worker and beat run as) has no UPDATE, DELETE or
TRUNCATE on it, nor on its chain, checkpoints and purge runs, and owns none
of them (core.db_roles): PostgreSQL refuses the statement. Behind that, the
tables' triggers refuse even the owner: no UPDATE or DELETE gets through,
except erasing a number and deleting a row past the legal minimum; links,
checkpoints and purge runs take none at all; and the database stamps when a
decision was recorded."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from compliance.decision_log import decision_log_erase, decision_log_seal, decision_log_verify
from compliance.models import DecisionChainLink, DecisionCheckpoint, DecisionRecord
from consent.services import number_hash, suppression_add
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory
from tests.owner import owner_powers

# Who sends the statement, and what refuses it: the app role's missing grant, or the owner's trigger.
AS_APP = pytest.param(connection.cursor, "permission denied", id="as the app's role")
AS_OWNER = pytest.param(owner_powers, "append-only", id="as the owner")

pytestmark = pytest.mark.django_db


@pytest.fixture
def decision(manager):
    PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360601")
    api = APIClient()
    api.force_authenticate(manager)
    answer = api.post(
        "/api/v1/compliance/check/",
        {"phone_number": "+12127360601", "campaign": CampaignFactory().pk, "at": "2026-11-17T15:00:00Z"},
        format="json",
    )
    return DecisionRecord.objects.get(pk=answer.json()["decision"])


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_decisionrecord SET allowed = NOT allowed WHERE id = %s",
        "UPDATE compliance_decisionrecord SET reasons = '[]' WHERE id = %s",
        "UPDATE compliance_decisionrecord SET ruleset_version = 'forged' WHERE id = %s",
        "DELETE FROM compliance_decisionrecord WHERE id = %s",
    ],
)
@pytest.mark.parametrize(("who", "refusal"), [AS_APP, AS_OWNER])
def test_sql_cannot_change_or_delete_a_decision(decision, statement, who, refusal):
    with (
        pytest.raises(DatabaseError, match=refusal),
        transaction.atomic(),
        who() as cursor,
    ):
        cursor.execute(statement, [decision.pk])
    assert DecisionRecord.objects.filter(pk=decision.pk, allowed=decision.allowed).exists()


def test_the_orm_cannot_either(decision):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        DecisionRecord.objects.filter(pk=decision.pk).update(reasons=["frequency_cap"])
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        decision.delete()


def test_erasing_the_number_is_the_only_change_allowed_and_sealing_changes_no_decision(decision):
    before = DecisionRecord.objects.filter(pk=decision.pk).values().get()
    assert decision_log_seal() == 1
    assert DecisionRecord.objects.filter(pk=decision.pk).values().get() == before
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        DecisionRecord.objects.filter(pk=decision.pk).update(phone_number="(erased)")  # not directly
    suppression_add(e164=decision.phone_number, source="api", reason="erasure: test")  # as an erasure does
    assert decision_log_erase([decision.phone_number]) == 1  # through the owner's function
    assert DecisionRecord.objects.get(pk=decision.pk).phone_number == "(erased)"
    assert decision_log_verify().ok
    with owner_powers() as cursor:  # the owner's trigger lets that change through, no other
        cursor.execute(
            "UPDATE compliance_decisionrecord SET phone_number = '(erased)' WHERE id = %s", [decision.pk]
        )


def test_the_erasure_door_blanks_only_a_suppressed_number(decision):
    """The app's role cannot blank the log's numbers at will: the owner's
    function needs the number's suppression entry, and the row's own hash
    must be that entry's (the key is the same)."""
    number = decision.phone_number
    assert decision_log_erase([number]) == 0  # not suppressed
    with connection.cursor() as cursor:  # nor under some other suppressed number's hash
        other = suppression_add(e164="+13055550177", source="api", reason="erasure: another person")
        cursor.execute("SELECT compliance_decision_log_erase(%s, %s)", [[number], [other.number_hash]])
        assert cursor.fetchone()[0] == 0
        with pytest.raises(DatabaseError, match="one suppression hash per number"), transaction.atomic():
            cursor.execute("SELECT compliance_decision_log_erase(%s, %s)", [[number], []])
    assert DecisionRecord.objects.get(pk=decision.pk).phone_number == number
    suppression_add(e164=number, source="api", reason="erasure: test")
    assert decision.number_hash == number_hash(number)
    assert decision_log_erase([number]) == 1
    assert DecisionRecord.objects.get(pk=decision.pk).phone_number == "(erased)"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_decisionchainlink SET row_hash = repeat('0', 64)",
        "UPDATE compliance_decisionchainlink SET position = position + 1",
        "DELETE FROM compliance_decisionchainlink",
        "UPDATE compliance_decisioncheckpoint SET head_hash = repeat('0', 64)",
        "DELETE FROM compliance_decisioncheckpoint",
    ],
)
@pytest.mark.parametrize(("who", "refusal"), [AS_APP, AS_OWNER])
def test_links_and_checkpoints_are_insert_only(decision, statement, who, refusal):
    decision_log_seal()
    assert DecisionChainLink.objects.exists() and DecisionCheckpoint.objects.exists()
    with (
        pytest.raises(DatabaseError, match=refusal),
        transaction.atomic(),
        who() as cursor,
    ):
        cursor.execute(statement)
    assert decision_log_verify().ok


@pytest.mark.parametrize(("who", "refusal"), [AS_APP, AS_OWNER])
@pytest.mark.parametrize(
    "statement",
    ["UPDATE compliance_decisionlogpurge SET deleted = 0", "DELETE FROM compliance_decisionlogpurge"],
)
def test_purge_runs_are_insert_only(db, statement, who, refusal):
    with owner_powers() as cursor:  # only the purge function writes one; the owner here
        cursor.execute(
            "INSERT INTO compliance_decisionlogpurge (bound, deleted, first_id, last_id, by_role) "
            "VALUES (now(), 3, 1, 3, current_user)"
        )
    with pytest.raises(DatabaseError, match=refusal), transaction.atomic(), who() as cursor:
        cursor.execute(statement)


def test_the_database_stamps_recorded_at_whatever_an_insert_says(decision):
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    copy = DecisionRecord.objects.filter(pk=decision.pk).values().get()
    copy.pop("id")
    forged = DecisionRecord.objects.create(**{**copy, "recorded_at": old})
    forged.refresh_from_db()
    assert forged.recorded_at == decision.recorded_at  # now(), this test's transaction's start
