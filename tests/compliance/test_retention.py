"""Retention: each policy removes exactly what it says, in batches, never
what is on legal hold or under its legal minimum, and records a purge run."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.models import PurgeRun, RetentionPolicy
from compliance.retention import retention_purge
from consent.models import ConsentGrant, InboundMessage, SuppressionEntry
from consent.services import number_hash
from core.retention import retention_categories
from customers.models import Customer, PhoneNumber
from tests.factories import ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

NOW = timezone.now()
YEARS = 365


def revoked_consent(years_ago: float, *, hold: bool = False) -> ConsentGrant:
    customer = CustomerFactory(legal_hold=hold, legal_hold_reason="litigation 2026-17" if hold else "")
    revoked = NOW - timedelta(days=years_ago * YEARS)
    grant = ConsentGrantFactory(
        phone_number=PhoneNumberFactory(customer=customer), granted_at=revoked - timedelta(days=90)
    )
    grant.revoked_at, grant.revoked_via, grant._change_reason = revoked, "sms", "test: revoked"
    grant.save()
    return grant


def test_every_category_has_a_policy_and_defaults_respect_the_legal_minimums():
    policies = {policy.category: policy for policy in RetentionPolicy.objects.all()}
    assert set(policies) == set(retention_categories())
    for key, category in retention_categories().items():
        assert policies[key].period_days >= category.legal_minimum_days
    assert retention_categories()["consents_revoked"].legal_minimum_days == 1826
    assert retention_categories()["dnc_requests"].legal_minimum_days == 1826
    assert policies["dnc_requests"].active is False  # dropping a DNC request is a deliberate act


@pytest.mark.sqlite  # the portable path too (a category without dependents to delete first)
def test_a_purge_deletes_exactly_the_expired_rows_with_their_history_in_batches():
    old = [revoked_consent(7) for _ in range(5)]
    recent = revoked_consent(2)
    held = revoked_consent(7, hold=True)
    live = ConsentGrantFactory(granted_at=NOW - timedelta(days=9 * YEARS))  # never revoked
    assert ConsentGrant.history.filter(id=old[0].pk).exists()

    (run,) = retention_purge(category="consents_revoked", now=NOW, batch_size=2)

    assert set(ConsentGrant.objects.values_list("pk", flat=True)) == {recent.pk, held.pk, live.pk}
    assert not ConsentGrant.history.filter(id__in=[g.pk for g in old]).exists()  # no copy left in history
    assert ConsentGrant.history.filter(id=held.pk).exists()
    assert (run.status, run.examined, run.deleted, run.batches) == ("succeeded", 5, 5, 3)
    assert run.max_batch_ms is not None and run.max_batch_ms < 1000
    assert run.cutoff == NOW - timedelta(
        days=RetentionPolicy.objects.get(category="consents_revoked").period_days
    )


def test_a_dry_run_counts_and_changes_nothing():
    revoked_consent(7)
    revoked_consent(7)
    (run,) = retention_purge(category="consents_revoked", now=NOW, dry_run=True)
    assert (run.dry_run, run.examined, run.deleted) == (True, 2, 0)
    assert ConsentGrant.objects.count() == 2


def test_inactive_customers_are_anonymised_and_their_numbers_stay_suppressed():
    policy = RetentionPolicy.objects.get(category="inactive_customers")
    policy.active, policy.period_days = True, 3 * YEARS
    policy.save()
    sleeping = PhoneNumberFactory(number="+12127360301").customer
    held = PhoneNumberFactory(
        number="+12127360302", customer=CustomerFactory(legal_hold=True, legal_hold_reason="audit")
    ).customer
    buyer = PhoneNumberFactory(number="+12127360303").customer
    Customer.objects.filter(pk__in=[sleeping.pk, held.pk, buyer.pk]).update(
        updated_at=NOW - timedelta(days=4 * YEARS)
    )
    Customer.objects.filter(pk=buyer.pk).update(last_purchase_at=NOW - timedelta(days=200))

    runs = {run.category: run for run in retention_purge(now=NOW)}

    assert runs["inactive_customers"].anonymised == 1
    sleeping.refresh_from_db()
    assert sleeping.is_erased and sleeping.email == ""
    assert PhoneNumber.objects.get(customer=sleeping).number is None
    assert SuppressionEntry.objects.filter(number_hash=number_hash("+12127360301")).exists()
    held.refresh_from_db()
    buyer.refresh_from_db()
    assert not held.is_erased and not buyer.is_erased


def test_the_admin_refuses_a_period_under_the_legal_minimum(client, compliance_officer):
    policy = RetentionPolicy.objects.get(category="consents_revoked")
    login_with_otp(client, compliance_officer)
    url = f"/admin/compliance/retentionpolicy/{policy.pk}/change/"
    answer = client.post(url, {"period_days": 365, "action": "delete", "active": "on", "note": "save space"})
    assert answer.status_code == 200
    assert "must be kept at least 1826 days" in answer.content.decode()
    policy.refresh_from_db()
    assert policy.period_days != 365

    answer = client.post(
        url, {"period_days": 2600, "action": "delete", "active": "on", "note": "counsel: 7 years"}
    )
    assert answer.status_code == 302
    latest = policy.history.first()
    assert (latest.period_days, latest.history_user, latest.history_change_reason) == (
        2600,
        compliance_officer,
        "changed in the admin",
    )


def test_a_policy_made_too_short_behind_the_admins_back_purges_nothing():
    revoked_consent(3)
    RetentionPolicy.objects.filter(category="consents_revoked").update(period_days=30, active=True)
    (run,) = retention_purge(category="consents_revoked", now=NOW)
    assert run.status == PurgeRun.Status.FAILED and "at least 1826 days" in run.error
    assert ConsentGrant.objects.count() == 1


def test_the_purge_command_reports_a_dry_run(capsys):
    InboundMessage.objects.create(
        from_number="+12127360401",
        body="hello?",
        received_at=NOW - timedelta(days=3 * YEARS),
        status="needs_review",
    )
    InboundMessage.objects.create(
        from_number="+12127360402", body="hi", received_at=NOW - timedelta(days=10), status="needs_review"
    )
    call_command("purge", "--dry-run", "--category", "inbound_messages")
    out = capsys.readouterr().out
    assert "inbound_messages: would delete 1" in out
    assert InboundMessage.objects.count() == 2
    call_command("purge", "--category", "inbound_messages")
    assert list(InboundMessage.objects.values_list("from_number", flat=True)) == ["+12127360402"]
