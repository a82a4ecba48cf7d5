"""Abandoned calls: 47 CFR 64.1200(a)(7) and TSR 16 CFR 310.4(b)(4).

A call is abandoned when a person answers and no agent is connected within
two seconds of their greeting. The rule allows at most 3% of the calls
answered by a live person, measured per campaign over a 30-day period. An
autodialed or prerecorded campaign over that limit is paused at once, and
managers see why on the campaign.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Q

from campaigns.models import CallAttempt, Campaign
from campaigns.services import campaign_pause
from core.words import datetime_text

PERIOD = timedelta(days=30)
MAX_RATE_PERCENT = Decimal("3")
AUTOMATED_MODES = frozenset({Campaign.DialingMode.AUTODIALED, Campaign.DialingMode.PRERECORDED})

# Outcomes of a call a live person answered. An abandoned call was answered
# too (that is what makes it abandoned); no answer, busy and voicemail were not.
LIVE_ANSWERED = (
    CallAttempt.Outcome.CONNECTED,
    CallAttempt.Outcome.ABANDONED,
    CallAttempt.Outcome.CALLBACK,
    CallAttempt.Outcome.DO_NOT_CALL,
    CallAttempt.Outcome.WRONG_NUMBER,
)


@dataclass(frozen=True)
class AbandonmentRate:
    abandoned: int
    live_answered: int
    since: datetime
    until: datetime

    @property
    def percent(self) -> Decimal | None:
        """Abandoned calls as a percentage of the calls answered by a live
        person, to two decimals; None when no call was answered yet."""
        if not self.live_answered:
            return None
        rate = Decimal(self.abandoned) * 100 / Decimal(self.live_answered)
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def over_limit(self) -> bool:
        return self.percent is not None and self.percent > MAX_RATE_PERCENT

    def __str__(self) -> str:
        if self.percent is None:
            return "no call answered by a person in the last 30 days"
        return (
            f"{self.percent}% ({self.abandoned} abandoned of {self.live_answered} answered by a person "
            f"in the 30 days to {datetime_text(self.until)}; "
            f"the limit is {MAX_RATE_PERCENT}%)"
        )


def campaign_abandonment_rate(*, campaign: Campaign, now: datetime) -> AbandonmentRate:
    """The campaign's abandoned-call rate over the 30 days before `now`.

    Numerator: attempts with the outcome "abandoned". Denominator: attempts
    answered by a live person, i.e. connected, abandoned, callback,
    do_not_call and wrong_number. 47 CFR 64.1200(a)(7)(i) limits abandoned
    calls to "three percent of all calls answered by a live person, measured
    per campaign over a 30-day period" (TSR 310.4(b)(4)(i): "measured over
    the duration of a single calling campaign, if less than 30 days, or
    separately over each successive 30-day period"); so the rate is computed
    per campaign, over the 30 days before `now`, with an abandoned call
    counted in both (it was answered by a person who then heard no agent),
    and calls nobody answered (no answer, busy) or that reached an answering
    machine (voicemail) in neither. A callback request, a do-not-call request
    and a wrong-number report are all said by a person who answered.
    One aggregate query on the (campaign, handed_at) index."""
    since = now - PERIOD
    counts = CallAttempt.objects.filter(campaign=campaign, handed_at__gt=since, handed_at__lte=now).aggregate(
        abandoned=Count("id", filter=Q(outcome=CallAttempt.Outcome.ABANDONED)),
        live_answered=Count("id", filter=Q(outcome__in=LIVE_ANSWERED)),
    )
    return AbandonmentRate(
        abandoned=counts["abandoned"], live_answered=counts["live_answered"], since=since, until=now
    )


@transaction.atomic
def campaign_abandonment_check(campaign: Campaign, now: datetime) -> AbandonmentRate:
    """After an abandoned call: pause an active autodialed or prerecorded
    campaign whose rate is over 3%, saying why (status, paused_reason and a
    history row). Called by the dialer's disposition; safe to call again (a
    paused campaign stays as it is)."""
    rate = campaign_abandonment_rate(campaign=campaign, now=now)
    if campaign.dialing_mode in AUTOMATED_MODES and rate.over_limit:
        why = f"Paused automatically: abandoned-call rate {rate} — 47 CFR 64.1200(a)(7)."
        # Only an active campaign is paused: the row is locked and its status read again.
        campaign_pause(campaign=campaign, why=why, by=None, reason="abandoned-call rate over 3%")
    return rate
