"""RND answers and the rules about them: pure, no database, no clock.

The RND answers a query (a 10-digit number and a date) with "yes" (the number
was permanently disconnected on or after that date), "no" (disconnected
before it, or not in the database and the date on or after 2021-01-27, when
reporting began) or "no data" (not in the database, earlier date): the
reassigned.us FAQ and DA 21-1649 [P]. We add "error" for a query that got no
answer (a failed request, a bad response), so that the attempt is on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from compliance.rules import FEDERAL, RuleSet

YES = "yes"
NO = "no"
NO_DATA = "no_data"
ERROR = "error"
ANSWERS = (YES, NO, NO_DATA, ERROR)
# What the RND itself can answer (an import carries only these).
RND_ANSWERS = (YES, NO, NO_DATA)

# Which date was sent: the consent's `granted_at` (its UTC date), a later
# contact with the person (a purchase, an inquiry, the record's creation), or
# one a person typed in (an import, the admin).
DATE_CONSENT = "consent"
DATE_CONTACT = "contact"
DATE_MANUAL = "manual"
DATE_KINDS = (DATE_CONSENT, DATE_CONTACT, DATE_MANUAL)

# The first day of the RND's disconnect data: an unknown number with an
# earlier date is "no data".
RND_DATA_START = date(2021, 1, 27)
# What one API call and one upload file may carry (the RND's limits [P]).
API_BATCH_MAX = 1_000
UPLOAD_FILE_MAX = 250_000


def rnd_answer(*, date_sent: date, last_disconnect: date | None) -> str:
    """The RND's answer for a number whose last permanent disconnection is
    `last_disconnect` (None: not in the database), asked with `date_sent`."""
    if last_disconnect is not None:
        return YES if date_sent <= last_disconnect else NO
    return NO if date_sent >= RND_DATA_START else NO_DATA


def date_sent_for(instant: datetime) -> date:
    """The date to send for an instant (a consent's `granted_at`, a contact):
    its UTC date, whatever zone it was recorded in."""
    if instant.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return instant.astimezone(UTC).date()


@dataclass(frozen=True, slots=True)
class RndAnswer:
    """One recorded answer: what the ledger row says, without its chain."""

    query_id: int
    number: str
    date_sent: date
    date_kind: str
    answer: str
    queried_at: datetime
    provider: str
    rnd_update: str
    consent_id: int | None


def rnd_fresh_window(rules: RuleSet, *, on: date) -> timedelta | None:
    """How long a "no" stays fresh under the federal rule in effect on `on`
    (`rnd_fresh_hours`; the strictest if several apply). None when no rule
    gives one: then no answer is fresh (fail closed). The one reading of the
    rule value: decisions, pages and the query task all come here."""
    hours = min((rule.rnd_fresh_hours for rule in rules.rules_for(FEDERAL, on)), default=None)
    return None if hours is None else timedelta(hours=hours)


def answer_is_fresh(answer: RndAnswer, *, at: datetime, window: timedelta | None) -> bool:
    """A "no" is fresh while `at` is less than `window` after it was queried
    (and not before it: an answer from the future of `at` is no evidence at `at`)."""
    return window is not None and answer.queried_at <= at < answer.queried_at + window


def answer_voids_consent(answer: RndAnswer, *, granted_on: date) -> bool:
    """A "yes" for a date on or after the consent's date: the number was
    disconnected after the consent was given, so the consent belongs to
    someone else."""
    return answer.answer == YES and answer.date_sent >= granted_on


def answer_for_date(answers: tuple[RndAnswer, ...], *, date_sent: date) -> RndAnswer | None:
    """The latest real answer (not an error) for exactly this date."""
    found = [a for a in answers if a.date_sent == date_sent and a.answer != ERROR]
    return max(found, key=lambda a: (a.queried_at, a.query_id), default=None)
