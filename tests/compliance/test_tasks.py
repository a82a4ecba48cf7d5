"""The decision log is sealed and verified by the Celery worker on beat's
schedule: a real worker consuming from Redis, not an eager call."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from compliance.decision_log import decision_log_verify
from compliance.models import DecisionRecord
from compliance.tasks import decision_log_seal_task, decision_log_verify_task
from config.celery import app
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp
from tests.owner import owner_powers


def test_beat_schedules_sealing_every_minute_and_a_nightly_verification(db):
    call_command("setup_periodic_tasks")
    scheduled = {task.task: task for task in PeriodicTask.objects.filter(enabled=True)}
    seal = scheduled["compliance.decision_log_seal"]
    assert (seal.crontab.minute, seal.crontab.hour) == ("*", "*")
    verify = scheduled["compliance.decision_log_verify"]
    assert (verify.crontab.minute, verify.crontab.hour) == ("30", "3")
    # Every scheduled name is a task the worker knows.
    assert set(scheduled) <= set(app.tasks)


@pytest.mark.django_db(transaction=True)
def test_the_worker_seals_new_decisions_into_an_intact_chain(manager):
    customer = CustomerFactory(state="NY", postal_code="10001")
    PhoneNumberFactory(customer=customer, number="+12127360101")
    campaign = CampaignFactory()
    api = APIClient()
    api.force_authenticate(manager)
    for at in ("2026-11-17T15:00:00Z", "2026-11-17T23:00:00Z", "2026-11-18T03:00:00Z"):
        answer = api.post(
            "/api/v1/compliance/check/",
            {"phone_number": "+12127360101", "campaign": campaign.pk, "at": at},
            format="json",
        )
        assert answer.status_code == 200, answer.content
    assert DecisionRecord.objects.filter(chain_link__isnull=True).count() == 3

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        decision_log_seal_task.delay()
        deadline = time.monotonic() + 20
        while DecisionRecord.objects.filter(chain_link__isnull=True).exists():
            assert time.monotonic() < deadline, "the worker did not seal the log within 20 s"
            time.sleep(0.1)

    positions = list(DecisionRecord.objects.order_by("id").values_list("chain_link__position", flat=True))
    assert positions == [1, 2, 3]
    check = decision_log_verify()
    assert (check.ok, check.checked, check.unsealed) == (True, 3, 0)


def test_the_nightly_verification_names_the_first_tampered_row_and_alerts_the_audit_page(
    db, manager, compliance_officer, client, caplog
):
    customer = CustomerFactory(state="NY", postal_code="10001")
    PhoneNumberFactory(customer=customer, number="+12127360102")
    campaign = CampaignFactory()
    api = APIClient()
    api.force_authenticate(manager)
    for at in ("2026-11-17T15:00:00Z", "2026-11-17T16:00:00Z"):
        api.post(
            "/api/v1/compliance/check/",
            {"phone_number": "+12127360102", "campaign": campaign.pk, "at": at},
            format="json",
        )
    decision_log_seal_task()
    _first, second = DecisionRecord.objects.order_by("id")
    # The owner (a superuser here) edits a logged reason in SQL, with the append-only trigger disabled.
    with owner_powers() as cursor:
        cursor.execute("SET session_replication_role = replica")  # triggers off for this session
        cursor.execute(
            "UPDATE compliance_decisionrecord SET reasons = '[\"outside_calling_hours\"]' WHERE id = %s",
            [second.pk],
        )
        cursor.execute("SET session_replication_role = DEFAULT")

    result = decision_log_verify_task()

    assert (result["ok"], result["broken_id"], result["checked"]) == (False, second.pk, 1)
    assert f"decision log BROKEN at row #{second.pk}" in caplog.text
    login_with_otp(client, compliance_officer)
    page = client.get("/compliance/").content.decode()
    assert "hash chain is broken" in page and f"#{second.pk}</a>" in page
