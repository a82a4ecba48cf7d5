"""Gather the facts `decide` needs for one number, a call context and an
instant: on PostgreSQL in one round trip (every fact a subquery of one
SELECT), elsewhere in six queries; whatever the rules are."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Max

from compliance.jurisdictions import candidate_states, candidate_zones, number_parse
from compliance.policy import CallContext, CallFacts, ConsentFact, RegistryFact
from compliance.registry.selectors import (
    e164_to_registry_int,
    registry_freshness,
    registry_listings,
    registry_source_key,
)
from compliance.rules import RuleSet
from consent.models import ConsentGrant, DncRequest, SuppressionEntry
from consent.services import suppression_hashes
from customers.models import PhoneNumber

NATIONAL = "national"


def registry_sources_for(*, states: tuple[str, ...], rules: RuleSet, on) -> list[str]:
    """The registry sources that speak for a call: the national registry and
    the list of each candidate state that keeps its own."""
    sources = [NATIONAL]
    for state in states:
        if any(rule.own_dnc_list for rule in rules.state_rules(state, on)):
            sources.append(f"state:{state}")
    return sources


def facts_gather(
    *,
    number: str,
    context: CallContext,
    at: datetime,
    rules: RuleSet,
    attempts_24h_same_subject: int = 0,
    attempts_24h_campaign: int = 0,
) -> CallFacts:
    e164, valid = number_parse(number)
    marketing = context.purpose == "marketing"  # registries decide marketing calls only
    stored = _stored_facts(e164, marketing) if e164 else _StoredFacts()
    registry: tuple[RegistryFact, ...] = ()
    states: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    customer = stored.customer
    if e164:
        postal_code = customer.postal_code if customer else None
        zones = candidate_zones(e164=e164, postal_code=postal_code)
        states = candidate_states(
            e164=e164, state=customer.state if customer else None, postal_code=postal_code
        )
        if marketing and stored.area_code is not None:
            registry = tuple(
                RegistryFact(
                    source=source,
                    listed=source in stored.listed_in,
                    synced_at=stored.freshness.get(source, (None, None))[0],
                    sync_id=stored.freshness.get(source, (None, None))[1],
                )
                for source in registry_sources_for(states=states, rules=rules, on=at.date())
            )
    return CallFacts(
        at=at,
        e164=e164,
        number_valid=valid,
        candidate_zones=zones,
        candidate_states=states,
        customer_id=customer.pk if customer else None,
        customer_erased=stored.suppressed or bool(customer and customer.erased_at),
        consents=stored.consents,
        internal_dnc=stored.dnc_requested_at is not None,
        dnc_requested_at=stored.dnc_requested_at,
        registry=registry,
        last_purchase_at=customer.last_purchase_at if customer else None,
        last_inquiry_at=customer.last_inquiry_at if customer else None,
        reassigned_at=stored.reassigned_at,
        attempts_24h_same_subject=attempts_24h_same_subject,
        attempts_24h_campaign=attempts_24h_campaign,
        context=context,
    )


@dataclass(frozen=True)
class _Customer:
    pk: int
    state: str | None
    postal_code: str | None
    last_purchase_at: datetime | None
    last_inquiry_at: datetime | None
    erased_at: datetime | None


@dataclass(frozen=True)
class _StoredFacts:
    """What the database knows of one number."""

    customer: _Customer | None = None
    reassigned_at: datetime | None = None
    consents: tuple[ConsentFact, ...] = ()
    dnc_requested_at: datetime | None = None
    suppressed: bool = False
    area_code: int | None = None
    listed_in: frozenset[str] = frozenset()  # registry sources listing the number
    freshness: dict = field(default_factory=dict)  # source -> (synced_at, sync run id) for the area code


def _stored_facts(e164: str, marketing: bool) -> _StoredFacts:
    as_int = e164_to_registry_int(e164)
    area_code = as_int // 10_000_000 if as_int is not None and marketing else None
    if connection.vendor == "postgresql":
        return _stored_facts_one_query(e164, area_code, as_int)
    return _stored_facts_orm(e164, area_code, as_int)


def _stored_facts_orm(e164: str, area_code: int | None, as_int: int | None) -> _StoredFacts:
    """The portable path (the SQLite demo): six queries."""
    phone = PhoneNumber.objects.select_related("customer").filter(number=e164).first()
    c = phone.customer if phone else None
    consents = ()
    if phone is not None:
        consents = tuple(
            ConsentFact(
                id=g.id,
                purpose=g.purpose,
                channel=g.channel,
                written=g.written,
                granted_at=g.granted_at,
                expires_at=g.expires_at,
                revoked_at=g.revoked_at,
            )
            for g in ConsentGrant.objects.filter(phone_number=phone).only(*_CONSENT_FIELDS)
        )
    return _StoredFacts(
        customer=_Customer(c.pk, c.state, c.postal_code, c.last_purchase_at, c.last_inquiry_at, c.erased_at)
        if c
        else None,
        reassigned_at=phone.reassigned_at if phone else None,
        consents=consents,
        dnc_requested_at=DncRequest.objects.filter(number=e164).aggregate(latest=Max("requested_at"))[
            "latest"
        ],
        suppressed=SuppressionEntry.objects.filter(number_hash__in=suppression_hashes(e164)).exists(),
        area_code=area_code,
        listed_in=frozenset(registry_listings(numbers=[as_int]).get(as_int, ()))
        if area_code
        else frozenset(),
        freshness={
            source: synced for (source, _code), synced in registry_freshness(area_codes=[area_code]).items()
        }
        if area_code
        else {},
    )


_CONSENT_FIELDS = ("id", "purpose", "channel", "written", "granted_at", "expires_at", "revoked_at")


def _stored_facts_one_query(e164: str, area_code: int | None, as_int: int | None) -> _StoredFacts:
    """The same facts in one round trip: each is a subquery on its own index
    (phone number, consents by phone, DNC requests by number, suppression by
    hash, registry numbers by number, area-code syncs by area code)."""
    from compliance.registry.models import AreaCodeSync, RegistryNumber, RegistrySource
    from customers.models import Customer

    sql = f"""
    SELECT c.id, c.state, c.postal_code, c.last_purchase_at, c.last_inquiry_at, c.erased_at, p.reassigned_at,
      (SELECT array_agg(ARRAY[g.id::text, g.purpose, g.channel, g.written::text, g.granted_at::text,
                              g.expires_at::text, g.revoked_at::text] ORDER BY g.granted_at DESC, g.id DESC)
         FROM {ConsentGrant._meta.db_table} g WHERE g.phone_number_id = p.id),
      (SELECT max(r.requested_at) FROM {DncRequest._meta.db_table} r WHERE r.number = %(e164)s),
      EXISTS (SELECT 1 FROM {SuppressionEntry._meta.db_table} s WHERE s.number_hash = ANY(%(hashes)s)),
      (SELECT array_agg(ARRAY[src.kind, src.state]) FROM {RegistryNumber._meta.db_table} n
         JOIN {RegistrySource._meta.db_table} src ON src.id = n.source_id
        WHERE %(area_code)s::int IS NOT NULL AND n.number = %(number)s),
      (SELECT array_agg(ARRAY[src.kind, src.state, a.synced_at::text, a.sync_run_id::text])
         FROM {AreaCodeSync._meta.db_table} a JOIN {RegistrySource._meta.db_table} src ON src.id = a.source_id
        WHERE a.area_code = %(area_code)s)
    FROM (SELECT 1) AS one
    LEFT JOIN {PhoneNumber._meta.db_table} p ON p.number = %(e164)s
    LEFT JOIN {Customer._meta.db_table} c ON c.id = p.customer_id
    """
    params = {"e164": e164, "hashes": suppression_hashes(e164), "area_code": area_code, "number": as_int}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    (
        cid,
        state,
        postal_code,
        purchase,
        inquiry,
        erased,
        reassigned,
        grants,
        dnc,
        suppressed,
        listed,
        synced,
    ) = row
    return _StoredFacts(
        customer=_Customer(cid, state, postal_code, purchase, inquiry, erased) if cid is not None else None,
        reassigned_at=reassigned,
        consents=tuple(
            ConsentFact(
                id=int(g[0]),
                purpose=g[1],
                channel=g[2],
                written=g[3] == "true",
                granted_at=_instant(g[4]),
                expires_at=_instant(g[5]),
                revoked_at=_instant(g[6]),
            )
            for g in grants or ()
        ),
        dnc_requested_at=dnc,
        suppressed=suppressed,
        area_code=area_code,
        listed_in=frozenset(registry_source_key(kind, state) for kind, state in listed or ()),
        freshness={
            registry_source_key(kind, state): (_instant(at), int(run))
            for kind, state, at, run in synced or ()
        },
    )


def _instant(text: str | None) -> datetime | None:
    """A timestamptz as PostgreSQL prints it (`2026-11-17 16:00:00+00`)."""
    return datetime.fromisoformat(text) if text is not None else None
