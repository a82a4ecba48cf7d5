"""The decision log's watch cannot be quietly stopped (issue 15, item 5): a
periodic task that differs from what setup_periodic_tasks defines, or a
verify more than 26 hours old, shows on the audit page and in /healthz and
is logged; only superusers change a periodic task in the admin, compliance
officers keep "run now"."""

import datetime as dt
import io
import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from rest_framework.test import APIClient

from compliance.models import ChainVerification, TaskHeartbeat
from compliance.tasks import decision_log_seal_task, decision_log_verify_task
from compliance.watch import decision_log_watch, schedule_drift
from config.celery import app
from core.schedule import MANAGED_PREFIX
from tests.campaigns.conftest import ny_phone
from tests.factories import CampaignFactory
from tests.otp import login_with_otp

VERIFY = "verify the decision log"
SEAL = "seal the decision log"


@pytest.fixture
def schedule(db):
    """The beat schedule as setup_periodic_tasks writes it."""
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    return {task.name.removeprefix(MANAGED_PREFIX): task for task in PeriodicTask.objects.all()}


def _verify_row() -> PeriodicTask:
    return PeriodicTask.objects.get(name=MANAGED_PREFIX + VERIFY)


def _disable(row: PeriodicTask) -> None:
    row.enabled = False


def _rename_task(row: PeriodicTask) -> None:
    row.task = "compliance.decision_log_seal"


def _reschedule(row: PeriodicTask) -> None:
    row.crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_month="31", timezone="UTC"
    )


def _interval_instead(row: PeriodicTask) -> None:
    row.crontab = None
    row.interval, _ = IntervalSchedule.objects.get_or_create(every=365, period="days")


def _future_start(row: PeriodicTask) -> None:
    row.start_time = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


def _args(row: PeriodicTask) -> None:
    row.args = '["skip"]'


def _kwargs(row: PeriodicTask) -> None:
    row.kwargs = '{"chunk_size": 1}'


def _queue(row: PeriodicTask) -> None:
    row.queue = "nobody-reads-this"


@pytest.mark.parametrize(
    ("change", "kind", "found"),
    [
        (_disable, "disabled", "disabled"),
        (_rename_task, "task", "task=compliance.decision_log_seal"),
        (_reschedule, "schedule", "crontab day_of_month=31"),
        (_interval_instead, "schedule", "interval=every 365 days; crontab=none"),
        (_future_start, "schedule", "start_time=2099-01-01 00:00:00+00:00"),
        (_args, "arguments", 'args=["skip"]'),
        (_kwargs, "arguments", 'kwargs={"chunk_size": 1}'),
        (_queue, "options", "queue=nobody-reads-this"),
    ],
)
def test_each_change_of_a_scheduled_task_is_named_as_drift_and_setup_puts_it_back(
    schedule, change, kind, found
):
    assert schedule_drift() == []
    row = _verify_row()
    change(row)
    row.save()

    drift = schedule_drift()

    assert [(d.name, d.kind, d.found) for d in drift] == [(VERIFY, kind, found)]
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    assert schedule_drift() == []


def test_a_changed_crontab_row_is_drift_too(schedule):
    crontab = _verify_row().crontab
    crontab.hour = "4"
    crontab.save()

    drift = schedule_drift()

    assert [(d.name, d.kind, d.expected, d.found) for d in drift] == [
        (VERIFY, "schedule", "crontab hour=3", "crontab hour=4")
    ]


def test_a_deleted_or_renamed_task_is_missing(schedule):
    _verify_row().delete()
    renamed = PeriodicTask.objects.get(name=MANAGED_PREFIX + SEAL)
    renamed.name = "seal, renamed"
    renamed.save()

    drift = schedule_drift()

    assert sorted((d.name, d.kind) for d in drift) == [(SEAL, "missing"), (VERIFY, "missing")]


def test_a_schedule_never_set_up_is_all_missing(db):
    drift = schedule_drift()

    assert drift and {d.kind for d in drift} == {"missing"}
    assert VERIFY in {d.name for d in drift}


def test_the_verify_is_overdue_past_26_hours(schedule, time_machine):
    t0 = _now(time_machine)
    decision_log_verify_task()

    time_machine.move_to(t0 + dt.timedelta(hours=26))
    on_time = decision_log_watch()
    time_machine.move_to(t0 + dt.timedelta(hours=26, seconds=1))
    late = decision_log_watch()

    assert on_time.verified_at is not None and not on_time.verify_overdue and not on_time.alert
    assert late.verify_overdue and late.alert


def test_a_log_never_verified_is_overdue_once_it_holds_a_decision_older_than_26_hours(
    schedule, manager, time_machine
):
    t0 = _now(time_machine)
    assert not decision_log_watch().verify_overdue  # a new deployment: nothing to verify yet
    _decide(manager)

    time_machine.move_to(t0 + dt.timedelta(hours=25))
    assert not decision_log_watch().verify_overdue
    time_machine.move_to(t0 + dt.timedelta(hours=27))
    watch = decision_log_watch()
    assert watch.verified_at is None and watch.verify_overdue


def _now(time_machine) -> dt.datetime:
    """Stop the clock at the real present (rows stamped by the database agree with it)."""
    now = timezone.now().replace(microsecond=0)
    time_machine.move_to(now, tick=False)
    return now


def _decide(manager) -> None:
    """One logged decision, through the check API."""
    phone = ny_phone(1)
    api = APIClient()
    api.force_authenticate(manager)
    answer = api.post(
        "/api/v1/compliance/check/",
        {"phone_number": str(phone.number), "campaign": CampaignFactory().pk, "at": "2026-11-17T15:00:00Z"},
        format="json",
    )
    assert answer.status_code == 200, answer.content


# ------------------------------------------------------------ where it shows


def test_the_audit_page_shows_last_seal_and_verify_and_no_alert_when_all_runs(
    schedule, compliance_officer, client, caplog
):
    decision_log_seal_task()
    decision_log_verify_task()
    caplog.clear()
    login_with_otp(client, compliance_officer)

    page = client.get("/compliance/").content.decode()

    assert 'id="watch-alert"' not in page
    assert "Last seal: never" not in page and "last verify: never" not in page
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_audit_page_alerts_a_compliance_officer_to_a_disabled_verify_and_logs_it(
    schedule, compliance_officer, client, caplog
):
    row = _verify_row()
    row.enabled = False
    row.args = '["skip"]'
    row.save()
    login_with_otp(client, compliance_officer)

    page = client.get("/compliance/").content.decode()

    alert = page[page.index('id="watch-alert"') : page.index("</div>", page.index('id="watch-alert"'))]
    assert f"<strong>{VERIFY}</strong>: disabled" in alert
    assert f"<strong>{VERIFY}</strong>: arguments changed" in alert
    assert "setup_periodic_tasks" in alert
    assert f"compliance schedule drift: {VERIFY}: disabled (expected enabled, found disabled)" in caplog.text
    assert f"compliance schedule drift: {VERIFY}: arguments" in caplog.text


def test_the_audit_page_alerts_to_an_overdue_verify(
    schedule, compliance_officer, client, caplog, time_machine
):
    t0 = _now(time_machine)
    decision_log_verify_task()
    time_machine.move_to(t0 + dt.timedelta(hours=27))
    login_with_otp(client, compliance_officer)

    page = client.get("/compliance/").content.decode()

    assert 'id="verify-overdue"' in page and "more than 26 hours" in page
    assert "decision log verify overdue: last verified" in caplog.text


def test_the_nightly_verify_logs_a_disabled_seal(schedule, caplog):
    seal = PeriodicTask.objects.get(name=MANAGED_PREFIX + SEAL)
    seal.enabled = False
    seal.save()

    decision_log_verify_task()

    assert f"compliance schedule drift: {SEAL}: disabled" in caplog.text


@pytest.mark.sqlite  # the heartbeat's upsert is portable: the demo's seal writes it too
def test_the_seal_leaves_a_heartbeat_and_logs_the_watch_once_an_hour(schedule, caplog, time_machine):
    t0 = _now(time_machine).replace(minute=10, second=0)
    time_machine.move_to(t0, tick=False)
    _verify_row().delete()

    decision_log_seal_task()
    time_machine.move_to(t0 + dt.timedelta(minutes=1))
    decision_log_seal_task()
    first_hour = caplog.text.count(f"compliance schedule drift: {VERIFY}: missing")
    time_machine.move_to(t0 + dt.timedelta(minutes=55))
    decision_log_seal_task()

    assert first_hour == 1
    assert caplog.text.count(f"compliance schedule drift: {VERIFY}: missing") == 2
    assert TaskHeartbeat.objects.get(task="compliance.decision_log_seal").ran_at == t0 + dt.timedelta(
        minutes=55
    )
    assert decision_log_watch().sealed_at == t0 + dt.timedelta(minutes=55)


def test_healthz_says_when_seal_and_verify_ran_and_names_drift_without_a_503(schedule, client, time_machine):
    t0 = _now(time_machine)
    decision_log_seal_task()
    decision_log_verify_task()

    healthy = client.get("/healthz")
    row = _verify_row()
    row.enabled = False
    row.save()
    time_machine.move_to(t0 + dt.timedelta(hours=27))
    drifted = client.get("/healthz")

    assert healthy.status_code == 200
    verified_at = ChainVerification.objects.get().at.isoformat()
    assert healthy.json()["decision_log"] == {
        "sealed_at": t0.isoformat(),
        "verified_at": verified_at,
        "verify_overdue": False,
        "schedule_drift": [],
    }
    assert drifted.status_code == 200 and drifted.json()["status"] == "ok"
    assert drifted.json()["decision_log"] == {
        "sealed_at": t0.isoformat(),
        "verified_at": verified_at,
        "verify_overdue": True,
        # /healthz is public: the task and the kind of drift, not its values.
        "schedule_drift": [{"name": VERIFY, "kind": "disabled"}],
    }


# ------------------------------------------------------------------ the admin


def _change_url(row: PeriodicTask) -> str:
    return f"/admin/django_celery_beat/periodictask/{row.pk}/change/"


def _form(row: PeriodicTask, **changes) -> dict:
    """The change form as a browser posts it."""
    data = {
        "name": row.name,
        "regtask": "",
        "task": row.task,
        "enabled": "on" if row.enabled else "",
        "description": row.description,
        "interval": row.interval_id or "",
        "crontab": row.crontab_id or "",
        "solar": "",
        "clocked": "",
        "start_time_0": "",
        "start_time_1": "",
        "args": row.args,
        "kwargs": row.kwargs,
        "expires_0": "",
        "expires_1": "",
        "expire_seconds": "",
        "queue": "",
        "exchange": "",
        "routing_key": "",
        "priority": "",
        "headers": row.headers,
        **changes,
    }
    return {key: value for key, value in data.items() if value != ""}


def test_a_compliance_officer_sees_a_periodic_task_but_cannot_change_it(schedule, compliance_officer, client):
    row = _verify_row()
    login_with_otp(client, compliance_officer)

    page = client.get(_change_url(row))
    post = client.post(
        _change_url(row), _form(row, enabled="", task="compliance.decision_log_seal", args='["x"]')
    )
    disable = client.post(
        "/admin/django_celery_beat/periodictask/",
        {"action": "disable_tasks", "_selected_action": [row.pk]},
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert "compliance.decision_log_verify" in html  # shown...
    for field in ("enabled", "task", "args", "kwargs", "crontab", "interval"):
        assert f'name="{field}"' not in html  # ...but no input for it
    assert 'name="_save"' not in html
    assert post.status_code == 403
    assert disable.status_code in (200, 302)
    row.refresh_from_db()
    assert (row.enabled, row.task, row.args) == (True, "compliance.decision_log_verify", "[]")
    assert schedule_drift() == []


def test_a_superuser_changes_a_periodic_task_and_the_watch_names_it(schedule, superuser, client):
    row = _verify_row()
    login_with_otp(client, superuser)

    page = client.get(_change_url(row)).content.decode()
    post = client.post(_change_url(row), _form(row, enabled="", args='["x"]'))

    assert 'name="enabled"' in page and 'name="args"' in page
    assert post.status_code == 302, post.content.decode()[:2000]
    row.refresh_from_db()
    assert (row.enabled, row.args) == (False, '["x"]')
    assert sorted(d.kind for d in schedule_drift()) == ["arguments", "disabled"]


@pytest.mark.django_db(transaction=True)
def test_a_compliance_officer_still_runs_the_verify_now(compliance_officer, client):
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    row = _verify_row()
    login_with_otp(client, compliance_officer)
    assert ChainVerification.objects.count() == 0

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        answer = client.post(
            "/admin/django_celery_beat/periodictask/",
            {"action": "run_tasks", "_selected_action": [row.pk]},
            follow=True,
        )
        deadline = time.monotonic() + 20
        while not ChainVerification.objects.exists():
            assert time.monotonic() < deadline, "the worker did not run the verify within 20 s"
            time.sleep(0.1)

    assert "1 task was successfully run" in answer.content.decode()
    assert decision_log_watch().verified_at == ChainVerification.objects.get().at
