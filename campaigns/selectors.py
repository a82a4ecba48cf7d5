"""Reads of campaigns, and the call context a campaign hands the compliance engine."""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery

from accounts.models import TrainingAcknowledgement, TrainingPolicy
from campaigns.models import CallAttempt, Campaign, CampaignTarget
from compliance.evidence import WindowEvidence
from compliance.facts import ContextRow, facts_gather
from compliance.policy import CallContext, decide, next_allowed_at
from compliance.ruleset import ruleset_current
from core.call_history import WINDOW, AttemptCounts, SqlFragment
from core.calls import CallMade
from core.lookups import AnyOf
from customers.models import PhoneNumber

# What campaign_call_context reads of a campaign: the check and the hand-off read only these.
CALL_CONTEXT_FIELDS = (
    "purpose",
    "dialing_mode",
    "subject",
    "status",
    "starts_at",
    "ends_at",
    "window_start",
    "window_end",
    "max_attempts_per_day",
    "litigator_policy",
)


def campaign_call_context(*, campaign: Campaign) -> CallContext:
    return CallContext(
        purpose=campaign.purpose,
        dialing_mode=campaign.dialing_mode,
        subject=campaign.subject,
        channel="voice",
        campaign_id=campaign.pk,
        campaign_status=campaign.status,
        campaign_starts_at=campaign.starts_at,
        campaign_ends_at=campaign.ends_at,
        window_start=campaign.window_start,
        window_end=campaign.window_end,
        max_attempts_per_day=campaign.max_attempts_per_day,
        litigator_policy=campaign.litigator_policy,
    )


def campaign_context_row(*, campaign_id: int) -> ContextRow:
    """A campaign's call context as the facts query reads it (the check)."""
    return ContextRow(
        model=Campaign,
        pk=campaign_id,
        fields=CALL_CONTEXT_FIELDS,
        build=lambda campaign: campaign_call_context(campaign=campaign),
    )


def campaign_with_training(*, campaign_id: int, agent) -> Campaign | None:
    """The campaign (None when there is none), read with what the hand-off
    checks of the agent, in one query: `trained_at`, the agent's latest
    compliance training acknowledgement (None: none), and `training_days`,
    the training policy's validity (None: no policy row yet)."""
    return campaigns_with_training(campaign_id=campaign_id, agent_id=agent.pk).first()


def campaigns_with_training(*, campaign_id: int, agent_id: int) -> QuerySet[Campaign]:
    """campaign_with_training's query."""
    return Campaign.objects.filter(pk=campaign_id).annotate(
        trained_at=Subquery(
            TrainingAcknowledgement.objects.filter(agent_id=agent_id)
            .order_by("-acknowledged_at")
            .values("acknowledged_at")[:1]
        ),
        training_days=Subquery(TrainingPolicy.objects.filter(pk=1).values("validity_days")),
    )


class CallAttemptHistory:
    """The call-history provider (core.call_history) over CallAttempt: every
    attempt handed out counts, whatever its outcome, from the moment it was
    handed (`handed_at`), in the 24 h before the instant (the instant itself
    included; an attempt created after the decision is not yet there)."""

    def _window(self, at: datetime) -> QuerySet[CallAttempt]:
        return CallAttempt.objects.filter(handed_at__gt=at - WINDOW, handed_at__lte=at)

    def attempts_24h(
        self, *, e164: str, subject: str, campaign_id: int | None, at: datetime
    ) -> AttemptCounts:
        counts = (
            self._window(at)
            .filter(phone_number__number=e164)
            .aggregate(
                same_subject=Count("id", filter=Q(subject=subject)),
                campaign=Count("id", filter=Q(campaign_id=campaign_id)),
            )
        )
        return AttemptCounts(same_subject=counts["same_subject"], campaign=counts["campaign"])

    def attempts_24h_many(
        self, *, numbers: Collection[str], subject: str, campaign_id: int | None, at: datetime
    ) -> dict[str, AttemptCounts]:
        if not numbers:
            return {}
        rows = (
            self._window(at)
            # One array parameter: the phone-number field would parse each value of an `__in` list again.
            .filter(AnyOf(F("phone_number__number"), set(numbers)))
            .values("phone_number__number")
            .annotate(
                same_subject=Count("id", filter=Q(subject=subject)),
                campaign=Count("id", filter=Q(campaign_id=campaign_id)),
            )
            .order_by()
            .values_list("phone_number__number", "same_subject", "campaign")
        )
        return {str(number): AttemptCounts(same_subject=s, campaign=c) for number, s, c in rows}

    def attempts_24h_sql(
        self, *, number_sql: str, subject_sql: str, campaign_sql: str, at: datetime
    ) -> SqlFragment | None:
        if connection.vendor != "postgresql":
            return None
        sql = f"""(SELECT ARRAY[count(*) FILTER (WHERE ch_a.subject = {subject_sql}),
                        count(*) FILTER (WHERE ch_a.campaign_id = {campaign_sql})]
             FROM {CallAttempt._meta.db_table} ch_a
             JOIN {PhoneNumber._meta.db_table} ch_p ON ch_p.id = ch_a.phone_number_id
            WHERE ch_p.number = {number_sql}
              AND ch_a.handed_at > %(ch_since)s AND ch_a.handed_at <= %(ch_at)s)"""
        return SqlFragment(sql=sql, params={"ch_since": at - WINDOW, "ch_at": at})


class CustomerCalls:
    """The calls-made provider (core.calls) over CallAttempt."""

    def calls_of_customer(self, *, customer_id: int, since: datetime | None = None) -> list[CallMade]:
        attempts = CallAttempt.objects.filter(phone_number__customer_id=customer_id)
        if since is not None:
            attempts = attempts.filter(handed_at__gte=since)
        return [
            CallMade(
                id=a.pk,
                number=str(a.phone_number.number),
                campaign=a.campaign.name,
                handed_at=a.handed_at,
                ended_at=a.ended_at,
                outcome=a.outcome,
                notes=a.notes,
                decision_id=a.decision_id,
            )
            for a in attempts.select_related("phone_number", "campaign").order_by("handed_at", "pk")
        ]

    def call_get(self, *, call_id: int) -> CallAttempt | None:
        return (
            CallAttempt.objects.select_related(
                "campaign", "agent", "phone_number__customer", "decision__actor"
            )
            .filter(pk=call_id)
            .first()
        )

    def campaign_name(self, *, campaign_id: int) -> str | None:
        return Campaign.objects.filter(pk=campaign_id).values_list("name", flat=True).first()


@dataclass(frozen=True)
class QueueOutlook:
    """Why a campaign's queue has nothing to call now, and when it opens."""

    waiting: int  # queued targets
    reasons: list[tuple[str, int]]  # (reason code, queued targets it moved on), most first
    with_agents: int  # leased now, in this campaign
    on_other_screens: int  # due, but the number is with an agent in another campaign
    due: int  # due and not yet decided (the next press decides them)
    first_opens_at: datetime | None  # the earliest instant a queued target may be called
    first_zone: str | None  # that target's first candidate zone
    first_blocked_by: list[WindowEvidence]  # the engine's windows that block that target now


LEASE = timedelta(minutes=10)  # how long a call handed out stays on its agent's screen without an outcome


def call_attempts_open(now: datetime) -> QuerySet[CallAttempt]:
    """Calls on an agent's screen: not ended, lease not expired. The one
    reading of it: the hand-off skips their numbers, the page counts them."""
    return CallAttempt.objects.filter(ended_at__isnull=True, handed_at__gte=now - LEASE)


def calls_to_number_recent(
    *, phone, besides: CallAttempt, now: datetime, count: int = 5
) -> list[CallAttempt]:
    """The last calls to a number in every campaign (the call card's list),
    each marked `on_screen` as call_attempts_open reads it."""
    return list(
        CallAttempt.objects.filter(phone_number=phone)
        .exclude(pk=besides.pk)
        .select_related("campaign")
        .annotate(on_screen=Exists(call_attempts_open(now).filter(pk=OuterRef("pk"))))
        .order_by("-handed_at")[:count]
    )


def campaign_queue_outlook(*, campaign: Campaign, now: datetime) -> QueueOutlook:
    """Counted over the queue in three queries; the target that comes due first
    is decided at `now` on the hand-off's facts (not logged) and its opening
    is the engine's next_allowed_at, or the time the hand-off set for it when
    no time rule holds it (a cap, stale registry data)."""
    queued = CampaignTarget.objects.filter(campaign=campaign, status=CampaignTarget.Status.QUEUED)
    counted: Counter[str] = Counter()
    for row in (
        queued.filter(next_attempt_at__gt=now).values("blocked_reasons").annotate(n=Count("id")).order_by()
    ):
        for code in row["blocked_reasons"] or []:
            counted[code] += row["n"]
    elsewhere = (
        call_attempts_open(now).filter(phone_number=OuterRef("phone_number")).exclude(campaign=campaign)
    )
    due = Q(status=CampaignTarget.Status.QUEUED, next_attempt_at__lte=now)
    totals = CampaignTarget.objects.filter(campaign=campaign).aggregate(
        waiting=Count("id", filter=Q(status=CampaignTarget.Status.QUEUED)),
        with_agents=Count("id", filter=Q(status=CampaignTarget.Status.LEASED, lease_until__gte=now)),
        on_other_screens=Count("id", filter=due & Q(Exists(elsewhere))),
        due=Count("id", filter=due & ~Q(Exists(elsewhere))),
        first=Min("next_attempt_at", filter=Q(status=CampaignTarget.Status.QUEUED, next_attempt_at__gt=now)),
    )
    first = (
        queued.filter(next_attempt_at=totals["first"])
        .select_related("phone_number")
        .order_by("-priority", "id")
        .first()
        if totals["first"] is not None
        else None
    )
    opens_at, zone, blocked_by = totals["first"], None, []
    if first is not None and first.phone_number.number is not None:
        rules = ruleset_current()
        facts = facts_gather(
            number=str(first.phone_number.number),
            context=campaign_call_context(campaign=campaign),
            at=now,
            rules=rules,
        )
        evidence = decide(facts, rules).evidence
        blocked_by = [window for window in evidence.get("windows", []) if window.get("blocks")]
        zone = facts.candidate_zones[0] if facts.candidate_zones else None
        opening = next_allowed_at(facts, rules)
        if opening is not None and opening > now:
            opens_at = opening
    return QueueOutlook(
        waiting=totals["waiting"],
        reasons=counted.most_common(),
        with_agents=totals["with_agents"],
        on_other_screens=totals["on_other_screens"],
        due=totals["due"],
        first_opens_at=opens_at,
        first_zone=zone,
        first_blocked_by=blocked_by,
    )
