"""Due times: business hours for a queue's SLA, calendar days for data requests."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# GDPR art. 12(3): one month; CCPA 1798.130(a)(2): 45 days.
DATA_REQUEST_DAYS = {"gdpr": 30, "ccpa": 45}


def business_due(
    *, start: datetime, hours: float, zone: str, day_start, day_end, weekdays: set[int]
) -> datetime:
    """`start` plus `hours` of working time: only the hours between
    `day_start` and `day_end` on `weekdays`, in the queue's time zone, count.
    A ticket opened at night or on a weekend starts counting at the next
    opening. Returns an aware datetime in UTC."""
    if hours <= 0:
        return start
    if not weekdays:
        raise ValueError("A queue needs at least one working day.")
    tz = ZoneInfo(zone)
    cursor = start.astimezone(tz)
    remaining = timedelta(hours=hours)
    while True:
        opens = cursor.replace(hour=day_start.hour, minute=day_start.minute, second=0, microsecond=0)
        closes = cursor.replace(hour=day_end.hour, minute=day_end.minute, second=0, microsecond=0)
        if cursor.weekday() in weekdays and cursor < closes:
            begin = max(cursor, opens)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(ZoneInfo("UTC"))
            remaining -= available
        # The next day's opening, at its own UTC offset (DST changes included).
        next_day = (cursor + timedelta(days=1)).date()
        cursor = datetime(
            next_day.year, next_day.month, next_day.day, day_start.hour, day_start.minute, tzinfo=tz
        )


def ticket_due(*, ticket_type: str, legal_basis: str, queue, start: datetime) -> datetime:
    if legal_basis and ticket_type in ("data_access", "erasure"):
        return start + timedelta(days=DATA_REQUEST_DAYS[legal_basis])
    return business_due(
        start=start,
        hours=queue.sla_hours,
        zone=queue.business_time_zone,
        day_start=queue.business_day_start,
        day_end=queue.business_day_end,
        weekdays=queue.weekdays,
    )
