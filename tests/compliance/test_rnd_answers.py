"""The RND's answer logic at its edges (reassigned.us FAQ, DA 21-1649) and
the freshness of a "no" (a rule value: rnd_fresh_hours, 30 x 24 h)."""

import datetime as dt

import pytest

from compliance.rnd.answers import (
    NO,
    NO_DATA,
    RND_DATA_START,
    YES,
    RndAnswer,
    answer_for_date,
    answer_is_fresh,
    answer_voids_consent,
    date_sent_for,
    rnd_answer,
    rnd_fresh_window,
)
from compliance.rules import rule_records_from_toml, ruleset_build, ruleset_from_file

D = dt.date


@pytest.mark.parametrize(
    ("date_sent", "last_disconnect", "answer"),
    [
        (D(2024, 3, 1), D(2024, 3, 1), YES),  # disconnected on the consent's date: the consent is void
        (D(2024, 3, 1), D(2024, 6, 30), YES),  # disconnected after it
        (D(2024, 3, 2), D(2024, 3, 1), NO),  # disconnected the day before: reassigned to our person
        (D(2019, 5, 1), D(2022, 1, 1), YES),  # in the database: no start date applies
        (D(2021, 1, 27), None, NO),  # not in the database, the first day of its data
        (D(2021, 1, 26), None, NO_DATA),  # the day before: no data
        (D(2030, 1, 1), None, NO),
    ],
)
def test_the_rnd_answers_at_its_edges(date_sent, last_disconnect, answer):
    assert rnd_answer(date_sent=date_sent, last_disconnect=last_disconnect) == answer


def test_reporting_began_on_2021_01_27():
    assert D(2021, 1, 27) == RND_DATA_START


def test_the_date_sent_is_the_utc_date_of_the_instant():
    # 21:30 in New York on March 1 is March 2 in UTC.
    evening = dt.datetime(2024, 3, 1, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert date_sent_for(evening) == D(2024, 3, 2)
    with pytest.raises(ValueError):
        date_sent_for(dt.datetime(2024, 3, 1))


MARCH_1 = D(2024, 3, 1)
QUERIED = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def _answer(answer=NO, *, date_sent=MARCH_1, queried_at=QUERIED, qid=1):
    return RndAnswer(
        query_id=qid,
        number="+12125550100",
        date_sent=date_sent,
        date_kind="consent",
        answer=answer,
        queried_at=queried_at,
        provider="recorded",
        rnd_update="",
        consent_id=None,
    )


def test_a_no_is_fresh_for_30_times_24_hours_after_the_query_and_stale_at_that_instant():
    window = rnd_fresh_window(ruleset_from_file(), on=D(2026, 1, 1))
    assert window == dt.timedelta(hours=720)
    answer = _answer()
    queried = answer.queried_at
    assert answer_is_fresh(answer, at=queried, window=window)
    assert answer_is_fresh(
        answer, at=queried + dt.timedelta(days=30) - dt.timedelta(microseconds=1), window=window
    )
    assert not answer_is_fresh(answer, at=queried + dt.timedelta(days=30), window=window)
    assert not answer_is_fresh(answer, at=queried - dt.timedelta(seconds=1), window=window)  # not yet asked
    assert not answer_is_fresh(answer, at=queried, window=None)  # no rule: nothing is fresh


def test_the_freshness_is_the_rule_sets_value():
    records = [
        {**record, "rnd_fresh_hours": 48} if record["jurisdiction"] == "US" else record
        for record in rule_records_from_toml()
    ]
    assert rnd_fresh_window(ruleset_build(records), on=D(2026, 1, 1)) == dt.timedelta(hours=48)
    assert (
        rnd_fresh_window(ruleset_build([r for r in records if r["jurisdiction"] != "US"]), on=D(2026, 1, 1))
        is None
    )


def test_a_yes_for_the_consents_date_or_later_voids_it():
    granted = D(2024, 3, 1)
    assert answer_voids_consent(_answer(YES, date_sent=granted), granted_on=granted)
    assert answer_voids_consent(_answer(YES, date_sent=D(2024, 9, 1)), granted_on=granted)
    assert not answer_voids_consent(_answer(YES, date_sent=D(2024, 2, 29)), granted_on=granted)
    assert not answer_voids_consent(_answer(NO, date_sent=granted), granted_on=granted)


def test_the_latest_answer_for_a_date_wins_and_errors_are_no_answer():
    early = _answer(NO, queried_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), qid=1)
    late = _answer(YES, queried_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC), qid=2)
    failed = _answer("error", queried_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), qid=3)
    assert answer_for_date((early, late, failed), date_sent=D(2024, 3, 1)) == late
    assert answer_for_date((early,), date_sent=D(2024, 3, 2)) is None
