"""Consent expiry: the engine refuses an expired consent at its instant; the
hourly task writes the expiry into the consent's record (a history row) so
that the contact record shows when it stopped counting."""

import datetime as dt

import pytest

from consent.models import ConsentGrant
from consent.selectors import consent_expiry_overview
from consent.services import consent_revoke, consents_expire
from consent.tasks import consents_expire_task
from core.schedule import periodic_tasks
from tests.factories import ConsentGrantFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


def grant(number: str, expires_in: dt.timedelta | None):
    return ConsentGrantFactory(
        phone_number=PhoneNumberFactory(number=number),
        granted_at=NOW - dt.timedelta(days=400),
        expires_at=NOW + expires_in if expires_in is not None else None,
    )


def test_expired_consents_get_a_history_row_once_and_live_ones_none(time_machine):
    time_machine.move_to(NOW - dt.timedelta(days=1))
    expired = grant("+12127360001", -dt.timedelta(hours=1))
    live = grant("+12127360002", dt.timedelta(days=3))
    forever = grant("+12127360003", None)
    revoked = grant("+12127360004", -dt.timedelta(days=2))
    consent_revoke(number="+12127360004", via="sms", by=None)

    assert consents_expire(now=NOW, batch_size=1) == 1
    assert consents_expire(now=NOW + dt.timedelta(hours=1)) == 0  # idempotent

    expired.refresh_from_db()
    assert expired.expiry_recorded_at == NOW
    latest = expired.history.first()
    assert latest.history_change_reason == "consent expired: its expiry date passed"
    assert latest.history_date == NOW and latest.history_user is None
    for other in (live, forever, revoked):
        other.refresh_from_db()
        assert other.expiry_recorded_at is None
    assert live.history.count() == 1 and forever.history.count() == 1


def test_the_expiry_task_is_on_the_beat_schedule_and_runs_in_batches(time_machine):
    time_machine.move_to(NOW)
    for i in range(5):
        grant(f"+1212736010{i}", -dt.timedelta(minutes=i + 1))
    assert any(task.task == "consent.consents_expire" for task in periodic_tasks())
    assert consents_expire_task.apply().get() == 5
    assert not ConsentGrant.objects.filter(expiry_recorded_at__isnull=True).exists()


def test_the_overview_counts_what_expires_soon_and_what_expired(time_machine):
    time_machine.move_to(NOW - dt.timedelta(days=1))
    grant("+12127360201", dt.timedelta(days=10))
    grant("+12127360202", dt.timedelta(days=40))
    grant("+12127360203", -dt.timedelta(days=5))
    overview = consent_expiry_overview(now=NOW)
    assert (overview.expiring_soon, overview.expired_recently, overview.unrecorded) == (1, 1, 1)
    consents_expire(now=NOW)
    assert consent_expiry_overview(now=NOW).unrecorded == 0
