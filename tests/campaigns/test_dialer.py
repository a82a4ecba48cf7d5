import datetime as dt

import pytest

from campaigns import dialer
from campaigns.models import CallAttempt, CampaignTarget
from campaigns.services import targets_add
from compliance.models import DecisionRecord
from consent.models import DncRequest
from consent.services import consent_revoke
from tests.campaigns.conftest import TUESDAY_MORNING, ny_phone
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory, UserFactory

pytestmark = pytest.mark.django_db


def queue(campaign, phones, at=TUESDAY_MORNING - dt.timedelta(hours=1)):
    targets_add(campaign=campaign, numbers=[str(p.number) for p in phones], by=None)
    CampaignTarget.objects.filter(campaign=campaign).update(next_attempt_at=at)


def test_an_agent_without_current_training_gets_no_number(agent, informational_campaign):
    queue(informational_campaign, [ny_phone(1)])
    with pytest.raises(dialer.TrainingRequired):
        dialer.dialer_next(campaign=informational_campaign, agent=agent, now=TUESDAY_MORNING)


def test_expired_training_counts_as_none(agent, informational_campaign):
    from accounts.services import training_policy, training_record

    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=400))
    assert training_policy().validity_days == 365
    queue(informational_campaign, [ny_phone(1)])
    with pytest.raises(dialer.TrainingRequired):
        dialer.dialer_next(campaign=informational_campaign, agent=agent, now=TUESDAY_MORNING)


def test_hand_off_leases_the_target_logs_the_decision_and_records_the_attempt(
    trained_agent, informational_campaign
):
    phone = ny_phone(1)
    queue(informational_campaign, [phone])
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    assert handoff is not None and handoff.decision.allowed
    target = CampaignTarget.objects.get()
    assert target.status == "leased" and target.lease_agent == trained_agent and target.attempts == 1
    attempt = CallAttempt.objects.get()
    assert attempt.decision.kind == "handoff" and attempt.decision.allowed
    assert attempt.caller_id == informational_campaign.caller_id and attempt.agent == trained_agent
    assert (
        dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING) is None
    )


def test_blocked_numbers_are_suppressed_or_rescheduled_and_never_handed(trained_agent):
    campaign = CampaignFactory(purpose="informational", dialing_mode="autodialed", subject="orders")
    no_consent = ny_phone(1)
    opted_out = ny_phone(2)
    consent_revoke(number=str(opted_out.number), via="api", by=None)
    queue(campaign, [no_consent, opted_out])
    assert dialer.dialer_next(campaign=campaign, agent=trained_agent, now=TUESDAY_MORNING) is None
    targets = {t.phone_number_id: t for t in CampaignTarget.objects.all()}
    assert (
        targets[no_consent.pk].status == "suppressed"
        and "consent_missing" in targets[no_consent.pk].blocked_reasons
    )
    assert (
        targets[opted_out.pk].status == "suppressed"
        and "dnc_internal" in targets[opted_out.pk].blocked_reasons
    )
    assert not CallAttempt.objects.exists()
    assert DecisionRecord.objects.filter(kind="handoff", allowed=False).count() == 2


def test_a_number_outside_its_hours_is_rescheduled_to_when_its_window_opens(
    trained_agent, informational_campaign
):
    # A Los Angeles customer at 07:30 local: before the federal window.
    customer = CustomerFactory(state="CA", postal_code="94103")
    phone = PhoneNumberFactory(customer=customer, number="+14157360001")
    queue(informational_campaign, [phone])
    now = dt.datetime(2026, 11, 17, 15, 30, tzinfo=dt.UTC)
    assert dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=now) is None
    target = CampaignTarget.objects.get()
    assert target.status == "queued" and target.blocked_reasons == ["outside_calling_hours"]
    assert target.next_attempt_at == dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)  # 08:00 in LA
    handoff = dialer.dialer_next(
        campaign=informational_campaign, agent=trained_agent, now=target.next_attempt_at
    )
    assert handoff is not None


def test_an_expired_lease_returns_the_target_and_it_is_decided_again(trained_agent, informational_campaign):
    other = UserFactory(username="bob.agent")
    other.groups.set(trained_agent.groups.all())
    from accounts.services import training_record

    training_record(agent=other, by=None, at=TUESDAY_MORNING - dt.timedelta(days=1))
    phone = ny_phone(1)
    queue(informational_campaign, [phone])
    first = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    assert dialer.dialer_next(campaign=informational_campaign, agent=other, now=TUESDAY_MORNING) is None
    # The first agent closed the page. After the lease, the number is decided
    # again before anyone gets it: it was opted out meanwhile.
    consent_revoke(number=str(phone.number), via="web", by=None)
    later = TUESDAY_MORNING + dialer.LEASE + dt.timedelta(seconds=1)
    assert dialer.dialer_next(campaign=informational_campaign, agent=other, now=later) is None
    assert CampaignTarget.objects.get().status == "suppressed"
    first.attempt.refresh_from_db()  # the abandoned call is closed even though the number is now blocked
    assert first.attempt.ended_at == later and "Lease expired" in first.attempt.notes
    assert DecisionRecord.objects.filter(kind="handoff").count() == 2


def test_do_not_call_disposition_is_an_opt_out_via_agent(trained_agent, informational_campaign):
    phone = ny_phone(1)
    queue(informational_campaign, [phone])
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    dialer.attempt_dispose(attempt=handoff.attempt, agent=trained_agent, outcome="do_not_call", notes="Angry")
    request = DncRequest.objects.get(number=str(phone.number))
    assert request.source == "agent" and request.recorded_by == trained_agent
    assert request.evidence["call_attempt"] == handoff.attempt.pk
    assert CampaignTarget.objects.get().status == "suppressed"


def test_a_callback_is_decided_again_when_due(trained_agent, informational_campaign):
    phone = ny_phone(1)
    queue(informational_campaign, [phone])
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    from django.utils import timezone

    # Tomorrow at 11:00 in New York: a callback is refused outside the callee's hours.
    callback_at = (timezone.now() + dt.timedelta(days=1)).replace(hour=16, minute=0, second=0, microsecond=0)
    dialer.attempt_dispose(
        attempt=handoff.attempt, agent=trained_agent, outcome="callback", callback_at=callback_at
    )
    target = CampaignTarget.objects.get()
    assert target.status == "queued" and target.next_attempt_at == callback_at
    consent_revoke(number=str(phone.number), via="sms", by=None)
    assert dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=callback_at) is None
    assert CampaignTarget.objects.get().status == "suppressed"


def test_dispositions_are_checked(trained_agent, informational_campaign, agent):
    queue(informational_campaign, [ny_phone(1)])
    handoff = dialer.dialer_next(campaign=informational_campaign, agent=trained_agent, now=TUESDAY_MORNING)
    with pytest.raises(dialer.DispositionError):
        dialer.attempt_dispose(attempt=handoff.attempt, agent=trained_agent, outcome="callback")
    dialer.attempt_dispose(attempt=handoff.attempt, agent=trained_agent, outcome="no_answer")
    with pytest.raises(dialer.DispositionError):
        dialer.attempt_dispose(attempt=handoff.attempt, agent=trained_agent, outcome="busy")
    intruder = UserFactory(username="eve")
    with pytest.raises(dialer.DispositionError):
        dialer.attempt_dispose(attempt=handoff.attempt, agent=intruder, outcome="busy")


def test_state_caps_count_attempts_across_campaigns_of_one_subject(trained_agent):
    """FL: at most 3 calls per 24 h on the same subject, whichever campaign calls."""
    customer = CustomerFactory(state="FL", postal_code="33101")
    phone = PhoneNumberFactory(customer=customer, number="+13057360001")
    from tests.factories import ConsentGrantFactory

    ConsentGrantFactory(phone_number=phone, purpose="marketing", written=True)
    campaigns = [
        CampaignFactory(purpose="marketing", dialing_mode="manual", subject="spring sale") for _ in range(4)
    ]
    other_subject = CampaignFactory(purpose="marketing", dialing_mode="manual", subject="loyalty")
    for campaign in [*campaigns, other_subject]:
        queue(campaign, [phone])
    moment = TUESDAY_MORNING  # 11:00 in Miami
    for campaign in campaigns[:3]:
        handoff = dialer.dialer_next(campaign=campaign, agent=trained_agent, now=moment)
        assert handoff is not None, campaign
        dialer.attempt_dispose(attempt=handoff.attempt, agent=trained_agent, outcome="no_answer")
        moment += dt.timedelta(minutes=5)
    assert dialer.dialer_next(campaign=campaigns[3], agent=trained_agent, now=moment) is None
    fourth = CampaignTarget.objects.get(campaign=campaigns[3])
    assert fourth.blocked_reasons == ["frequency_cap"] and fourth.status == "queued"
    assert fourth.next_attempt_at > TUESDAY_MORNING + dt.timedelta(hours=24)
    assert dialer.dialer_next(campaign=other_subject, agent=trained_agent, now=moment) is not None
