"""The dialer queue: hand an agent only a number every rule allows now.

The hand-off claims one target at a time with SELECT ... FOR UPDATE SKIP
LOCKED (agents never wait on each other's targets), then locks the number's
row, the same lock the opt-out service takes: an opt-out that commits before
the hand-off reads its facts always wins, and one that starts later waits for
the hand-off to commit. Facts are gathered and decided at that instant and the
decision is logged; a blocked target is moved on (suppressed for good, or
rescheduled to the next moment it could be allowed). On SQLite (the demo)
select_for_update is a no-op and IMMEDIATE transactions serialise writers.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import TrainingPolicy
from accounts.services import training_policy
from campaigns.abandonment import campaign_abandonment_check
from campaigns.models import CallAttempt, Campaign, CampaignTarget
from campaigns.selectors import LEASE, call_attempts_open, campaign_call_context, campaigns_with_training
from compliance.facts import Withheld, facts_gather
from compliance.models import DecisionRecord
from compliance.policy import PERMANENT_REASONS, TIME_REASONS, Decision, decide, next_allowed_at
from compliance.ruleset import ruleset_current
from compliance.services import Decided, decision_make
from consent.services import consent_revoke
from core.history import history_save
from core.prepared import PreparedSelect
from core.writes import WriteBatch

MAX_CANDIDATES_PER_CALL = 25
STALE_DATA_RETRY = timedelta(hours=1)
FALLBACK_RETRY = timedelta(minutes=30)
RETRY_AFTER_NO_CONTACT = timedelta(hours=4)


class TrainingRequired(Exception):
    """The agent has no current compliance training acknowledgement."""


class CampaignNotCallable(Exception):
    """The campaign is not active (or outside its dates)."""


@dataclass(frozen=True)
class HandOff:
    attempt: CallAttempt
    target: CampaignTarget
    decision: Decision
    record: DecisionRecord


def _claim_query(*, now: datetime, campaign_id: int) -> QuerySet[CampaignTarget]:
    """Lock the next target to decide, skipping those other agents hold, and
    then its number, in one statement: an expired lease first (its agent
    left; it is decided again before anyone else gets it), else the queue in
    priority order, each a subquery on its own index (target_lease_idx,
    target_queue_idx: an OR of the two would read and sort every due row of
    the campaign), the second run only when the first finds none. The
    number's lock waits for an opt-out holding it; its row, the target's and
    the customer's are read as locked (the latest), for the facts and the card."""
    mine = (
        CampaignTarget.objects.filter(campaign_id=campaign_id)
        # A number on an agent's screen, in any campaign, is never handed out
        # again (one index probe of attempt_number_time_idx per row examined).
        .exclude(Exists(call_attempts_open(now).filter(phone_number=OuterRef("phone_number"))))
        .select_for_update(skip_locked=True, of=("self",))
    )
    expired = mine.filter(status=CampaignTarget.Status.LEASED, lease_until__lt=now).order_by(
        "lease_until", "id"
    )
    queued = mine.filter(status=CampaignTarget.Status.QUEUED, next_attempt_at__lte=now).order_by(
        "-priority", "next_attempt_at", "id"
    )
    return (
        CampaignTarget.objects.filter(
            pk=Coalesce(Subquery(expired.values("pk")[:1]), Subquery(queued.values("pk")[:1]))
        )
        .order_by()
        .select_related("phone_number__customer")
        .select_for_update(of=("self", "phone_number"))
    )


# Compiled once (core.prepared): compiling the claim cost several times what running it costs.
_claimed = PreparedSelect(_claim_query, ids=("campaign_id",), at="now")


def _claim(campaign: Campaign, now: datetime) -> CampaignTarget | None:
    return _claimed.first(now=now, campaign_id=campaign.pk)


# A call to the number on an agent's screen (any campaign): the hand-off withholds its decision.
_on_screen = PreparedSelect(
    lambda phone_number_id, now: call_attempts_open(now).filter(phone_number_id=phone_number_id),
    ids=("phone_number_id",),
    at="now",
)

_campaign_read = PreparedSelect(campaigns_with_training, ids=("campaign_id", "agent_id"))


def dialer_next(*, campaign: Campaign | int, agent, now: datetime | None = None) -> HandOff | None:
    """The next callable target for `agent`, leased to them, or None when no
    target may be called now. `campaign` is read again (or first, given its
    id: Campaign.DoesNotExist when there is none) with the agent's training,
    so a campaign paused a moment ago hands out nothing."""
    now = now or timezone.now()
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    # The campaign with the agent's training (campaigns.selectors.campaign_with_training), compiled once.
    found = (
        _campaign_read.first(campaign_id=campaign_id, agent_id=agent.pk) if 0 < campaign_id < 2**63 else None
    )
    if found is None:
        raise Campaign.DoesNotExist(f'Invalid pk "{campaign_id}" - object does not exist.')
    if _training_until(found, now) is None:
        raise TrainingRequired("You need a current compliance training acknowledgement before taking calls.")
    if not found.active_at(now):
        raise CampaignNotCallable(f"Campaign '{found}' is not active now.")
    context = campaign_call_context(campaign=found)
    for _ in range(MAX_CANDIDATES_PER_CALL):
        with transaction.atomic():
            target = _claim(found, now)
            if target is None:
                return None
            handoff = _decide_and_lease(target, found, context, agent, now)
            if handoff is not None:
                return handoff
    return None


def _training_until(campaign, now: datetime) -> datetime | None:
    """accounts.services.training_current_until, on what campaign_with_training read."""
    if campaign.trained_at is None:
        return None
    policy = (
        training_policy()
        if campaign.training_days is None
        else TrainingPolicy(validity_days=campaign.training_days)
    )
    until = campaign.trained_at + policy.validity
    return until if until > now else None


def _decide_and_lease(target, campaign, context, agent, now) -> HandOff | None:
    if target.status == CampaignTarget.Status.LEASED:
        # An expired lease (the agent left): its call never got a disposition.
        _close_expired_attempt(target, now)
    phone = target.phone_number  # locked by the claim
    # Hand-offs of one number queue on its lock: one in another campaign may
    # have committed its attempt after the claim's snapshot. Left as it is;
    # the facts' statement reads whether it did.
    on_screen = _on_screen.bind(phone_number_id=phone.pk, now=now)
    if phone.number is None:  # erased since it was queued
        if on_screen.exists():
            return None
        _move_on(target, ["customer_erased"], None, agent)
        return None
    # The facts, attempt counts included (the call-history provider, campaigns.selectors),
    # are read after the number's lock: the attempt about to be created is not among them.
    try:
        decided = decision_make(
            number=str(phone.number),
            context=context,
            at=now,
            kind=DecisionRecord.Kind.HANDOFF,
            actor=agent,
            unless=on_screen,
        )
    except Withheld:
        return None
    if not decided.decision.allowed:
        _move_on(target, list(decided.decision.reasons), _retry_at(decided, phone, now), agent)
        return None
    target.status = CampaignTarget.Status.LEASED
    target.lease_agent = agent
    target.lease_until = now + LEASE
    target.attempts += 1
    target.blocked_reasons = []
    attempt = CallAttempt(
        target=target,
        campaign=campaign,
        phone_number=phone,
        subject=campaign.subject,
        agent=agent,
        decision=decided.record,
        caller_id=campaign.caller_id,
        handed_at=now,
    )
    # The lease, its history row and the attempt: one statement on PostgreSQL.
    writes = WriteBatch()
    writes.save_with_history(target, by=agent, reason="handed to an agent")
    writes.insert(attempt)
    writes.run()
    return HandOff(attempt=attempt, target=target, decision=decided.decision, record=decided.record)


def _retry_at(decided: Decided, phone, now) -> datetime | None:
    """None when blocked for good; else the next moment worth deciding again."""
    reasons = set(decided.decision.reasons)
    if reasons & PERMANENT_REASONS:
        return None
    candidates = []
    if reasons & TIME_REASONS:
        candidates.append(next_allowed_at(decided.facts, decided.rules) or now + FALLBACK_RETRY)
    if "frequency_cap" in reasons:
        oldest = CallAttempt.objects.filter(
            phone_number=phone, handed_at__gt=now - timedelta(hours=24)
        ).aggregate(oldest=Min("handed_at"))["oldest"]
        candidates.append((oldest or now) + timedelta(hours=24, seconds=1))
    if "dnc_data_stale" in reasons:
        candidates.append(now + STALE_DATA_RETRY)
    return max(candidates) if candidates else now + FALLBACK_RETRY


def _move_on(target: CampaignTarget, reasons: list[str], retry_at: datetime | None, agent) -> None:
    target.blocked_reasons = reasons
    if retry_at is None:
        target.status = CampaignTarget.Status.SUPPRESSED
    else:
        target.status = CampaignTarget.Status.QUEUED
        target.next_attempt_at = retry_at
    target.lease_agent = None
    target.lease_until = None
    reason = ("suppressed: " if retry_at is None else "rescheduled: ") + ", ".join(reasons)
    writes = WriteBatch()  # the target and its history row: one statement on PostgreSQL
    writes.save_with_history(target, by=agent, reason=reason)
    writes.run()


LEASE_EXPIRED_NOTE = "Lease expired before a disposition was recorded."
RELEASED_NOTE = "Released by the agent without an outcome."


def _close_expired_attempt(target: CampaignTarget, now: datetime) -> None:
    CallAttempt.objects.filter(target=target, ended_at__isnull=True, outcome="").update(
        ended_at=now, notes=LEASE_EXPIRED_NOTE
    )


class ReleaseError(Exception):
    """The attempt cannot be released (not yours, or already closed)."""


@transaction.atomic
def attempt_release(*, attempt: CallAttempt, agent, note: str = "") -> CallAttempt:
    """Let go of an open call without an outcome: the attempt is closed as an
    expired lease is (no outcome, a note saying so), and its target goes back
    to the queue, decided again at its next hand-off."""
    attempt = (
        CallAttempt.objects.select_for_update(of=("self", "target"))
        .select_related("target")
        .get(pk=attempt.pk)
    )
    if attempt.agent_id != agent.pk:
        raise ReleaseError("This call was handed to another agent.")
    if attempt.ended_at is not None or attempt.outcome:
        raise ReleaseError("This call is already closed.")
    now = timezone.now()
    attempt.ended_at = now
    attempt.notes = f"{RELEASED_NOTE} {note}".strip()
    attempt.save(update_fields=["ended_at", "notes"])
    target = attempt.target
    if target.status == CampaignTarget.Status.LEASED and target.lease_agent_id == agent.pk:
        target.status, target.next_attempt_at = CampaignTarget.Status.QUEUED, now
        target.lease_agent, target.lease_until = None, None
        history_save(target, by=agent, reason="released by the agent without an outcome")
    return attempt


def open_call_of(*, agent, now: datetime | None = None) -> CallAttempt | None:
    """The agent's latest call still on their screen, if any."""
    return (
        call_attempts_open(now or timezone.now())
        .filter(agent=agent)
        .select_related("phone_number__customer", "campaign", "decision", "agent")
        .order_by("-handed_at", "-pk")
        .first()
    )


class DispositionError(Exception):
    """The attempt cannot take this disposition (not yours, already closed, bad callback)."""


class CallbackRefused(DispositionError):
    """The callback time is outside the callee's windows (the engine's time
    reasons at that instant); `next_allowed` is the engine's next opening at
    or after it, None when nothing opens within its horizon."""

    def __init__(self, *, callback_at: datetime, reasons: list[str], next_allowed: datetime | None):
        self.callback_at, self.reasons, self.next_allowed = callback_at, reasons, next_allowed
        opening = (
            f"the next allowed time is {next_allowed.isoformat()}" if next_allowed else "none opens soon"
        )
        super().__init__(
            f"The callback time is outside the callee's windows ({', '.join(reasons)}); {opening}."
        )


def _callback_check(attempt: CallAttempt, callback_at: datetime) -> None:
    """Decide the call at the callback instant on the facts the hand-off
    reads; only the time-dependent reasons refuse it now (the rest may change
    by then, and the hand-off decides the call again when it is due)."""
    rules = ruleset_current()
    facts = facts_gather(
        number=str(attempt.phone_number.number),
        context=campaign_call_context(campaign=attempt.campaign),
        at=callback_at,
        rules=rules,
    )
    blocked = sorted(set(decide(facts, rules).reasons) & TIME_REASONS)
    if blocked:
        raise CallbackRefused(
            callback_at=callback_at, reasons=blocked, next_allowed=next_allowed_at(facts, rules)
        )


def _attempt_query(attempt_id: int, agent_id: int) -> QuerySet[CallAttempt]:
    """The agent's attempt, its target and its number locked (the number's
    lock is the one the opt-out and the hand-off take)."""
    return (
        CallAttempt.objects.filter(pk=attempt_id, agent_id=agent_id)
        .order_by()
        .select_for_update(of=("self", "target", "phone_number"))
        .select_related("target", "phone_number", "campaign")
    )


_attempt_locked = PreparedSelect(_attempt_query, ids=("attempt_id", "agent_id"))


@transaction.atomic
def attempt_dispose(
    *, attempt: CallAttempt | int, agent, outcome: str, callback_at: datetime | None = None, notes: str = ""
) -> CallAttempt:
    """Record how a call went. "do_not_call" is an opt-out (via agent); a
    callback is queued for its time and decided again when due. `attempt`
    is read again, locked, only if it is the agent's: given its id, the
    agent's attempt or CallAttempt.DoesNotExist (the API's 404: nobody
    else's attempt is locked, nor said to exist)."""
    given = attempt
    found = _attempt_locked.first(attempt_id=given if isinstance(given, int) else given.pk, agent_id=agent.pk)
    if found is None:
        if isinstance(given, CallAttempt) and given.agent_id != agent.pk:
            raise DispositionError("This call was handed to another agent.")
        raise CallAttempt.DoesNotExist("No such call of yours.")
    attempt = found
    if attempt.outcome:
        raise DispositionError(f"This call already has a disposition ({attempt.get_outcome_display()}).")
    if outcome not in CallAttempt.Outcome.values:
        raise DispositionError(f"Unknown outcome '{outcome}'.")
    now = timezone.now()
    if outcome == CallAttempt.Outcome.CALLBACK:
        if callback_at is None or callback_at <= now:
            raise DispositionError("A callback needs a time in the future.")
        _callback_check(attempt, callback_at)
    elif callback_at is not None:
        raise DispositionError("Only a callback takes a callback time.")
    attempt.outcome, attempt.callback_at, attempt.notes, attempt.ended_at = outcome, callback_at, notes, now
    target = attempt.target  # locked with the attempt
    target.lease_agent, target.lease_until = None, None
    if outcome == CallAttempt.Outcome.DO_NOT_CALL:
        consent_revoke(
            number=str(attempt.phone_number.number),
            via="agent",
            by=agent,
            note=notes or "Asked not to be called, during a call",
            evidence={"call_attempt": attempt.pk, "campaign": attempt.campaign_id},
        )
        target.status, target.blocked_reasons = CampaignTarget.Status.SUPPRESSED, ["dnc_internal"]
    elif outcome == CallAttempt.Outcome.WRONG_NUMBER:
        target.status, target.blocked_reasons = CampaignTarget.Status.SUPPRESSED, ["wrong_number"]
    elif outcome == CallAttempt.Outcome.CALLBACK:
        assert callback_at is not None  # a callback without a time was refused above
        target.status, target.next_attempt_at = CampaignTarget.Status.QUEUED, callback_at
    elif outcome in (CallAttempt.Outcome.CONNECTED,):
        target.status = CampaignTarget.Status.DONE
    else:  # no answer, busy, voicemail, abandoned: try again later
        target.status, target.next_attempt_at = CampaignTarget.Status.QUEUED, now + RETRY_AFTER_NO_CONTACT
    # The outcome, the target and its history row: one statement on PostgreSQL.
    writes = WriteBatch()
    writes.update(attempt, update_fields=["outcome", "callback_at", "notes", "ended_at"])
    writes.save_with_history(target, by=agent, reason=f"disposition: {outcome}")
    writes.run()
    if outcome == CallAttempt.Outcome.ABANDONED:
        # Over 3% abandoned (30 days) pauses an autodialed or prerecorded campaign.
        campaign_abandonment_check(attempt.campaign, now)
    return attempt
