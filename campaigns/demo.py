"""Demo campaigns: one per dialing mode, active, with the demo customers'
numbers queued (several states and zones), and current training for the demo
agents, so an agent can take calls as soon as the demo starts."""

import hashlib
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import TrainingAcknowledgement
from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns.models import Campaign, CampaignTarget
from campaigns.selectors import campaign_call_context
from campaigns.services import campaign_create, targets_add
from customers.models import PhoneNumber

DISCLOSURE = (
    "This is {agent} calling for Northwind Retail about {about}. If you do not want us to call you again, "
    "say so and we will add your number to our do-not-call list right away."
)
DEMO_CAMPAIGNS = (
    {
        "name": "Order updates (demo)",
        "purpose": Campaign.Purpose.INFORMATIONAL,
        "dialing_mode": Campaign.DialingMode.MANUAL,
        "subject": "orders",
        "caller_id": "+12125550100",
        "script": "Hello {first_name}, I'm calling about your recent order: it is ready for delivery.",
        "disclosure": DISCLOSURE.format(agent="{agent}", about="your order"),
    },
    {
        "name": "Delivery reminders (demo)",
        "purpose": Campaign.Purpose.INFORMATIONAL,
        "dialing_mode": Campaign.DialingMode.AUTODIALED,
        "subject": "delivery",
        "caller_id": "+12125550101",
        "max_attempts_per_day": 2,
        "script": "Your delivery is scheduled for tomorrow between 9 and 12. Can someone be home?",
        "disclosure": DISCLOSURE.format(agent="{agent}", about="your delivery"),
    },
    {
        "name": "Winter sale (demo)",
        "purpose": Campaign.Purpose.MARKETING,
        "dialing_mode": Campaign.DialingMode.PRERECORDED,
        "subject": "winter sale",
        "caller_id": "+12125550102",
        "window_start": time(10, 0),
        "window_end": time(19, 0),
        "script": "Our winter sale starts Friday: 30% off outdoor gear for loyalty members.",
        "disclosure": DISCLOSURE.format(agent="Northwind Retail", about="our winter sale")
        + " Press 9 to be added to our do-not-call list.",
    },
)


def demo_campaigns_seed(*, by) -> int:
    """Creates the demo campaigns once and queues every demo customer's
    number in each; returns how many targets are queued in all."""
    numbers = [
        str(number) for number in PhoneNumber.objects.exclude(number=None).values_list("number", flat=True)
    ]
    for fields in DEMO_CAMPAIGNS:
        campaign = Campaign.objects.filter(name=fields["name"]).first()
        if campaign is None:
            campaign = campaign_create(
                fields={**fields, "status": Campaign.Status.ACTIVE}, by=by, reason="demo campaign"
            )
            targets_add(campaign=campaign, numbers=numbers, by=by)
    _demo_agents_train(by=by)
    return CampaignTarget.objects.filter(campaign__name__in=[c["name"] for c in DEMO_CAMPAIGNS]).count()


def _demo_agents_train(*, by) -> None:
    now = timezone.now()
    for agent in get_user_model().objects.filter(groups__name=AGENTS, username__startswith="agent"):
        recent = TrainingAcknowledgement.objects.filter(
            agent=agent, acknowledged_at__gt=now - timedelta(days=30)
        )
        if not recent.exists():
            training_record(agent=agent, by=by, at=now, note="demo: compliance training completed")


def demo_checks_seed(*, by, per_campaign: int = 8) -> int:
    """A few compliance checks of demo numbers against each demo campaign,
    decided by the engine now and logged like any check, so the audit page
    and the decision log have real entries. Once only."""
    from compliance.models import DecisionRecord
    from compliance.services import decision_make

    if DecisionRecord.objects.exists():
        return 0
    numbers = [
        str(number)
        for number in PhoneNumber.objects.exclude(number=None)
        .order_by("id")
        .values_list("number", flat=True)[: per_campaign * 3]
    ]
    made = 0
    for index, campaign in enumerate(Campaign.objects.filter(name__in=[c["name"] for c in DEMO_CAMPAIGNS])):
        for number in numbers[index::3][:per_campaign]:
            decision_make(
                number=number,
                context=campaign_call_context(campaign=campaign),
                at=timezone.now(),
                kind=DecisionRecord.Kind.CHECK,
                actor=by,
            )
            made += 1
    return made


# Outcomes of the demo's past calls, in turn; one call in 90 is abandoned in the
# automated campaigns (about 2% of those answered by a person: under the 3%
# limit, so they stay active).
_PAST_OUTCOMES = (
    "no_answer", "connected", "voicemail", "connected", "busy", "connected", "no_answer",
    "callback", "connected", "voicemail", "connected", "no_answer", "wrong_number", "connected",
)  # fmt: skip
_PAST_HOURS_UTC = (14, 16, 18, 20, 22)  # morning to evening across US zones


def demo_call_history_seed(*, by, days: int = 14, per_hour: int = 2) -> int:
    """Two weeks of past calls in each demo campaign, so that the compliance
    reports (calls per state and hour, abandonment) have something to show.
    Each call was decided by the engine at its instant (a logged hand-off
    decision); only allowed ones became calls. The queue itself is left as
    it is. Once only."""
    from campaigns.models import CallAttempt
    from compliance.models import DecisionRecord
    from compliance.services import decision_make

    if CallAttempt.objects.exists():
        return 0
    agents = list(get_user_model().objects.filter(groups__name=AGENTS, username__startswith="agent"))
    today = timezone.now().replace(minute=0, second=0, microsecond=0)
    made, turn = 0, 0
    for campaign in Campaign.objects.filter(name__in=[c["name"] for c in DEMO_CAMPAIGNS]).order_by("id"):
        context = campaign_call_context(campaign=campaign)
        targets = list(campaign.targets.select_related("phone_number").order_by("id"))
        cursor = 0
        for day in range(days, 0, -1):
            for hour in _PAST_HOURS_UTC:
                at = (today - timedelta(days=day)).replace(hour=hour)
                for _ in range(per_hour):
                    target = targets[cursor % len(targets)]
                    cursor += 1
                    decided = decision_make(
                        number=str(target.phone_number.number),
                        context=context,
                        at=at,
                        kind=DecisionRecord.Kind.HANDOFF,
                        actor=agents[turn % len(agents)] if agents else by,
                    )
                    if not decided.decision.allowed or not agents:
                        continue
                    outcome = _PAST_OUTCOMES[turn % len(_PAST_OUTCOMES)]
                    if campaign.dialing_mode != Campaign.DialingMode.MANUAL and turn % 90 == 89:
                        outcome = CallAttempt.Outcome.ABANDONED
                    CallAttempt.objects.create(
                        target=target,
                        campaign=campaign,
                        phone_number=target.phone_number,
                        subject=campaign.subject,
                        agent=agents[turn % len(agents)],
                        decision=decided.record,
                        caller_id=campaign.caller_id,
                        handed_at=at,
                        ended_at=at + timedelta(minutes=3),
                        outcome=outcome,
                        callback_at=at + timedelta(days=1) if outcome == "callback" else None,
                        notes="demo: a past call",
                    )
                    turn += 1
                    made += 1
    return made


def demo_reassigned_seed(*, by) -> int:
    """One reassigned number: an RND "yes" for the consent date of a demo
    customer called by the demo's marketing campaign (recorded as the
    recorded adapter gives it), then a check the engine blocks with
    `reassigned_number` (see its decision page). Once only."""
    from compliance.models import DecisionRecord
    from compliance.rnd.answers import DATE_CONSENT, YES, date_sent_for
    from compliance.rnd.chain import RndEntry, rnd_ledger_append
    from compliance.rnd.models import RndQuery
    from compliance.services import decision_make
    from consent.models import ConsentGrant

    campaign = Campaign.objects.filter(name="Winter sale (demo)").first()
    if campaign is None or RndQuery.objects.exists():
        return 0
    # A number on no registry (numbers ending 0000-0009 are: compliance.registry.demo)
    # and not the litigator list's, so that the decision shows the reassignment alone.
    consent = next(
        (
            grant
            for grant in ConsentGrant.objects.filter(
                purpose="marketing",
                written=True,
                revoked_at=None,
                phone_number__targets__campaign=campaign,
            )
            .select_related("phone_number")
            .order_by("id")
            if int(str(grant.phone_number.number)[-4:]) >= 10
        ),
        None,
    )
    if consent is None:
        return 0
    now = timezone.now()
    # At noon in New York today: inside the campaign's window for the demo's eastern numbers.
    noon = now.astimezone(ZoneInfo("America/New_York")).replace(hour=12, minute=0, second=0, microsecond=0)
    number = str(consent.phone_number.number)
    line = f"{number},{date_sent_for(consent.granted_at)},yes"
    rnd_ledger_append(
        [
            RndEntry(
                number=number,
                date_sent=date_sent_for(consent.granted_at),
                date_kind=DATE_CONSENT,
                answer=YES,
                provider="recorded",
                queried_at=now - timedelta(hours=1),
                response_sha256=hashlib.sha256(line.encode()).hexdigest(),
                provider_request_id="demo",
                consent_id=consent.pk,
            )
        ]
    )
    decision_make(
        number=number,
        context=campaign_call_context(campaign=campaign),
        at=noon,
        kind=DecisionRecord.Kind.CHECK,
        actor=by,
    )
    return 1
