"""next_allowed_at: when a call blocked for now may be tried again. Pure."""

from datetime import UTC, datetime, time, timedelta

from compliance.policy import decide, next_allowed_at
from tests.compliance.policy_factories import (
    BOISE,
    DALLAS,
    NEW_YORK,
    PROVIDENCE,
    SALT_LAKE,
    call_facts,
    context,
    eastern,
    local,
    rules,
)


def next_of(facts):
    return next_allowed_at(facts, rules())


def test_an_allowed_call_may_go_now():
    facts = call_facts(at=eastern(2025, 3, 12, 12, 0))
    assert next_of(facts) == facts.at


def test_after_the_federal_window_the_next_morning():
    assert next_of(call_facts(number=NEW_YORK, at=eastern(2025, 3, 12, 21, 30))) == eastern(2025, 3, 13, 8, 0)


def test_across_the_spring_dst_change():
    # Saturday 2025-03-08 22:00 EST; Sunday 08:00 is EDT.
    assert next_of(call_facts(number=NEW_YORK, at=eastern(2025, 3, 8, 22, 0))) == datetime(
        2025, 3, 9, 12, 0, tzinfo=UTC
    )


def test_rhode_island_sunday_waits_for_monday_nine():
    assert next_of(call_facts(number=PROVIDENCE, at=eastern(2025, 3, 16, 12, 0))) == eastern(
        2025, 3, 17, 9, 0
    )


def test_rhode_island_friday_evening_waits_for_saturday_ten():
    assert next_of(call_facts(number=PROVIDENCE, at=eastern(2025, 8, 8, 18, 30))) == eastern(
        2025, 8, 9, 10, 0
    )


def test_rhode_island_skips_sunday_and_a_state_holiday():
    # Sunday 2025-08-10, then Victory Day on Monday 08-11.
    assert next_of(call_facts(number=PROVIDENCE, at=eastern(2025, 8, 10, 12, 0))) == eastern(
        2025, 8, 12, 9, 0
    )


def test_texas_sunday_noon():
    at = local("America/Chicago", 2025, 3, 16, 10, 0)
    assert next_of(call_facts(number=DALLAS, at=at)) == local("America/Chicago", 2025, 3, 16, 12, 0)


def test_a_multi_zone_number_waits_for_the_latest_zone():
    at = local("America/Denver", 2025, 3, 12, 7, 0)
    assert next_of(call_facts(number=BOISE, at=at)) == local("America/Los_Angeles", 2025, 3, 12, 8, 0)


def test_utah_sunday_without_consent_waits_for_monday():
    facts = call_facts(
        number=SALT_LAKE,
        at=local("America/Denver", 2025, 3, 16, 12, 0),
        consents=(),
        context=context(dialing_mode="manual"),
    )
    assert next_of(facts) == local("America/Denver", 2025, 3, 17, 8, 0)


def test_the_campaign_window_opens_the_next_day():
    facts = call_facts(
        at=eastern(2025, 3, 12, 17, 30), context=context(window_start=time(9, 0), window_end=time(17, 0))
    )
    assert next_of(facts) == eastern(2025, 3, 13, 9, 0)


def test_a_campaign_that_starts_at_night_waits_for_the_morning():
    starts = eastern(2025, 3, 14, 2, 0)
    facts = call_facts(at=eastern(2025, 3, 12, 12, 0), context=context(campaign_starts_at=starts))
    assert next_of(facts) == eastern(2025, 3, 14, 8, 0)


def test_a_campaign_that_starts_in_the_afternoon_starts_then():
    starts = eastern(2025, 3, 14, 15, 17)
    facts = call_facts(at=eastern(2025, 3, 12, 12, 0), context=context(campaign_starts_at=starts))
    assert next_of(facts) == starts


def test_nothing_within_eight_days_is_none():
    starts = eastern(2025, 3, 12, 12, 0) + timedelta(days=10)
    facts = call_facts(at=eastern(2025, 3, 12, 12, 0), context=context(campaign_starts_at=starts))
    assert next_of(facts) is None


def test_a_campaign_that_is_paused_or_over_is_none():
    at = eastern(2025, 3, 12, 22, 0)
    assert next_of(call_facts(at=at, context=context(campaign_status="paused"))) is None
    assert next_of(call_facts(at=at, context=context(campaign_ends_at=at - timedelta(hours=1)))) is None


def test_a_campaign_ending_before_the_window_opens_is_none():
    at = eastern(2025, 3, 12, 22, 0)
    assert next_of(call_facts(at=at, context=context(campaign_ends_at=eastern(2025, 3, 13, 7, 0)))) is None


def test_a_permanent_block_is_none():
    assert next_of(call_facts(at=eastern(2025, 3, 12, 22, 0), consents=())) is None
    assert next_of(call_facts(at=eastern(2025, 3, 12, 22, 0), internal_dnc=True)) is None


def test_a_frequency_cap_is_left_to_the_caller():
    facts = call_facts(
        at=eastern(2025, 3, 12, 22, 0), attempts_24h_campaign=5, context=context(max_attempts_per_day=2)
    )
    assert decide(facts, rules()).reasons == ("outside_calling_hours", "frequency_cap")
    assert next_of(facts) == eastern(2025, 3, 13, 8, 0)
