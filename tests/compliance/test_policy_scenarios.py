"""Scenarios straight from REGULATIONS.md: each case is one call and the
reasons `decide` must give (empty = allowed). Pure: no database."""

from datetime import UTC, datetime, time, timedelta

import pytest

from compliance.policy import RegistryFact, decide
from tests.compliance.policy_factories import (
    BALTIMORE,
    BIRMINGHAM,
    BOISE,
    DALLAS,
    HARTFORD,
    JACKSON,
    MIAMI,
    NEW_YORK,
    OKLAHOMA_CITY,
    PHILADELPHIA,
    PROVIDENCE,
    SALT_LAKE,
    SEATTLE,
    TOLL_FREE,
    call_facts,
    consent,
    context,
    eastern,
    fresh_registry,
    local,
    rules,
)

CENTRAL = "America/Chicago"
MOUNTAIN = "America/Denver"
PACIFIC = "America/Los_Angeles"
BOISE_TIME = "America/Boise"

MANUAL_MARKETING = context(dialing_mode="manual")
AUTO_INFORMATIONAL = context(purpose="informational", subject="delivery")
MANUAL_INFORMATIONAL = context(purpose="informational", dialing_mode="manual", subject="delivery")

# 2025-03-12 is a Wednesday, 03-15 a Saturday, 03-16 a Sunday.
WEDNESDAY = (2025, 3, 12)
SATURDAY = (2025, 3, 15)
SUNDAY = (2025, 3, 16)


def at_eastern(day, hour, minute=0, second=0):
    return eastern(*day, hour, minute, second)


def at_central(day, hour, minute=0):
    return local(CENTRAL, *day, hour, minute)


def at_mountain(day, hour, minute=0):
    return local(MOUNTAIN, *day, hour, minute)


def at_pacific(day, hour, minute=0):
    return local(PACIFIC, *day, hour, minute)


def reasons_of(facts):
    return decide(facts, rules()).reasons


def case(expected, id, **facts):
    return pytest.param(call_facts(**facts), tuple(expected), id=id)


WINDOW_EDGES = [
    # Federal, 08:00-21:00, end exclusive (NY has no state window).
    case(["outside_calling_hours"], "federal 07:59", number=NEW_YORK, at=at_eastern(WEDNESDAY, 7, 59)),
    case([], "federal 08:00", number=NEW_YORK, at=at_eastern(WEDNESDAY, 8, 0)),
    case([], "federal 20:59:59", number=NEW_YORK, at=at_eastern(WEDNESDAY, 20, 59, 59)),
    case(["outside_calling_hours"], "federal 21:00", number=NEW_YORK, at=at_eastern(WEDNESDAY, 21, 0)),
    # The federal window binds informational calls too (DESIGN: windows apply to every call).
    case(
        ["outside_calling_hours"],
        "federal 21:00 informational manual",
        number=NEW_YORK,
        at=at_eastern(WEDNESDAY, 21, 0),
        context=MANUAL_INFORMATIONAL,
    ),
    # FL 08:00-20:00.
    case(["outside_calling_hours"], "FL 07:59", number=MIAMI, at=at_eastern(WEDNESDAY, 7, 59)),
    case([], "FL 08:00", number=MIAMI, at=at_eastern(WEDNESDAY, 8, 0)),
    case([], "FL 19:59", number=MIAMI, at=at_eastern(WEDNESDAY, 19, 59)),
    case(["outside_calling_hours"], "FL 20:00", number=MIAMI, at=at_eastern(WEDNESDAY, 20, 0)),
    # State windows bind marketing calls only: an informational FL call at 20:30 is fine.
    case(
        [],
        "FL 20:30 informational",
        number=MIAMI,
        at=at_eastern(WEDNESDAY, 20, 30),
        context=AUTO_INFORMATIONAL,
    ),
    # CT 09:00-20:00.
    case(["outside_calling_hours"], "CT 08:59", number=HARTFORD, at=at_eastern(WEDNESDAY, 8, 59)),
    case([], "CT 09:00", number=HARTFORD, at=at_eastern(WEDNESDAY, 9, 0)),
    case([], "CT 19:59", number=HARTFORD, at=at_eastern(WEDNESDAY, 19, 59)),
    case(["outside_calling_hours"], "CT 20:00", number=HARTFORD, at=at_eastern(WEDNESDAY, 20, 0)),
    # RI Mon-Fri 09:00-18:00, Sat 10:00-17:00.
    case(["outside_calling_hours"], "RI weekday 08:59", number=PROVIDENCE, at=at_eastern(WEDNESDAY, 8, 59)),
    case([], "RI weekday 17:59", number=PROVIDENCE, at=at_eastern(WEDNESDAY, 17, 59)),
    case(["outside_calling_hours"], "RI weekday 18:00", number=PROVIDENCE, at=at_eastern(WEDNESDAY, 18, 0)),
    case(["outside_calling_hours"], "RI Saturday 09:59", number=PROVIDENCE, at=at_eastern(SATURDAY, 9, 59)),
    case([], "RI Saturday 10:00", number=PROVIDENCE, at=at_eastern(SATURDAY, 10, 0)),
    case([], "RI Saturday 16:59", number=PROVIDENCE, at=at_eastern(SATURDAY, 16, 59)),
    case(["outside_calling_hours"], "RI Saturday 17:00", number=PROVIDENCE, at=at_eastern(SATURDAY, 17, 0)),
    # TX Mon-Sat 09:00-21:00, Sun 12:00-21:00 (Central).
    case(["outside_calling_hours"], "TX weekday 08:59", number=DALLAS, at=at_central(WEDNESDAY, 8, 59)),
    case([], "TX weekday 09:00", number=DALLAS, at=at_central(WEDNESDAY, 9, 0)),
    case([], "TX Saturday 20:59", number=DALLAS, at=at_central(SATURDAY, 20, 59)),
    case(["outside_calling_hours"], "TX Saturday 21:00", number=DALLAS, at=at_central(SATURDAY, 21, 0)),
    case(["outside_calling_hours"], "TX Sunday 11:59", number=DALLAS, at=at_central(SUNDAY, 11, 59)),
    case([], "TX Sunday 12:00", number=DALLAS, at=at_central(SUNDAY, 12, 0)),
    # UT 08:00-21:00 (Mountain).
    case([], "UT 20:59", number=SALT_LAKE, at=at_mountain(WEDNESDAY, 20, 59)),
    case(["outside_calling_hours"], "UT 21:00", number=SALT_LAKE, at=at_mountain(WEDNESDAY, 21, 0)),
    # PA 08:00-21:00.
    case([], "PA 20:59", number=PHILADELPHIA, at=at_eastern(WEDNESDAY, 20, 59)),
    case(["outside_calling_hours"], "PA 21:00", number=PHILADELPHIA, at=at_eastern(WEDNESDAY, 21, 0)),
    # WA, OK, MD, MS 08:00-20:00.
    case([], "WA 19:59", number=SEATTLE, at=at_pacific(WEDNESDAY, 19, 59)),
    case(["outside_calling_hours"], "WA 20:00", number=SEATTLE, at=at_pacific(WEDNESDAY, 20, 0)),
    case(["outside_calling_hours"], "OK 20:00", number=OKLAHOMA_CITY, at=at_central(WEDNESDAY, 20, 0)),
    case(["outside_calling_hours"], "MD 20:00", number=BALTIMORE, at=at_eastern(WEDNESDAY, 20, 0)),
    case([], "MS 19:59", number=JACKSON, at=at_central(WEDNESDAY, 19, 59)),
    # The campaign's own window, for every call.
    case(
        ["outside_calling_hours"],
        "campaign window end",
        number=NEW_YORK,
        at=at_eastern(WEDNESDAY, 17, 0),
        context=context(window_start=time(9, 0), window_end=time(17, 0)),
    ),
    case(
        [],
        "campaign window inside",
        number=NEW_YORK,
        at=at_eastern(WEDNESDAY, 16, 59),
        context=context(window_start=time(9, 0), window_end=time(17, 0)),
    ),
]

DAY_RULES = [
    case(["restricted_day"], "RI Sunday", number=PROVIDENCE, at=at_eastern(SUNDAY, 12, 0)),
    case(
        ["restricted_day"], "RI state holiday Victory Day", number=PROVIDENCE, at=eastern(2025, 8, 11, 12, 0)
    ),
    case(["restricted_day"], "RI federal holiday", number=PROVIDENCE, at=eastern(2025, 7, 4, 12, 0)),
    case(["restricted_day"], "MS Sunday", number=JACKSON, at=at_central(SUNDAY, 12, 0)),
    case([], "MS Monday", number=JACKSON, at=local(CENTRAL, 2025, 3, 17, 12, 0)),
    # AL bans Sundays and holidays for automated calls only.
    case(["restricted_day"], "AL Sunday autodialed", number=BIRMINGHAM, at=at_central(SUNDAY, 12, 0)),
    case([], "AL Sunday manual", number=BIRMINGHAM, at=at_central(SUNDAY, 12, 0), context=MANUAL_MARKETING),
    case(
        ["restricted_day"],
        "AL holiday autodialed informational",
        number=BIRMINGHAM,
        at=local(CENTRAL, 2025, 4, 28, 12, 0),
        context=AUTO_INFORMATIONAL,
    ),
    case(["outside_calling_hours"], "AL automated 20:00", number=BIRMINGHAM, at=at_central(WEDNESDAY, 20, 0)),
    # UT: no Sunday, no holiday without prior express consent; with it they are fine.
    case(
        ["restricted_day"],
        "UT Sunday without consent",
        number=SALT_LAKE,
        at=at_mountain(SUNDAY, 12, 0),
        context=MANUAL_MARKETING,
        consents=(),
    ),
    case([], "UT Sunday with consent", number=SALT_LAKE, at=at_mountain(SUNDAY, 12, 0)),
    case(
        ["restricted_day"],
        "UT Pioneer Day without consent",
        number=SALT_LAKE,
        at=local(MOUNTAIN, 2025, 7, 24, 12, 0),
        context=MANUAL_MARKETING,
        consents=(),
    ),
    case([], "UT Pioneer Day with consent", number=SALT_LAKE, at=local(MOUNTAIN, 2025, 7, 24, 12, 0)),
    case(
        ["restricted_day"],
        "UT Sunday with a revoked consent",
        number=SALT_LAKE,
        at=at_mountain(SUNDAY, 12, 0),
        context=MANUAL_MARKETING,
        consents=(consent(revoked_at=datetime(2025, 1, 1, tzinfo=UTC)),),
    ),
    case(
        ["outside_calling_hours"],
        "UT Sunday with consent 21:00",
        number=SALT_LAKE,
        at=at_mountain(SUNDAY, 21, 0),
    ),
    # PA: no legal holiday (federal ones included).
    case(["restricted_day"], "PA Independence Day", number=PHILADELPHIA, at=eastern(2025, 7, 4, 12, 0)),
    case([], "PA the day after", number=PHILADELPHIA, at=eastern(2025, 7, 7, 12, 0)),
    # NY has no holiday ban.
    case([], "NY Independence Day", number=NEW_YORK, at=eastern(2025, 7, 4, 12, 0)),
    # Informational calls are not bound by state day rules (RI, marketing only).
    case(
        [],
        "RI Sunday informational",
        number=PROVIDENCE,
        at=at_eastern(SUNDAY, 12, 0),
        context=AUTO_INFORMATIONAL,
    ),
]

ZONES_AND_STATES = [
    # 208 spans Mountain and Pacific: the call must be allowed in both.
    case(
        ["outside_calling_hours"],
        "208 08:30 Mountain = 07:30 Pacific",
        number=BOISE,
        at=at_mountain(WEDNESDAY, 8, 30),
    ),
    case([], "208 09:00 Mountain = 08:00 Pacific", number=BOISE, at=at_mountain(WEDNESDAY, 9, 0)),
    case([], "208 20:59 Mountain", number=BOISE, at=at_mountain(WEDNESDAY, 20, 59)),
    case(
        ["outside_calling_hours"],
        "208 21:00 Mountain = 20:00 Pacific",
        number=BOISE,
        at=at_mountain(WEDNESDAY, 21, 0),
    ),
    # A 305 (Florida, Eastern) number with a Texas address (Central): both states' rules in both zones.
    case(
        ["outside_calling_hours"],
        "305 with TX address, 09:30 Eastern = 08:30 Central",
        number=MIAMI,
        address_state="TX",
        postal_code="75201",
        at=at_eastern(WEDNESDAY, 9, 30),
        registry=fresh_registry(at_eastern(WEDNESDAY, 9, 30), ("TX",)),
    ),
    case(
        [],
        "305 with TX address, 10:00 Eastern = 09:00 Central",
        number=MIAMI,
        address_state="TX",
        postal_code="75201",
        at=at_eastern(WEDNESDAY, 10, 0),
        registry=fresh_registry(at_eastern(WEDNESDAY, 10, 0), ("TX",)),
    ),
    case(
        ["outside_calling_hours"],
        "305 with TX address, Sunday 12:30 Eastern = 11:30 Central",
        number=MIAMI,
        address_state="TX",
        postal_code="75201",
        at=at_eastern(SUNDAY, 12, 30),
        registry=fresh_registry(at_eastern(SUNDAY, 12, 30), ("TX",)),
    ),
    case(
        ["outside_calling_hours"],
        "305 with TX address, 20:00 Eastern (FL closes) = 19:00 Central",
        number=MIAMI,
        address_state="TX",
        postal_code="75201",
        at=at_eastern(WEDNESDAY, 20, 0),
        registry=fresh_registry(at_eastern(WEDNESDAY, 20, 0), ("TX",)),
    ),
    # A New York number whose customer lives in Rhode Island: RI's rules apply.
    case(
        ["restricted_day"],
        "212 with RI address on Sunday",
        number=NEW_YORK,
        address_state="RI",
        at=at_eastern(SUNDAY, 12, 0),
    ),
    # Toll-free and other non-geographic numbers: no zone, blocked.
    case(["timezone_unknown"], "toll-free", number=TOLL_FREE),
    case(
        ["timezone_unknown"], "toll-free manual informational", number=TOLL_FREE, context=MANUAL_INFORMATIONAL
    ),
    case(["invalid_number", "timezone_unknown"], "invalid number", number="+1555"),
]

PURCHASE = datetime(2023, 9, 12, 16, 0, tzinfo=UTC)
EIGHTEEN_MONTHS_LATER = datetime(2025, 3, 12, 16, 0, tzinfo=UTC)  # a Wednesday noon Eastern
INQUIRY = datetime(2024, 12, 12, 16, 0, tzinfo=UTC)  # 3 months before EIGHTEEN_MONTHS_LATER
LISTED = fresh_registry(EIGHTEEN_MONTHS_LATER, listed=("national",))


def listed_manual(id, expected, at=EIGHTEEN_MONTHS_LATER, **facts):
    """A manual marketing call, without consent, to a number on the national registry."""
    facts.setdefault("registry", fresh_registry(at, listed=("national",)))
    facts.setdefault("consents", ())
    return case(expected, id, at=at, context=MANUAL_MARKETING, **facts)


EBR = [
    listed_manual("listed, no exemption", ["dnc_national"]),
    listed_manual(
        "EBR purchase 18 months minus 1 s",
        [],
        last_purchase_at=PURCHASE,
        at=EIGHTEEN_MONTHS_LATER - timedelta(seconds=1),
    ),
    listed_manual("EBR purchase exactly 18 months", ["dnc_national"], last_purchase_at=PURCHASE),
    listed_manual(
        "EBR inquiry 3 months minus 1 s",
        [],
        last_inquiry_at=INQUIRY,
        at=EIGHTEEN_MONTHS_LATER - timedelta(seconds=1),
    ),
    listed_manual("EBR inquiry exactly 3 months", ["dnc_national"], last_inquiry_at=INQUIRY),
    # Calendar months: 2023-08-31 + 18 months = 2025-02-28.
    listed_manual(
        "EBR calendar months clamp, last day",
        [],
        last_purchase_at=datetime(2023, 8, 31, 16, 0, tzinfo=UTC),
        at=datetime(2025, 2, 28, 15, 59, tzinfo=UTC),
    ),
    listed_manual(
        "EBR calendar months clamp, expired",
        ["dnc_national"],
        last_purchase_at=datetime(2023, 8, 31, 16, 0, tzinfo=UTC),
        at=datetime(2025, 2, 28, 16, 0, tzinfo=UTC),
    ),
    # A company DNC request after the purchase voids the EBR (even once lifted).
    listed_manual(
        "EBR void after a later DNC request",
        ["dnc_national"],
        last_purchase_at=datetime(2025, 1, 1, tzinfo=UTC),
        dnc_requested_at=datetime(2025, 2, 1, tzinfo=UTC),
    ),
    listed_manual(
        "EBR from a purchase after a lifted DNC request",
        [],
        last_purchase_at=datetime(2025, 2, 1, tzinfo=UTC),
        dnc_requested_at=datetime(2025, 1, 1, tzinfo=UTC),
    ),
    # Written marketing consent exempts; oral consent does not.
    listed_manual("exempt by written consent", [], consents=(consent(),)),
    listed_manual("oral consent does not exempt", ["dnc_national"], consents=(consent(written=False),)),
    # Registries do not bind informational calls.
    case(
        [],
        "listed, informational manual",
        context=MANUAL_INFORMATIONAL,
        consents=(),
        registry=LISTED,
        at=EIGHTEEN_MONTHS_LATER,
    ),
    # State lists, same exemptions.
    listed_manual(
        "TX state list",
        ["dnc_state"],
        number=DALLAS,
        registry=fresh_registry(EIGHTEEN_MONTHS_LATER, ("TX",), listed=("state:TX",)),
    ),
    listed_manual(
        "TX state list, EBR",
        [],
        number=DALLAS,
        last_inquiry_at=datetime(2025, 3, 1, tzinfo=UTC),
        registry=fresh_registry(EIGHTEEN_MONTHS_LATER, ("TX",), listed=("state:TX", "national")),
    ),
]


def synced(days=0, seconds=0, *, source="national", listed=False):
    return RegistryFact(
        source=source,
        listed=listed,
        synced_at=EIGHTEEN_MONTHS_LATER - timedelta(days=days, seconds=seconds),
        sync_id=42,
    )


FRESHNESS = [
    # National registry data at most 31 days old: exactly 31 days passes, one second more is stale.
    listed_manual("national 31 days old", [], registry=(synced(31),)),
    listed_manual("national 31 days + 1 s old", ["dnc_data_stale"], registry=(synced(31, 1),)),
    listed_manual(
        "national never synced",
        ["dnc_data_stale"],
        registry=(RegistryFact(source="national", listed=False, synced_at=None, sync_id=None),),
    ),
    listed_manual("no national data at all", ["dnc_data_stale"], registry=()),
    listed_manual(
        "stale and listed", ["dnc_national", "dnc_data_stale"], registry=(synced(40, listed=True),)
    ),
    # Freshness decides only without an exemption.
    listed_manual("stale, exempt by written consent", [], registry=(synced(40),), consents=(consent(),)),
    listed_manual(
        "stale, exempt by EBR", [], registry=(synced(40),), last_purchase_at=datetime(2025, 1, 1, tzinfo=UTC)
    ),
    case(
        [],
        "stale, informational",
        context=MANUAL_INFORMATIONAL,
        registry=(synced(40),),
        at=EIGHTEEN_MONTHS_LATER,
    ),
    # TX's list is quarterly: 92 days.
    listed_manual(
        "TX list 92 days old", [], number=DALLAS, registry=(synced(1), synced(92, source="state:TX"))
    ),
    listed_manual(
        "TX list 92 days + 1 s old",
        ["dnc_data_stale"],
        number=DALLAS,
        registry=(synced(1), synced(92, 1, source="state:TX")),
    ),
    listed_manual("TX list missing", ["dnc_data_stale"], number=DALLAS, registry=(synced(1),)),
]

CONSENT = [
    case([], "autodialed marketing, written marketing consent"),
    case([], "prerecorded marketing, written", context=context(dialing_mode="prerecorded")),
    case(["consent_missing"], "autodialed marketing, oral consent only", consents=(consent(written=False),)),
    case(
        ["consent_missing"],
        "autodialed marketing, written informational consent",
        consents=(consent(purpose="informational"),),
    ),
    case(["consent_missing"], "autodialed marketing, no consent", consents=()),
    case(
        ["consent_missing"],
        "autodialed marketing, SMS consent for a voice call",
        consents=(consent(channel="sms"),),
    ),
    case(
        ["consent_missing"],
        "consent granted after the call",
        consents=(consent(granted_at=datetime(2025, 6, 1, tzinfo=UTC)),),
    ),
    case(
        [],
        "informational autodialed, oral informational consent",
        context=AUTO_INFORMATIONAL,
        consents=(consent(purpose="informational", written=False),),
    ),
    case(
        [],
        "informational autodialed, oral marketing consent",
        context=AUTO_INFORMATIONAL,
        consents=(consent(written=False),),
    ),
    case(
        ["consent_missing"], "informational autodialed, no consent", context=AUTO_INFORMATIONAL, consents=()
    ),
    case([], "manual marketing, no consent, off the registry", context=MANUAL_MARKETING, consents=()),
    case([], "manual informational, no consent", context=MANUAL_INFORMATIONAL, consents=()),
    # CT: written consent for every sales call, manual included.
    case(
        ["consent_missing"],
        "CT manual marketing, no consent",
        number=HARTFORD,
        context=MANUAL_MARKETING,
        consents=(),
    ),
    case(
        ["consent_missing"],
        "CT manual marketing, oral consent",
        number=HARTFORD,
        context=MANUAL_MARKETING,
        consents=(consent(written=False),),
    ),
    case([], "CT manual marketing, written consent", number=HARTFORD, context=MANUAL_MARKETING),
    case(
        [], "CT manual informational, no consent", number=HARTFORD, context=MANUAL_INFORMATIONAL, consents=()
    ),
    case(
        ["consent_missing"],
        "CT address, NY number",
        number=NEW_YORK,
        address_state="CT",
        context=MANUAL_MARKETING,
        consents=(),
    ),
    # Revoked, expired.
    case(["consent_revoked"], "revoked", consents=(consent(revoked_at=datetime(2025, 2, 1, tzinfo=UTC)),)),
    case(
        ["consent_revoked"],
        "a revocation revokes every consent of the number",
        consents=(
            consent(id=1, granted_at=datetime(2024, 6, 1, tzinfo=UTC)),
            consent(
                id=2, purpose="informational", written=False, revoked_at=datetime(2025, 2, 1, tzinfo=UTC)
            ),
        ),
    ),
    case(
        [],
        "consent given again after a revocation",
        consents=(
            consent(id=1, revoked_at=datetime(2025, 1, 1, tzinfo=UTC)),
            consent(id=2, granted_at=datetime(2025, 2, 1, tzinfo=UTC)),
        ),
    ),
    case([], "revocation after the call", consents=(consent(revoked_at=datetime(2025, 6, 1, tzinfo=UTC)),)),
    case(["consent_expired"], "expired", consents=(consent(expires_at=datetime(2025, 3, 1, tzinfo=UTC)),)),
    case([], "expires after the call", consents=(consent(expires_at=datetime(2025, 6, 1, tzinfo=UTC)),)),
    case(
        ["consent_revoked", "consent_expired"],
        "one revoked, a later one expired",
        consents=(
            consent(id=1, revoked_at=datetime(2024, 2, 1, tzinfo=UTC)),
            consent(
                id=2, granted_at=datetime(2024, 3, 1, tzinfo=UTC), expires_at=datetime(2025, 3, 1, tzinfo=UTC)
            ),
        ),
    ),
    case(
        ["consent_revoked"],
        "informational autodialed, revoked",
        context=AUTO_INFORMATIONAL,
        consents=(consent(written=False, revoked_at=datetime(2025, 2, 1, tzinfo=UTC)),),
    ),
]

REASSIGNED = [
    case(
        ["reassigned_number"],
        "consent before the reassignment",
        reassigned_at=datetime(2024, 6, 1, tzinfo=UTC),
    ),
    case(
        [],
        "consent after the reassignment",
        reassigned_at=datetime(2024, 6, 1, tzinfo=UTC),
        consents=(consent(granted_at=datetime(2024, 7, 1, tzinfo=UTC)),),
    ),
    case(
        [],
        "manual informational does not rely on consent",
        context=MANUAL_INFORMATIONAL,
        reassigned_at=datetime(2024, 6, 1, tzinfo=UTC),
    ),
    listed_manual(
        "listed, the exempting consent predates the reassignment",
        ["dnc_national", "reassigned_number"],
        consents=(consent(),),
        reassigned_at=datetime(2024, 6, 1, tzinfo=UTC),
    ),
    listed_manual(
        "listed, the EBR predates the reassignment",
        ["dnc_national", "reassigned_number"],
        last_purchase_at=datetime(2025, 1, 1, tzinfo=UTC),
        reassigned_at=datetime(2025, 2, 1, tzinfo=UTC),
    ),
]

DNC_AND_CAPS = [
    case(
        ["dnc_internal"],
        "internal DNC, marketing",
        internal_dnc=True,
        dnc_requested_at=datetime(2025, 1, 1, tzinfo=UTC),
    ),
    case(
        ["dnc_internal"],
        "internal DNC, manual informational",
        context=MANUAL_INFORMATIONAL,
        internal_dnc=True,
        dnc_requested_at=datetime(2025, 1, 1, tzinfo=UTC),
    ),
    # WA: no call within a year after a DNC request, even a lifted one.
    case(
        ["dnc_internal"],
        "WA lifted DNC request 200 days ago",
        number=SEATTLE,
        at=at_pacific(WEDNESDAY, 12, 0),
        dnc_requested_at=at_pacific(WEDNESDAY, 12, 0) - timedelta(days=200),
    ),
    case(
        [],
        "WA lifted DNC request 365 days ago",
        number=SEATTLE,
        at=at_pacific(WEDNESDAY, 12, 0),
        dnc_requested_at=at_pacific(WEDNESDAY, 12, 0) - timedelta(days=365),
    ),
    case([], "NY lifted DNC request 200 days ago", dnc_requested_at=datetime(2024, 9, 1, tzinfo=UTC)),
    # FL: at most 3 calls per 24 h on the same subject: the 3rd passes, the 4th is blocked.
    case([], "FL 3rd attempt", number=MIAMI, attempts_24h_same_subject=2),
    case(["frequency_cap"], "FL 4th attempt", number=MIAMI, attempts_24h_same_subject=3),
    case(
        ["frequency_cap"],
        "OK 4th attempt",
        number=OKLAHOMA_CITY,
        at=at_central(WEDNESDAY, 12, 0),
        attempts_24h_same_subject=3,
    ),
    case(["frequency_cap"], "MD 4th attempt", number=BALTIMORE, attempts_24h_same_subject=3),
    case([], "NY 4th attempt (no state cap)", number=NEW_YORK, attempts_24h_same_subject=3),
    case(
        [],
        "FL 4th attempt, informational",
        number=MIAMI,
        context=AUTO_INFORMATIONAL,
        attempts_24h_same_subject=3,
    ),
    case(
        ["frequency_cap"],
        "campaign cap reached",
        context=context(max_attempts_per_day=2),
        attempts_24h_campaign=2,
    ),
    case([], "campaign cap not reached", context=context(max_attempts_per_day=2), attempts_24h_campaign=1),
    # Rule effective dates: MD's cap from 2024-01-01, FL's 20:00 from 2021-07-01.
    case(
        [],
        "MD cap before 2024",
        number=BALTIMORE,
        at=eastern(2023, 12, 13, 12, 0),
        attempts_24h_same_subject=3,
    ),
    case([], "FL 20:30 before 2021-07-01", number=MIAMI, at=eastern(2021, 6, 30, 20, 30)),
    case(["outside_calling_hours"], "FL 20:30 on 2021-07-01", number=MIAMI, at=eastern(2021, 7, 1, 20, 30)),
]

CAMPAIGN_AND_CUSTOMER = [
    case(["campaign_inactive"], "campaign paused", context=context(campaign_status="paused")),
    case(["campaign_inactive"], "campaign draft", context=context(campaign_status="draft")),
    case(
        ["campaign_inactive"],
        "before the campaign starts",
        context=context(campaign_starts_at=eastern(*WEDNESDAY, 12, 1)),
    ),
    case([], "when the campaign starts", context=context(campaign_starts_at=eastern(*WEDNESDAY, 12, 0))),
    case(
        ["campaign_inactive"],
        "when the campaign ends",
        context=context(campaign_ends_at=eastern(*WEDNESDAY, 12, 0)),
    ),
    case([], "before the campaign ends", context=context(campaign_ends_at=eastern(*WEDNESDAY, 12, 1))),
    case(["customer_erased"], "erased customer", customer_erased=True),
    case(
        [
            "invalid_number",
            "consent_missing",
            "dnc_internal",
            "timezone_unknown",
            "frequency_cap",
            "customer_erased",
            "campaign_inactive",
        ],
        "every reason at once, in the table's order",
        number="12",
        consents=(),
        internal_dnc=True,
        customer_erased=True,
        attempts_24h_campaign=9,
        context=context(campaign_status="finished", max_attempts_per_day=1),
    ),
]


@pytest.mark.parametrize(
    ("facts", "expected"),
    WINDOW_EDGES
    + DAY_RULES
    + ZONES_AND_STATES
    + EBR
    + FRESHNESS
    + CONSENT
    + REASSIGNED
    + DNC_AND_CAPS
    + CAMPAIGN_AND_CUSTOMER,
)
def test_scenario(facts, expected):
    assert reasons_of(facts) == expected


def test_a_blocked_decision_records_its_evidence():
    facts = call_facts(number=BOISE, at=at_mountain(WEDNESDAY, 8, 30), postal_code="83702")
    decision = decide(facts, rules())
    assert not decision.allowed
    evidence = decision.evidence
    assert evidence["ruleset_version"] == rules().version
    assert evidence["at"] == facts.at.isoformat()
    assert {zone["zone"]: zone["local_time"][11:16] for zone in evidence["zones"]} == {
        BOISE_TIME: "08:30",
        PACIFIC: "07:30",
    }
    blocking = [entry for entry in evidence["windows"] if entry["blocks"]]
    assert blocking == [
        {
            "jurisdiction": "US",
            "zone": PACIFIC,
            "window": "08:00-21:00",
            "citation": blocking[0]["citation"],
            "blocks": "outside_calling_hours",
        }
    ]
    assert evidence["consent"] == {"needed": "written_marketing", "ids": [1], "exemption_ids": [1]}
    assert evidence["registry"][0]["sync_id"] == 1 and evidence["registry"][0]["age_seconds"] == 86400


def test_evidence_names_the_ebr_basis_and_registry_age():
    facts = call_facts(
        at=EIGHTEEN_MONTHS_LATER,
        context=MANUAL_MARKETING,
        consents=(),
        registry=(synced(31, listed=True),),
        last_inquiry_at=datetime(2025, 3, 1, tzinfo=UTC),
    )
    decision = decide(facts, rules())
    assert decision.allowed
    assert decision.evidence["exemption"] == "ebr"
    assert decision.evidence["ebr"]["basis"] == "inquiry"
    assert decision.evidence["ebr"]["inquiry"]["until"] == "2025-06-01T00:00:00+00:00"
    assert decision.evidence["registry"][0]["age_seconds"] == 31 * 86400


def test_an_edited_rule_set_decides_by_its_own_rules_whichever_was_asked_first():
    """decide memoises what the rules in effect say per (rule-set version,
    dates, states, purpose, mode): a rule set with one rule edited must
    never be answered from another's memo, in either order."""
    from compliance.rules import rule_records_from_toml, ruleset_build

    records = rule_records_from_toml()
    for record in records:
        if record["jurisdiction"] == "FL":
            record["weekday_window"] = "08:00-21:00"  # as a compliance officer might edit it
            record["own_dnc_list"] = True
            record["dnc_list_max_age_days"] = 31
    edited = ruleset_build(records)
    assert edited.version != rules().version
    facts = call_facts(number=MIAMI, at=at_eastern(WEDNESDAY, 20, 30))

    for _ in range(2):  # each answer memoised, then asked again
        original = decide(facts, rules())
        assert "outside_calling_hours" in original.reasons
        assert [entry["source"] for entry in original.evidence["registry"]] == ["national"]
        changed = decide(facts, edited)
        assert "outside_calling_hours" not in changed.reasons
        assert [entry["source"] for entry in changed.evidence["registry"]] == ["national", "state:FL"]
        assert changed.evidence["ruleset_version"] == edited.version
