"""Builders of pre-gathered facts for the pure decision tests (no database)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from compliance.jurisdictions import candidate_states, candidate_zones, number_parse
from compliance.policy import CallContext, CallFacts, ConsentFact, RegistryFact
from compliance.rules import RuleSet, ruleset_from_file

MIAMI = "+13055550123"  # 305: Florida, America/New_York
BOISE = "+12085550123"  # 208: Idaho, Mountain and Pacific
PROVIDENCE = "+14015550123"  # 401: Rhode Island
HARTFORD = "+18605550123"  # 860: Connecticut
SALT_LAKE = "+18015550123"  # 801: Utah
JACKSON = "+16015550123"  # 601: Mississippi
BIRMINGHAM = "+12055550123"  # 205: Alabama
PHILADELPHIA = "+12155550123"  # 215: Pennsylvania
DALLAS = "+12145550123"  # 214: Texas
SEATTLE = "+12065550123"  # 206: Washington
OKLAHOMA_CITY = "+14055550123"  # 405: Oklahoma
BALTIMORE = "+14105550123"  # 410: Maryland
NEW_YORK = "+12125550123"  # 212: New York (no state rules)
TOLL_FREE = "+18005550123"


@cache
def rules() -> RuleSet:
    return ruleset_from_file()


def local(zone: str, *args: int) -> datetime:
    """A local wall-clock time in `zone`, as the UTC instant facts carry."""
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def eastern(*args: int) -> datetime:
    return local("America/New_York", *args)


def consent(
    *,
    id: int = 1,
    purpose: str = "marketing",
    written: bool = True,
    channel: str = "voice",
    granted_at: datetime | None = None,
    expires_at: datetime | None = None,
    revoked_at: datetime | None = None,
) -> ConsentFact:
    return ConsentFact(
        id=id,
        purpose=purpose,
        channel=channel,
        written=written,
        granted_at=granted_at or datetime(2020, 1, 1, tzinfo=UTC),
        expires_at=expires_at,
        revoked_at=revoked_at,
    )


def context(**overrides) -> CallContext:
    values = {
        "purpose": "marketing",
        "dialing_mode": "autodialed",
        "subject": "spring-sale",
        "campaign_id": 7,
    }
    values.update(overrides)
    return CallContext(**values)


def fresh_registry(at: datetime, states: tuple[str, ...] = (), *, listed: tuple[str, ...] = ()):
    """A national fact and one per given state list, synced a day before `at`."""
    sources = ("national", *(f"state:{state}" for state in states))
    return tuple(
        RegistryFact(
            source=source, listed=source in listed, synced_at=at - timedelta(days=1), sync_id=index + 1
        )
        for index, source in enumerate(sources)
    )


def call_facts(
    *,
    number: str = NEW_YORK,
    at: datetime | None = None,
    address_state: str | None = None,
    postal_code: str | None = None,
    zones: tuple[str, ...] | None = None,
    states: tuple[str, ...] | None = None,
    consents: tuple[ConsentFact, ...] | None = None,
    registry: tuple[RegistryFact, ...] | None = None,
    **overrides,
) -> CallFacts:
    """Facts for a call that every rule allows (a weekday noon Eastern call
    with written marketing consent, fresh unlisted registry data) unless
    overridden. Zones and states come from the number and address like
    facts gathering computes them."""
    at = at or eastern(2025, 3, 12, 12, 0)  # a Wednesday
    e164, valid = number_parse(number)
    if zones is None:
        zones = candidate_zones(e164=e164, postal_code=postal_code)
    if states is None:
        states = candidate_states(e164=e164, state=address_state, postal_code=postal_code)
    if consents is None:
        consents = (consent(),)
    if registry is None:
        own_lists = tuple(state for state in states if state in ("LA", "PA", "TX"))
        registry = fresh_registry(at, own_lists)
    facts = CallFacts(
        at=at,
        e164=e164,
        number_valid=valid,
        candidate_zones=zones,
        candidate_states=states,
        customer_id=1,
        customer_erased=False,
        consents=consents,
        internal_dnc=False,
        dnc_requested_at=None,
        registry=registry,
        last_purchase_at=None,
        last_inquiry_at=None,
        reassigned_at=None,
        attempts_24h_same_subject=0,
        attempts_24h_campaign=0,
        context=context(),
        rnd_policy="flag",  # the company's default RND policy (DESIGN.md)
    )
    return replace(facts, **overrides) if overrides else facts
