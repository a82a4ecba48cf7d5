"""Reads of the RND query ledger."""

from collections.abc import Collection
from datetime import date, datetime, timedelta

from django.db.models import Q

from compliance.rnd.answers import ERROR, YES, RndAnswer
from compliance.rnd.models import RndQuery

_FIELDS = (
    "id",
    "phone_number",
    "date_sent",
    "date_kind",
    "answer",
    "queried_at",
    "provider",
    "rnd_update",
    "consent_id",
)


def rnd_latest_answers(*, numbers: Collection[str], at: datetime) -> dict[str, tuple[RndAnswer, ...]]:
    """Per E.164 number, the latest answer known at `at` (queried at or
    before it; errors are no answer) for each date sent, latest date first.
    One query whatever the count; a number never answered is absent.
    A decision picks from these with compliance.rnd.answers
    (answer_voids_consent, answer_for_date, answer_is_fresh)."""
    if not numbers:
        return {}
    rows = (
        RndQuery.objects.filter(phone_number__in=set(numbers), queried_at__lte=at)
        .exclude(answer=ERROR)
        .order_by("phone_number", "-date_sent", "-queried_at", "-id")
        .values_list(*_FIELDS)
    )
    found: dict[str, list[RndAnswer]] = {}
    seen: set[tuple[str, date]] = set()
    for query_id, number, date_sent, date_kind, answer, queried_at, provider, rnd_update, consent_id in rows:
        if (number, date_sent) in seen:
            continue
        seen.add((number, date_sent))
        found.setdefault(number, []).append(
            RndAnswer(
                query_id=query_id,
                number=number,
                date_sent=date_sent,
                date_kind=date_kind,
                answer=answer,
                queried_at=queried_at,
                provider=provider,
                rnd_update=rnd_update,
                consent_id=consent_id,
            )
        )
    return {number: tuple(answers) for number, answers in found.items()}


def rnd_answered(
    *, keys: Collection[tuple[str, date]], at: datetime, window: timedelta | None
) -> set[tuple[str, date]]:
    """Of these (number, date sent) pairs, those that need no query at `at`:
    a "yes" (a disconnection after the date stays one), or any answer queried
    less than `window` before `at`. One query (numbers, then pairs in Python)."""
    if not keys:
        return set()
    wanted = set(keys)
    recent = Q(answer=YES)
    if window is not None:
        recent |= Q(queried_at__gt=at - window, queried_at__lte=at)
    rows = (
        RndQuery.objects.filter(phone_number__in={number for number, _day in wanted})
        .exclude(answer=ERROR)
        .filter(recent)
        .values_list("phone_number", "date_sent")
    )
    return {key for key in rows if key in wanted}
