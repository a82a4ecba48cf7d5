"""Gather the facts `decide` needs for one number, a call context and an
instant, in a fixed number of queries (six, whatever the rules are)."""

from datetime import datetime

from django.db.models import Max

from compliance.jurisdictions import candidate_states, candidate_zones, number_parse
from compliance.policy import CallContext, CallFacts, ConsentFact, RegistryFact
from compliance.registry.selectors import e164_to_registry_int, registry_freshness, registry_listings
from compliance.rules import RuleSet
from consent.models import ConsentGrant, DncRequest, SuppressionEntry
from consent.services import number_hash
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
    phone = None
    consents: tuple[ConsentFact, ...] = ()
    if e164:
        phone = PhoneNumber.objects.select_related("customer").filter(number=e164).first()
    customer = phone.customer if phone else None
    if phone is not None:
        consents = tuple(
            ConsentFact(
                id=grant.id,
                purpose=grant.purpose,
                channel=grant.channel,
                written=grant.written,
                granted_at=grant.granted_at,
                expires_at=grant.expires_at,
                revoked_at=grant.revoked_at,
            )
            for grant in ConsentGrant.objects.filter(phone_number=phone).only(
                "id", "purpose", "channel", "written", "granted_at", "expires_at", "revoked_at"
            )
        )
    dnc_requested_at = None
    erased = False
    registry: tuple[RegistryFact, ...] = ()
    states: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    if e164:
        dnc_requested_at = DncRequest.objects.filter(number=e164).aggregate(latest=Max("requested_at"))[
            "latest"
        ]
        erased = SuppressionEntry.objects.filter(number_hash=number_hash(e164)).exists()
        address_state = customer.state if customer else None
        postal_code = customer.postal_code if customer else None
        zones = candidate_zones(e164=e164, postal_code=postal_code)
        states = candidate_states(e164=e164, state=address_state, postal_code=postal_code)
        # Registries decide marketing calls only (see compliance.policy).
        if context.purpose == "marketing":
            registry = _registry_facts(e164, states, rules, at)
    return CallFacts(
        at=at,
        e164=e164,
        number_valid=valid,
        candidate_zones=zones,
        candidate_states=states,
        customer_id=customer.pk if customer else None,
        customer_erased=erased or bool(customer and customer.is_erased),
        consents=consents,
        internal_dnc=dnc_requested_at is not None,
        dnc_requested_at=dnc_requested_at,
        registry=registry,
        last_purchase_at=customer.last_purchase_at if customer else None,
        last_inquiry_at=customer.last_inquiry_at if customer else None,
        reassigned_at=phone.reassigned_at if phone else None,
        attempts_24h_same_subject=attempts_24h_same_subject,
        attempts_24h_campaign=attempts_24h_campaign,
        context=context,
    )


def _registry_facts(
    e164: str, states: tuple[str, ...], rules: RuleSet, at: datetime
) -> tuple[RegistryFact, ...]:
    as_int = e164_to_registry_int(e164)
    if as_int is None:
        return ()
    area_code = as_int // 10_000_000
    listed_in = registry_listings(numbers=[as_int]).get(as_int, set())
    freshness = registry_freshness(area_codes=[area_code])
    facts = []
    for source in registry_sources_for(states=states, rules=rules, on=at.date()):
        synced_at, sync_id = freshness.get((source, area_code), (None, None))
        facts.append(
            RegistryFact(source=source, listed=source in listed_in, synced_at=synced_at, sync_id=sync_id)
        )
    return tuple(facts)
