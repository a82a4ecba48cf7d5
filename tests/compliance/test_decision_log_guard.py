"""The decision log is append-only in PostgreSQL itself: no UPDATE or DELETE
gets through, whoever sends it, except sealing and erasing a number."""

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from compliance.decision_log import decision_log_seal, decision_log_verify
from compliance.models import DecisionRecord
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory

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
def test_sql_cannot_change_or_delete_a_decision(decision, statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [decision.pk])
    assert DecisionRecord.objects.filter(pk=decision.pk, allowed=decision.allowed).exists()


def test_the_orm_cannot_either(decision):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DecisionRecord.objects.filter(pk=decision.pk).update(reasons=["frequency_cap"])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        decision.delete()


def test_sealing_and_erasing_the_number_are_the_only_changes_allowed(decision):
    assert decision_log_seal() == 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DecisionRecord.objects.filter(pk=decision.pk).update(row_hash="0" * 64)  # no resealing
    DecisionRecord.objects.filter(pk=decision.pk).update(phone_number="(erased)")
    assert decision_log_verify().ok
