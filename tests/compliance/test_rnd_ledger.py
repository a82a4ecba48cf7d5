"""The RND query ledger is append-only in PostgreSQL itself (the app's role
may only SELECT and INSERT; the owner's trigger refuses UPDATE and DELETE
but the erasure of a number), stamped by the database, and hash-chained:
verify names a row edited by someone with the owner's powers."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from compliance.erasure import customer_erase
from compliance.rnd.chain import RndEntry, rnd_ledger_append, rnd_ledger_erase, rnd_ledger_verify
from compliance.rnd.models import RndQuery
from consent.services import number_hash, suppression_add
from core.db_roles import app_privileges
from tests.factories import ConsentGrantFactory, PhoneNumberFactory
from tests.owner import owner_powers

AS_APP = pytest.param(connection.cursor, "permission denied", id="as the app's role")
AS_OWNER = pytest.param(owner_powers, "append-only", id="as the owner")

pytestmark = pytest.mark.django_db

QUERIED = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def _entry(number="+12125550140", answer="no", day=dt.date(2024, 3, 1), **extra):
    return RndEntry(
        number=number,
        date_sent=day,
        date_kind="manual",
        answer=answer,
        provider="recorded",
        queried_at=QUERIED,
        response_sha256="ab" * 32,
        **extra,
    )


@pytest.fixture
def rows():
    return rnd_ledger_append([_entry(), _entry("+12125550141", "yes"), _entry("+12125550142", "no_data")])


def test_appended_rows_chain_and_verify(rows):
    assert [r.prev_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
    assert rows[0].number_hash == number_hash("+12125550140")
    assert rnd_ledger_verify().ok and rnd_ledger_verify().checked == 3
    rnd_ledger_append([_entry("+12125550143")])  # a later transaction continues the chain
    assert rnd_ledger_verify().checked == 4


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_rndquery SET answer = 'no' WHERE id = %s",
        "UPDATE compliance_rndquery SET queried_at = queried_at + interval '20 days' WHERE id = %s",
        "DELETE FROM compliance_rndquery WHERE id = %s",
    ],
)
@pytest.mark.parametrize(("who", "refusal"), [AS_APP, AS_OWNER])
def test_sql_cannot_change_or_delete_an_answer(rows, statement, who, refusal):
    with pytest.raises(DatabaseError, match=refusal), transaction.atomic(), who() as cursor:
        cursor.execute(statement, [rows[1].pk])
    assert RndQuery.objects.get(pk=rows[1].pk).answer == "yes"


def test_the_orm_cannot_either(rows):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        RndQuery.objects.filter(pk=rows[1].pk).update(answer="no")
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        RndQuery.objects.filter(pk=rows[1].pk).delete()


def test_the_app_role_has_only_select_and_insert():
    assert not [problem for problem in app_privileges() if "rndquery" in problem]


def test_an_edited_row_is_named(rows):
    with owner_powers() as cursor:  # someone with the owner's powers, triggers off
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("UPDATE compliance_rndquery SET answer = 'no' WHERE id = %s", [rows[1].pk])
        finally:
            cursor.execute("RESET session_replication_role")
    check = rnd_ledger_verify()
    assert (check.ok, check.broken_id, check.checked) == (False, rows[1].pk, 1)
    assert "changed" in check.problem
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_rnd_ledger")
    assert exit_code.value.code == 1


def test_a_removed_row_is_named_by_the_next(rows):
    with owner_powers() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("DELETE FROM compliance_rndquery WHERE id = %s", [rows[1].pk])
        finally:
            cursor.execute("RESET session_replication_role")
    check = rnd_ledger_verify()
    assert (check.ok, check.broken_id) == (False, rows[2].pk)


def test_the_database_stamps_recorded_at(rows):
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        now = cursor.fetchone()[0]
    assert {row.recorded_at for row in RndQuery.objects.all()} == {now}


def test_erasure_blanks_the_number_and_keeps_the_chain():
    consent = ConsentGrantFactory(phone_number=PhoneNumberFactory(number="+12125550150"))
    rnd_ledger_append([_entry("+12125550150", consent_id=consent.pk), _entry("+12125550151")])
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        RndQuery.objects.filter(phone_number="+12125550150").update(phone_number="(erased)")  # not directly
    customer_erase(customer=consent.phone_number.customer, by=None, via="command", reason="test")
    assert sorted(RndQuery.objects.values_list("phone_number", flat=True)) == ["(erased)", "+12125550151"]
    assert rnd_ledger_verify().ok
    assert rnd_ledger_erase(["+12125550150"]) == 0  # already erased


def test_the_erase_door_blanks_only_a_suppressed_number():
    """The app's role cannot blank ledger rows of someone not erased: the
    owner's door asks for the number's suppression entry (migration 0014)."""
    rnd_ledger_append([_entry("+12125550152")])
    assert rnd_ledger_erase(["+12125550152"]) == 0
    assert RndQuery.objects.get().phone_number == "+12125550152"
    suppression_add(e164="+12125550152", source="api", reason="erased")
    assert rnd_ledger_erase(["+12125550152"]) == 1
    assert RndQuery.objects.get().phone_number == "(erased)" and rnd_ledger_verify().ok


def test_the_nightly_verify_checks_the_rnd_ledger_too(rows, caplog):
    """An edited RND answer is named by the nightly task, beside the decision log's result."""
    from compliance.tasks import decision_log_verify_task

    assert decision_log_verify_task()["rnd_ledger"]["ok"] is True
    with owner_powers() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute("UPDATE compliance_rndquery SET answer = 'no' WHERE id = %s", [rows[1].pk])
        finally:
            cursor.execute("RESET session_replication_role")
    result = decision_log_verify_task()["rnd_ledger"]
    assert (result["ok"], result["broken_id"]) == (False, rows[1].pk)
    assert f"RND query ledger BROKEN at query #{rows[1].pk}" in caplog.text
