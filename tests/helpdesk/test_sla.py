"""Due times count business hours only: nights and weekends are skipped."""

from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.sla import business_due

NY = "America/New_York"
WEEKDAYS = {0, 1, 2, 3, 4}


def due(start, hours):
    return business_due(
        start=start, hours=hours, zone=NY, day_start=time(9), day_end=time(17), weekdays=WEEKDAYS
    )


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Tuesday 10:00 New York (15:00 UTC) + 4 h = 14:00 the same day.
        (datetime(2026, 11, 17, 15, 0, tzinfo=UTC), 4, datetime(2026, 11, 17, 19, 0, tzinfo=UTC)),
        # Tuesday 15:00 + 4 h: 2 h today, 2 h Wednesday from 09:00 -> Wednesday 11:00.
        (datetime(2026, 11, 17, 20, 0, tzinfo=UTC), 4, datetime(2026, 11, 18, 16, 0, tzinfo=UTC)),
        # Friday 16:00 + 8 h: 1 h Friday, 7 h Monday -> Monday 16:00.
        (datetime(2026, 11, 20, 21, 0, tzinfo=UTC), 8, datetime(2026, 11, 23, 21, 0, tzinfo=UTC)),
        # Saturday noon: counting starts Monday 09:00 -> Monday 11:00.
        (datetime(2026, 11, 21, 17, 0, tzinfo=UTC), 2, datetime(2026, 11, 23, 16, 0, tzinfo=UTC)),
        # Tuesday 03:00 (night): from 09:00 -> 10:00.
        (datetime(2026, 11, 17, 8, 0, tzinfo=UTC), 1, datetime(2026, 11, 17, 15, 0, tzinfo=UTC)),
        # Across the DST change (Sunday 2026-11-01): Friday 16:00 EDT + 2 h -> Monday 10:00 EST.
        (datetime(2026, 10, 30, 20, 0, tzinfo=UTC), 2, datetime(2026, 11, 2, 15, 0, tzinfo=UTC)),
    ],
)
def test_business_hours_skip_nights_and_weekends(start, hours, expected):
    assert due(start, hours) == expected


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    hours=st.integers(min_value=1, max_value=60),
)
def test_a_due_time_is_always_inside_business_hours_and_never_before_the_hours_elapse(start, hours):
    from zoneinfo import ZoneInfo

    result = due(start, hours)
    local = result.astimezone(ZoneInfo(NY))
    assert local.weekday() in WEEKDAYS
    assert time(9) < local.time() <= time(17)
    assert (result - start).total_seconds() >= hours * 3600
