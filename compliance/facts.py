"""Gather the facts `decide` needs for a number, a call context and an
instant, always complete: attempt counts come from the registered
call-history provider (core.call_history), never from the caller.

- `facts_gather`: one number; on PostgreSQL in one round trip (every fact a
  subquery of one SELECT, the provider's counts included), elsewhere in nine
  queries; whatever the rules are.
- `facts_gather_in_force`: the same facts and the rule set in force, for a
  decision; on PostgreSQL in the same one statement, which also reads the
  rule set's stamp, when asked the call context's own row (the check API's
  campaign, its attempts counted on its own subject in the same statement)
  and whether the caller's `unless` rows exist (the hand-off's number on
  another screen), so that nothing a decision reads is remembered stale.
- `facts_gather_many`: a set of numbers, streamed in chunks, in a fixed
  number of set-based queries per chunk whatever its size; portable
  (SQLite and PostgreSQL); the same CallFacts as `facts_gather` per number.
"""

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import connection, connections
from django.db.models import CharField, F, Field, Max, Model
from django.db.models.functions import Cast

from compliance.jurisdictions import candidate_states, candidate_zones, number_parse, number_place
from compliance.models import RndPolicy
from compliance.policy import CallContext, CallFacts, ConsentFact, RegistryFact
from compliance.registry.models import AreaCodeSync, RegistryNumber, RegistrySource
from compliance.registry.selectors import (
    e164_to_registry_int,
    registry_freshness,
    registry_listings,
    registry_source_key,
)
from compliance.registry.sources import LITIGATOR_KEY, NATIONAL_KEY, source_key
from compliance.rnd.answers import ERROR, RndAnswer
from compliance.rnd.models import RndQuery
from compliance.rnd.selectors import rnd_latest_answers
from compliance.rules import RuleSet
from compliance.ruleset import STAMP_SQL, ruleset_current, ruleset_for
from consent.models import ConsentGrant, DncRequest, SuppressionEntry
from consent.services import suppression_hashes, suppression_hashes_many
from core.call_history import AttemptCounts, call_history_provider
from core.lookups import AnyOf
from core.prepared import Bound
from customers.models import Customer, PhoneNumber

CHUNK = 5_000  # numbers per chunk of facts_gather_many


def registry_sources_for(*, states: tuple[str, ...], rules: RuleSet, on: date) -> list[str]:
    """The registry sources that speak for a call: the national registry and
    the list of each candidate state that keeps its own."""
    sources = [NATIONAL_KEY]
    for state in states:
        if any(rule.own_dnc_list for rule in rules.state_rules(state, on)):
            sources.append(source_key(state=state))
    return sources


def facts_gather(*, number: str, context: CallContext, at: datetime, rules: RuleSet) -> CallFacts:
    """Everything `decide` reads for one number, attempt counts included."""
    e164, valid = number_parse(number)
    stored = _stored_facts(e164, context=context, at=at) if e164 else _NO_STORED_FACTS
    return _facts_build(e164, valid, stored, context=context, at=at, rules=rules)


def _registries_decide(context: CallContext) -> bool:
    """The national and state registries (and their freshness) speak for
    marketing calls only: the one place facts say so. (The litigator list
    speaks for every call, under its campaign's policy: the listings are read
    whatever the purpose.)"""
    return context.purpose == "marketing"


def _call_sources(context: CallContext, sources: tuple[str, ...]) -> tuple[str, ...]:
    """The registry sources whose facts a call gets: the national and state
    lists for marketing calls, the litigator list for every call."""
    return (*sources, LITIGATOR_KEY) if _registries_decide(context) else (LITIGATOR_KEY,)


class ContextMissing(LookupError):
    """The row a ContextRow names does not exist: there is nothing to decide."""

    def __init__(self, row: "ContextRow") -> None:
        super().__init__(f"no {row.model._meta.verbose_name} {row.pk}")


@dataclass(frozen=True)
class ContextRow:
    """A campaign's call context, built from its row by the facts query
    itself: a change to the row is seen by the very next decision, and
    reading it costs no round trip of its own. Compliance knows no such
    model: the caller names it, the fields `build` reads, `build` (the
    context of an instance holding those fields; others deferred: reading one
    would cost a query) and the field holding the subject. The row's primary
    key is the context's campaign id: the statement counts the attempts on
    the row's own subject and id, as the provider would for the context."""

    model: type[Model]
    pk: int
    fields: tuple[str, ...]
    build: Callable[[Any], CallContext]
    subject: str = "subject"

    @property
    def columns(self) -> "list[Field[Any, Any]]":
        """The primary key and `fields`, in the model's order (`Model.from_db`'s)."""
        wanted = {*self.fields, self.subject}
        return [f for f in self.model._meta.concrete_fields if f.primary_key or f.name in wanted]

    def instance_of(self, values: tuple[Any, ...]) -> Any:
        """The instance of the row's column values (in `columns` order), each
        converted from the database's form as the ORM converts it."""
        columns = self.columns
        converted = []
        for field, value in zip(columns, values, strict=True):
            column = field.cached_col
            for convert in (*connection.ops.get_db_converters(column), *column.get_db_converters(connection)):
                value = convert(value, column, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, [f.attname for f in columns], converted)

    def context_load(self) -> CallContext | None:
        """The portable twin: the row through the ORM (one query)."""
        instance = self.model._default_manager.filter(pk=self.pk).only(*self.fields).first()
        return None if instance is None else self.build(instance)


class Gathered(NamedTuple):
    facts: CallFacts
    rules: RuleSet  # the rule set in force when the facts were read


class Withheld(Exception):
    """The caller's `unless` rows exist when the facts are read: nothing is decided."""


def facts_gather_in_force(
    *, number: str, context: CallContext | ContextRow, at: datetime, unless: Bound[Any] | None = None
) -> Gathered:
    """The facts of `facts_gather` and the rule set in force to decide them
    by. On PostgreSQL in one statement, which reads besides the facts the rule
    set's stamp (compliance.ruleset: the rules are parsed again only when it
    moved) and, for a ContextRow, the context's row; elsewhere in the
    portable path's queries. Raises ContextMissing when the row is not there.

    `unless`: rows of the caller's (a call already on an agent's screen), as
    a prepared statement with its values (core.prepared.Bound), that, when
    they exist as the facts are read (in the same statement on PostgreSQL),
    mean nothing is to be decided: raises Withheld."""
    if connection.vendor != "postgresql":
        return _in_force_portable(number=number, context=context, at=at, unless=unless)
    e164, valid = number_parse(number)
    read = _one_statement(
        _Number.of(e164) if e164 else None,
        context=context,
        at=at,
        stamp=True,
        unless=unless,
    )
    if read.withheld:
        raise Withheld
    if isinstance(context, ContextRow):
        if read.row is None:
            raise ContextMissing(context)
        instance = context.instance_of(read.row)
        known = context.build(instance)
        if (known.subject, known.campaign_id) != (getattr(instance, context.subject), context.pk):
            read = read._replace(attempts=None)  # counted for other than the context's: counted again
    else:
        known = context
    stored = _stored_facts(e164, context=known, at=at, read=read) if e164 else _NO_STORED_FACTS
    rules = ruleset_for(read.stamp)
    return Gathered(_facts_build(e164, valid, stored, context=known, at=at, rules=rules), rules)


def _in_force_portable(
    *, number: str, context: CallContext | ContextRow, at: datetime, unless: Bound[Any] | None
) -> Gathered:
    if unless is not None and unless.exists():
        raise Withheld
    if isinstance(context, ContextRow):
        loaded = context.context_load()
        if loaded is None:
            raise ContextMissing(context)
        context = loaded
    rules = ruleset_current()
    return Gathered(facts_gather(number=number, context=context, at=at, rules=rules), rules)


def facts_gather_many(
    *, numbers: Iterable[str], context: CallContext, at: datetime, rules: RuleSet, chunk_size: int = CHUNK
) -> Iterator[list[tuple[str, CallFacts]]]:
    """The facts of many numbers, as `facts_gather` would gather each: an
    iterator over chunks of (number as given, facts), in input order. Each
    chunk takes at most nine set-based queries whatever its size (phones
    with customers, consents, DNC requests, suppression, registry listings,
    area-code syncs, attempt counts, RND answers, the RND policy), so 1M numbers stream in bounded memory.

    On PostgreSQL outside a transaction, the next chunk's queries run on a
    second connection, in a thread, while the caller works through this
    chunk's facts (the server's time and ours overlap). Inside a transaction
    they run on its connection, one chunk after the other: another
    connection would not see what the transaction sees."""
    chunks = _chunked(numbers, chunk_size)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        for chunk in chunks:
            yield _facts_chunk(chunk, context=context, at=at, rules=rules)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="facts") as pool:
        try:
            pending = None
            for chunk in chunks:
                fetching = pool.submit(_facts_fetch, chunk, context=context, at=at)
                if pending is not None:
                    yield _facts_assemble(pending.result(), context=context, at=at, rules=rules)
                pending = fetching
            if pending is not None:
                yield _facts_assemble(pending.result(), context=context, at=at, rules=rules)
        finally:
            pool.submit(connections.close_all).result()  # the thread's connection


def _chunked(numbers: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for number in numbers:
        chunk.append(number)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _facts_build(
    e164: str | None,
    valid: bool,
    stored: "_StoredFacts",
    *,
    context: CallContext,
    at: datetime,
    rules: RuleSet,
    registry_memo: dict[tuple[object, ...], tuple[RegistryFact, ...]] | None = None,
) -> CallFacts:
    registry: tuple[RegistryFact, ...] = ()
    states: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    customer = stored.customer
    if e164:
        zones, states, sources = _where(
            e164,
            customer.state if customer else None,
            customer.postal_code if customer else None,
            rules=rules,
            on=at.date(),
        )
        if stored.area_code is not None:
            sources = _call_sources(context, sources)
            key = (sources, stored.listed_in, stored.area_code)
            found = registry_memo.get(key) if registry_memo is not None else None
            if found is None:
                found = tuple(
                    RegistryFact(
                        source=source,
                        listed=source in stored.listed_in,
                        synced_at=stored.freshness.get(source, (None, None))[0],
                        sync_id=stored.freshness.get(source, (None, None))[1],
                    )
                    for source in sources
                )
                if registry_memo is not None:
                    registry_memo[key] = found
            registry = found
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
        attempts_24h_same_subject=stored.attempts.same_subject,
        attempts_24h_campaign=stored.attempts.campaign,
        context=context,
        rnd=stored.rnd,
        rnd_policy=stored.rnd_policy,
        customer_created_at=customer.created_at if customer else None,
    )


_Where = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_wheres: dict[tuple[object, ...], _Where] = {}
_WHERES_MAX = 200_000


def _where(e164: str, state: str | None, postal_code: str | None, *, rules: RuleSet, on: date) -> _Where:
    """(candidate zones, candidate states, registry sources) of a number and
    an address, memoised on what they depend on: the number's place facts
    (per prefix), the address's state and postal code, the rules of the day."""
    key = (number_place(e164), state, postal_code, rules.version, on)
    found = _wheres.get(key)
    if found is None:
        states = candidate_states(e164=e164, state=state, postal_code=postal_code)
        found = (
            candidate_zones(e164=e164, postal_code=postal_code),
            states,
            tuple(registry_sources_for(states=states, rules=rules, on=on)),
        )
        if len(_wheres) >= _WHERES_MAX:
            _wheres.clear()
        _wheres[key] = found
    return found


class _Customer(NamedTuple):  # a tuple: built once per number of a 1M scrub
    pk: int
    state: str | None
    postal_code: str | None
    last_purchase_at: datetime | None
    last_inquiry_at: datetime | None
    erased_at: datetime | None
    created_at: datetime | None  # the contact of last resort (Maine's RND date)


_NO_FRESHNESS: dict[str, tuple[datetime, int]] = {}


class _StoredFacts(NamedTuple):
    """What the database knows of one number (a tuple: built once per number of a 1M scrub)."""

    customer: _Customer | None = None
    reassigned_at: datetime | None = None
    consents: tuple[ConsentFact, ...] = ()
    dnc_requested_at: datetime | None = None
    suppressed: bool = False
    area_code: int | None = None
    listed_in: frozenset[str] = frozenset()  # registry sources listing the number
    # source -> (synced_at, sync run id) for the area code
    freshness: dict[str, tuple[datetime, int]] = _NO_FRESHNESS  # shared, never written
    attempts: AttemptCounts = AttemptCounts()  # from the call-history provider
    rnd: tuple[RndAnswer, ...] = ()  # the latest RND answer known per date sent
    rnd_policy: str | None = None  # the company's RND policy (None: no row, read as block)


_NO_STORED_FACTS = _StoredFacts()


def _stored_facts(
    e164: str, *, context: CallContext, at: datetime, read: "_Read | None" = None
) -> _StoredFacts:
    """What the database knows of `e164` for a call in `context`: read now (one
    statement on PostgreSQL, the ORM's queries elsewhere), or from `read`, a
    statement that read it already. The registries only when they decide the
    call get their facts (`_call_sources`)."""
    if read is None:
        number = _Number.of(e164)
        if connection.vendor != "postgresql":
            return _stored_facts_orm(number, context=context, at=at)
        read = _one_statement(number, context=context, at=at, stamp=False, unless=None)
    return _with_attempts(read, e164, context=context, at=at)


def _stored_facts_orm(number: "_Number", *, context: CallContext, at: datetime) -> _StoredFacts:
    """The portable path (the SQLite demo): nine queries."""
    e164, area_code, as_int = number
    phone = PhoneNumber.objects.select_related("customer").filter(number=e164).first()
    c = phone.customer if phone else None
    consents: tuple[ConsentFact, ...] = ()
    if phone is not None:
        consents = tuple(
            _consent_fact(g) for g in ConsentGrant.objects.filter(phone_number=phone).only(*_CONSENT_FIELDS)
        )
    return _StoredFacts(
        customer=_customer_of(c),
        reassigned_at=phone.reassigned_at if phone else None,
        consents=consents,
        dnc_requested_at=DncRequest.objects.filter(number=e164).aggregate(latest=Max("requested_at"))[
            "latest"
        ],
        suppressed=SuppressionEntry.objects.filter(number_hash__in=suppression_hashes(e164)).exists(),
        area_code=area_code,
        listed_in=frozenset(registry_listings(numbers=[as_int]).get(as_int, ()))
        if area_code and as_int is not None
        else frozenset(),
        freshness={
            source: synced for (source, _code), synced in registry_freshness(area_codes=[area_code]).items()
        }
        if area_code
        else {},
        attempts=call_history_provider().attempts_24h(
            e164=e164, subject=context.subject, campaign_id=context.campaign_id, at=at
        ),
        rnd=rnd_latest_answers(numbers=[e164], at=at).get(e164, ()),
        rnd_policy=_rnd_policy(),
    )


def _rnd_policy() -> str | None:
    return RndPolicy.objects.filter(pk=1).values_list("policy", flat=True).first()


def _customer_of(c: Customer | None) -> _Customer | None:
    if c is None:
        return None
    return _Customer(
        c.pk, c.state, c.postal_code, c.last_purchase_at, c.last_inquiry_at, c.erased_at, c.created_at
    )


def _consent_fact(g: ConsentGrant) -> ConsentFact:
    return ConsentFact(
        id=g.pk,
        purpose=g.purpose,
        channel=g.channel,
        written=g.written,
        granted_at=g.granted_at,
        expires_at=g.expires_at,
        revoked_at=g.revoked_at,
    )


def _facts_chunk(
    numbers: list[str], *, context: CallContext, at: datetime, rules: RuleSet
) -> list[tuple[str, CallFacts]]:
    """One chunk of facts_gather_many: its queries, then its facts."""
    return _facts_assemble(_facts_fetch(numbers, context=context, at=at), context=context, at=at, rules=rules)


_Fetched = tuple[list[tuple[str, str | None, bool]], dict[str, "_StoredFacts"]]
_NO_LISTINGS: frozenset[str] = frozenset()
_NO_ATTEMPTS = AttemptCounts()


def _facts_fetch(numbers: list[str], *, context: CallContext, at: datetime) -> _Fetched:
    """What the database knows of a chunk's numbers: the ORM path of
    `_stored_facts_orm`, each query over the whole chunk. Touches no state
    but the database connection of the thread it runs on (see
    `facts_gather_many`)."""
    parsed = [(number, *number_parse(number)) for number in numbers]
    e164s = sorted({e164 for _n, e164, _v in parsed if e164})
    as_ints = {e164: e164_to_registry_int(e164) for e164 in e164s}
    area_codes = {
        e164: as_int // 10_000_000 if as_int is not None else None for e164, as_int in as_ints.items()
    }

    # Rows, not model instances: a phone-number field parses each value it
    # loads again (and model instances cost more than the facts).
    phones: dict[str, tuple[int, datetime | None, _Customer | None]] = {}
    for row in (
        PhoneNumber.objects.filter(AnyOf(F("number"), e164s))
        .annotate(e164=Cast("number", CharField()))
        .order_by()
        .values_list(
            "pk",
            "e164",
            "reassigned_at",
            "customer_id",
            "customer__state",
            "customer__postal_code",
            "customer__last_purchase_at",
            "customer__last_inquiry_at",
            "customer__erased_at",
            "customer__created_at",
        )
    ):
        phones[row[1]] = (row[0], row[2], None if row[3] is None else _Customer._make(row[3:]))
    consents: dict[int, list[ConsentFact]] = defaultdict(list)
    if phones:
        for phone_id, *grant in ConsentGrant.objects.filter(
            AnyOf(F("phone_number_id"), [pk for pk, _r, _c in phones.values()])
        ).values_list("phone_number_id", *_CONSENT_FIELDS):
            consents[phone_id].append(ConsentFact(*grant))  # in the model's order, as one by one
    dnc = (
        dict(
            DncRequest.objects.filter(AnyOf(F("number"), e164s))
            .annotate(e164=Cast("number", CharField()))
            .values("e164")
            .annotate(latest=Max("requested_at"))
            .order_by()
            .values_list("e164", "latest")
        )
        if e164s
        else {}
    )
    hash_of = {
        h: e164 for e164, hashes in zip(e164s, suppression_hashes_many(e164s), strict=True) for h in hashes
    }
    suppressed = (
        {
            hash_of[h]
            for h in SuppressionEntry.objects.filter(AnyOf(F("number_hash"), list(hash_of))).values_list(
                "number_hash", flat=True
            )
        }
        if hash_of
        else set()
    )
    listed = registry_listings(numbers=[n for e, code in area_codes.items() if code and (n := as_ints[e])])
    freshness: dict[int, dict[str, tuple[datetime, int]]] = defaultdict(
        dict
    )  # area code -> source -> (synced_at, sync run id)
    for (source, code), synced in registry_freshness(
        area_codes={code for code in area_codes.values() if code}
    ).items():
        freshness[code][source] = synced
    attempts = call_history_provider().attempts_24h_many(
        numbers=e164s, subject=context.subject, campaign_id=context.campaign_id, at=at
    )
    rnd = rnd_latest_answers(numbers=e164s, at=at)
    rnd_policy = _rnd_policy()

    stored_of: dict[str, _StoredFacts] = {}
    no_phone = (None, None, None)
    for e164 in e164s:
        phone_id, reassigned_at, customer = phones.get(e164, no_phone)
        area_code = area_codes[e164]
        stored_of[e164] = _StoredFacts(
            customer=customer,
            reassigned_at=reassigned_at,
            consents=tuple(consents.get(phone_id, ())) if phone_id is not None else (),
            dnc_requested_at=dnc.get(e164),
            suppressed=e164 in suppressed,
            area_code=area_code,
            listed_in=frozenset(listed.get(as_ints[e164] or 0, _NO_LISTINGS)) if area_code else _NO_LISTINGS,
            freshness=freshness.get(area_code, _NO_FRESHNESS) if area_code else _NO_FRESHNESS,
            attempts=attempts.get(e164, _NO_ATTEMPTS),
            rnd=rnd.get(e164, ()),
            rnd_policy=rnd_policy,
        )
    return parsed, stored_of


def _facts_assemble(
    fetched: _Fetched, *, context: CallContext, at: datetime, rules: RuleSet
) -> list[tuple[str, CallFacts]]:
    parsed, stored_of = fetched
    registry_memo: dict[tuple[object, ...], tuple[RegistryFact, ...]] = {}
    return [
        (
            number,
            _facts_build(
                e164,
                valid,
                stored_of[e164] if e164 else _NO_STORED_FACTS,
                context=context,
                at=at,
                rules=rules,
                registry_memo=registry_memo,
            ),
        )
        for number, e164, valid in parsed
    ]


_CONSENT_FIELDS = ("id", "purpose", "channel", "written", "granted_at", "expires_at", "revoked_at")


def _with_attempts(read: "_Read", e164: str, *, context: CallContext, at: datetime) -> _StoredFacts:
    """The number's facts with their attempt counts: those its statement took
    for this context, else the call-history provider's (one more query)."""
    assert read.stored is not None  # read for a number
    attempts = read.attempts
    if attempts is None:
        attempts = call_history_provider().attempts_24h(
            e164=e164, subject=context.subject, campaign_id=context.campaign_id, at=at
        )
    return read.stored._replace(attempts=attempts)


class _Number(NamedTuple):
    e164: str
    area_code: int | None  # None: not a NANP number, no registry lists it
    as_int: int | None

    @classmethod
    def of(cls, e164: str) -> "_Number":
        as_int = e164_to_registry_int(e164)
        return cls(e164, as_int // 10_000_000 if as_int is not None else None, as_int)


class _Read(NamedTuple):
    """What one statement read: the number's facts (None without a number;
    attempts unset when the provider gave no SQL), the rule set's stamp, the
    context row's values (None: no row), whether the `unless` rows exist."""

    stored: _StoredFacts | None
    attempts: AttemptCounts | None
    stamp: int | None
    row: tuple[Any, ...] | None
    withheld: bool


def _one_statement(
    number: _Number | None,
    *,
    context: CallContext | ContextRow,
    at: datetime,
    stamp: bool,
    unless: Bound[Any] | None,
) -> _Read:
    """One SELECT of whatever is asked: the number's facts, each a subquery on
    its own index (phone number, consents by phone, DNC requests by number,
    suppression by hash, registry numbers by number, area-code syncs by area
    code, and the call-history provider's attempt counts when it gives SQL,
    on the context's subject and campaign); the rule set's stamp; a
    ContextRow's row; whether the `unless` rows exist."""
    quote = connection.ops.quote_name
    row = context if isinstance(context, ContextRow) else None
    columns: list[str] = []
    joins: list[str] = []
    params: dict[str, Any] = {}
    counts = None
    if number is not None:
        if row is not None:
            subject_sql = "ctx." + quote(next(f.column for f in row.columns if f.name == row.subject))
            campaign_sql = "ctx." + quote(row.model._meta.pk.column)
        else:
            assert isinstance(context, CallContext)
            subject_sql, campaign_sql = "%(ctx_subject)s", "%(ctx_campaign)s"
            params |= {"ctx_subject": context.subject, "ctx_campaign": context.campaign_id}
        counts = call_history_provider().attempts_24h_sql(
            number_sql="%(e164)s", subject_sql=subject_sql, campaign_sql=campaign_sql, at=at
        )
        columns.append(f"""
      c.id, c.state, c.postal_code, c.last_purchase_at, c.last_inquiry_at, c.erased_at, c.created_at,
      p.reassigned_at,
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
        WHERE a.area_code = %(area_code)s),
      {counts.sql if counts else "NULL::bigint[]"},
      (SELECT array_agg(ARRAY[q.id::text, q.date_sent::text, q.date_kind, q.answer, q.queried_at::text,
                              q.provider, q.rnd_update, q.consent_id::text]
                        ORDER BY q.date_sent DESC, q.queried_at DESC, q.id DESC)
         FROM {RndQuery._meta.db_table} q
        WHERE q.phone_number = %(e164)s AND q.queried_at <= %(at)s AND q.answer <> %(rnd_error)s),
      (SELECT r.policy FROM {RndPolicy._meta.db_table} r WHERE r.id = 1)""")
        joins.append(f"""
    LEFT JOIN {PhoneNumber._meta.db_table} p ON p.number = %(e164)s
    LEFT JOIN {Customer._meta.db_table} c ON c.id = p.customer_id""")
        params |= {
            "e164": number.e164,
            "hashes": suppression_hashes(number.e164),
            "area_code": number.area_code,
            "number": number.as_int,
            "at": at,
            "rnd_error": ERROR,
            **(counts.params if counts else {}),
        }
    if stamp:
        columns.append(STAMP_SQL)
    if unless is not None:
        sql, unless_params = _named(*unless.statement(), prefix="unless")
        columns.append(f"EXISTS ({sql})")
        params |= unless_params
    if row is not None:
        columns.append("ctx.*")  # `found`, then the row's columns
        joins.append(f"""
    LEFT JOIN LATERAL (
      SELECT true AS found, {", ".join(quote(field.column) for field in row.columns)}
        FROM {quote(row.model._meta.db_table)} WHERE {quote(row.model._meta.pk.column)} = %(ctx_pk)s
    ) AS ctx ON true""")
        params["ctx_pk"] = row.pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)}\n    FROM (SELECT 1) AS one{''.join(joins)}", params)
        values = cursor.fetchone()
    stored, attempts, rest = None, None, values
    if number is not None:
        stored, attempts = _stored_from(
            values[:_FACT_COLUMNS], number.e164, number.area_code, counted=counts is not None
        )
        rest = values[_FACT_COLUMNS:]
    stamp_value = None
    if stamp:
        stamp_value, rest = rest[0], rest[1:]
    withheld = False
    if unless is not None:
        withheld, rest = rest[0], rest[1:]
    found = row is not None and rest[0] is not None
    return _Read(stored, attempts, stamp_value, rest[1:] if found else None, withheld)


def _named(sql: str, params: Sequence[Any], *, prefix: str) -> tuple[str, dict[str, Any]]:
    """A statement compiled by the ORM (`%s` placeholders) as a part of one
    with named placeholders: each `%s` becomes `%(prefix_i)s`."""
    text, count = _placed(sql, prefix)
    assert count == len(params), "every parameter placed"
    return text, {f"{prefix}_{index}": param for index, param in enumerate(params)}


@functools.lru_cache(maxsize=64)
def _placed(sql: str, prefix: str) -> tuple[str, int]:
    """`sql` with each `%s` numbered (`%(prefix_0)s`, ...), and how many there were."""
    count = 0

    def place(match: re.Match[str]) -> str:
        nonlocal count
        if match.group() == "%%":
            return "%%"
        count += 1
        return f"%({prefix}_{count - 1})s"

    return re.sub(r"%%|%s", place, sql), count


_FACT_COLUMNS = 16  # the number's facts, as `_stored_from` unpacks them


def _stored_from(
    values: tuple[Any, ...], e164: str, area_code: int | None, *, counted: bool
) -> tuple[_StoredFacts, AttemptCounts | None]:
    (
        cid,
        state,
        postal_code,
        purchase,
        inquiry,
        erased,
        created,
        reassigned,
        grants,
        dnc,
        suppressed,
        listed,
        synced,
        attempts,
        answers,
        rnd_policy,
    ) = values
    stored = _StoredFacts(
        customer=_Customer(cid, state, postal_code, purchase, inquiry, erased, created)
        if cid is not None
        else None,
        reassigned_at=reassigned,
        consents=tuple(
            ConsentFact(
                id=int(g[0]),
                purpose=g[1],
                channel=g[2],
                written=g[3] == "true",
                granted_at=datetime.fromisoformat(g[4]),  # never NULL
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
            registry_source_key(kind, state): (datetime.fromisoformat(synced_at), int(run))
            for kind, state, synced_at, run in synced or ()
        },
        rnd=_rnd_answers(e164, answers),
        rnd_policy=rnd_policy,
    )
    return stored, AttemptCounts(same_subject=attempts[0], campaign=attempts[1]) if counted else None


def _rnd_answers(e164: str, rows: list[list[str | None]] | None) -> tuple[RndAnswer, ...]:
    """The statement's RND rows (newest date first, the latest answer of each
    date first) as the latest answer per date sent."""
    answers: list[RndAnswer] = []
    seen: set[date] = set()
    for query_id, sent, kind, answer, queried_at, provider, update, consent_id in rows or ():
        day = date.fromisoformat(sent)  # type: ignore[arg-type]
        if day in seen:
            continue
        seen.add(day)
        answers.append(
            RndAnswer(
                query_id=int(query_id),  # type: ignore[arg-type]
                number=e164,
                date_sent=day,
                date_kind=kind or "",
                answer=answer or "",
                queried_at=datetime.fromisoformat(queried_at),  # type: ignore[arg-type]
                provider=provider or "",
                rnd_update=update or "",
                consent_id=int(consent_id) if consent_id is not None else None,
            )
        )
    return tuple(answers)


def _instant(text: str | None) -> datetime | None:
    """A timestamptz as PostgreSQL prints it (`2026-11-17 16:00:00+00`)."""
    return datetime.fromisoformat(text) if text is not None else None
