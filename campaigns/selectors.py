"""Reads of campaigns, and the call context a campaign hands the compliance engine."""

from collections.abc import Collection
from datetime import datetime

from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from campaigns.models import CallAttempt, Campaign
from compliance.policy import CallContext
from core.call_history import WINDOW, AttemptCounts, SqlFragment
from core.calls import CallMade
from core.lookups import AnyOf
from customers.models import PhoneNumber


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
        self, *, number_sql: str, subject: str, campaign_id: int | None, at: datetime
    ) -> SqlFragment | None:
        if connection.vendor != "postgresql":
            return None
        sql = f"""(SELECT ARRAY[count(*) FILTER (WHERE ch_a.subject = %(ch_subject)s),
                        count(*) FILTER (WHERE ch_a.campaign_id = %(ch_campaign)s)]
             FROM {CallAttempt._meta.db_table} ch_a
             JOIN {PhoneNumber._meta.db_table} ch_p ON ch_p.id = ch_a.phone_number_id
            WHERE ch_p.number = {number_sql}
              AND ch_a.handed_at > %(ch_since)s AND ch_a.handed_at <= %(ch_at)s)"""
        return SqlFragment(
            sql=sql,
            params={"ch_subject": subject, "ch_campaign": campaign_id, "ch_since": at - WINDOW, "ch_at": at},
        )


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
