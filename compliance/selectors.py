"""Reads of compliance: the rule set in force, decisions."""

import base64
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from compliance import ledger
from compliance.decision_log import unsealed_count
from compliance.models import DecisionChainLink, DecisionCheckpoint, DecisionRecord
from compliance.policy import registry_max_age_days
from compliance.registry.sources import NATIONAL_KEY
from compliance.ruleset import ruleset_current
from core.calls import CallMade, calls_made_provider
from customers.models import Customer


def decision_get(*, decision_id: int) -> DecisionRecord | None:
    return DecisionRecord.objects.select_related("actor").filter(pk=decision_id).first()


# --- the compliance officer's overview ------------------------------------------

REGISTRY_WARN_LEAD = timedelta(days=6)  # warn compliance officers six days before data goes stale
REASONS_WINDOW = timedelta(hours=24)
REASONS_SAMPLE = 20_000


@dataclass(frozen=True)
class RegistryLimit:
    """What the rule set in force says about one source's data
    (`compliance.policy.registry_max_age_days`): the age in days beyond which
    it is stale, None when no rule gives one; `consulted` is False for a
    state's list that no rule in force keeps (no decision reads it)."""

    max_age_days: int | None
    consulted: bool

    @property
    def warn_days(self) -> int | None:
        """The age from which pages and the daily check warn, ahead of the limit."""
        if self.max_age_days is None:
            return None
        return max(self.max_age_days - REGISTRY_WARN_LEAD.days, 0)

    def stale(self, *, synced_at: datetime, now: datetime) -> bool:
        """As the decision judges it: older than the limit, or no limit at all."""
        if not self.consulted:
            return False
        return self.max_age_days is None or now - synced_at > timedelta(days=self.max_age_days)

    def aging(self, *, synced_at: datetime, now: datetime) -> bool:
        warn_days = self.warn_days  # None when there is no limit
        if not self.consulted or warn_days is None:
            return self.stale(synced_at=synced_at, now=now)
        return now - synced_at > timedelta(days=warn_days)


def registry_limits(*, sources: Iterable, now: datetime) -> dict[int, RegistryLimit]:
    """Each source's `RegistryLimit` (by source id) under the rule set in
    force on today's date: the same limit the decision applies."""
    rules, today = ruleset_current(), timezone.localdate(now)
    limits = {}
    for source in sources:
        max_age_days = registry_max_age_days(rules, source=source.key, dates=(today,))
        limits[source.pk] = RegistryLimit(
            max_age_days=max_age_days, consulted=max_age_days is not None or source.key == NATIONAL_KEY
        )
    return limits


def registry_older_than_limit(*, limits: dict[int, RegistryLimit], now: datetime, warn: bool = False) -> Q:
    """AreaCodeSync rows whose data is stale (or, with `warn`, aging) under
    their source's limit: one condition for a query over every source."""
    condition = Q(source__isnull=True)  # matches nothing (the column is not null), and compiles
    for source_id, limit in limits.items():
        if not limit.consulted:
            continue
        days = limit.warn_days if warn else limit.max_age_days
        if days is None:
            condition |= Q(source_id=source_id)
        else:
            condition |= Q(source_id=source_id, synced_at__lt=now - timedelta(days=days))
    return condition


@dataclass(frozen=True)
class RegistryStatus:
    source: str
    source_id: int
    last_sync: object  # SyncRun | None
    area_codes: int
    stale_area_codes: int
    aging_area_codes: int  # within REGISTRY_WARN_LEAD of the limit (stale ones included)
    oldest_sync: datetime | None
    limit: RegistryLimit

    @property
    def fresh(self) -> bool:
        return self.area_codes > 0 and self.stale_area_codes == 0


def registry_status(now: datetime) -> list[RegistryStatus]:
    """Per active source: its last successful sync and how many of its area
    codes are older than the rule set's limit for that source (calls to them
    are blocked as dnc_data_stale). Four queries, whatever the number of
    sources."""
    from compliance.registry.models import AreaCodeSync, RegistrySource, SyncRun

    sources = list(RegistrySource.objects.filter(active=True).order_by("kind", "state"))
    limits = registry_limits(sources=sources, now=now)
    last_runs = {}
    for run in (
        SyncRun.objects.filter(source__in=sources, status=SyncRun.Status.SUCCEEDED)
        .order_by("source_id", "-started_at")
        .distinct("source_id")
        if connection.vendor == "postgresql"
        else SyncRun.objects.filter(source__in=sources, status=SyncRun.Status.SUCCEEDED).order_by(
            "started_at"
        )
    ):
        last_runs[run.source_id] = run  # on SQLite the latest one wins
    syncs = {
        row["source_id"]: row
        for row in AreaCodeSync.objects.filter(source__in=sources)
        .values("source_id")
        .annotate(
            total=Count("id"),
            stale=Count("id", filter=registry_older_than_limit(limits=limits, now=now)),
            aging=Count("id", filter=registry_older_than_limit(limits=limits, now=now, warn=True)),
            oldest=Min("synced_at"),
        )
    }
    return [
        RegistryStatus(
            source=str(source),
            source_id=source.pk,
            last_sync=last_runs.get(source.pk),
            area_codes=syncs.get(source.pk, {}).get("total", 0),
            stale_area_codes=syncs.get(source.pk, {}).get("stale", 0),
            aging_area_codes=syncs.get(source.pk, {}).get("aging", 0),
            oldest_sync=syncs.get(source.pk, {}).get("oldest"),
            limit=limits[source.pk],
        )
        for source in sources
    ]


@dataclass(frozen=True)
class DecisionOverview:
    allowed: int
    blocked: int
    reasons: list[tuple[str, int]]
    recent: list[DecisionRecord]
    unsealed: int
    sealed_through: int | None


def decision_overview(*, now: datetime, recent: int = 15) -> DecisionOverview:
    """The last 24 hours of decisions: allowed and blocked counts, the block
    reasons by frequency (from at most the last 20,000 blocked ones), the
    latest decisions, and how far the hash chain is sealed."""
    since = now - REASONS_WINDOW
    counts = DecisionRecord.objects.filter(recorded_at__gte=since).aggregate(
        n_allowed=Count("id", filter=Q(allowed=True)), n_blocked=Count("id", filter=Q(allowed=False))
    )
    reasons: Counter[str] = Counter()
    for row in (
        DecisionRecord.objects.filter(recorded_at__gte=since, allowed=False)
        .order_by("-id")
        .values_list("reasons", flat=True)[:REASONS_SAMPLE]
    ):
        reasons.update(row)
    return DecisionOverview(
        allowed=counts["n_allowed"],
        blocked=counts["n_blocked"],
        reasons=reasons.most_common(),
        recent=list(DecisionRecord.objects.select_related("actor").order_by("-id")[:recent]),
        unsealed=unsealed_count(),
        sealed_through=DecisionChainLink.objects.aggregate(top=Max("position"))["top"],
    )


@dataclass(frozen=True)
class DecisionRelated:
    """What a decision's page links to, besides the decision itself."""

    customer: Customer | None  # the number's customer then, if still on record
    call: CallMade | None  # the call its hand-off made (its proof); None for a check or a blocked hand-off
    campaign: str | None  # the campaign's name ("campaign #id" if it is gone); None: no campaign


def decision_related(*, record: DecisionRecord) -> DecisionRelated:
    """The customer, the call and the campaign of a decision: three queries at
    most. The call and the campaign's name come from the calls-made provider
    (compliance knows no campaign model): a hand-off's call is handed at the
    instant decided for, so only the customer's calls from then on are read."""
    provider = calls_made_provider()
    customer = Customer.objects.filter(pk=record.customer_id).first() if record.customer_id else None
    call = None
    if customer is not None and record.kind == DecisionRecord.Kind.HANDOFF and record.allowed:
        calls = provider.calls_of_customer(customer_id=customer.pk, since=record.decided_at)
        call = next((made for made in calls if made.decision_id == record.pk), None)
    campaign = None
    if call is not None:
        campaign = call.campaign
    elif record.campaign_id:
        campaign = provider.campaign_name(campaign_id=record.campaign_id) or f"campaign #{record.campaign_id}"
    return DecisionRelated(customer=customer, call=call, campaign=campaign)


# --- the dashboard's scheduled work --------------------------------------------


@dataclass(frozen=True)
class AreaCodeStatus:
    source: str
    area_code: int
    synced_at: datetime
    number_count: int
    age_days: int
    max_age_days: int | None  # the rule set's limit for the source
    stale: bool  # older than the limit: marketing calls blocked
    aging: bool  # within REGISTRY_WARN_LEAD of the limit


def area_code_status(
    *, now: datetime, limits: dict[int, RegistryLimit] | None = None
) -> list[AreaCodeStatus]:
    """Every subscribed source's area codes, oldest data first: one query
    (and the limits', unless given: `registry_status` has them)."""
    from compliance.registry.models import AreaCodeSync, RegistrySource

    if limits is None:
        limits = registry_limits(sources=RegistrySource.objects.filter(active=True), now=now)
    rows = (
        AreaCodeSync.objects.filter(source__active=True)
        .select_related("source")
        .order_by("synced_at", "source_id", "area_code")
    )
    return [
        AreaCodeStatus(
            source=str(row.source),
            area_code=row.area_code,
            synced_at=row.synced_at,
            number_count=row.number_count,
            age_days=(now - row.synced_at).days,
            max_age_days=limits[row.source_id].max_age_days,
            stale=limits[row.source_id].stale(synced_at=row.synced_at, now=now),
            aging=limits[row.source_id].aging(synced_at=row.synced_at, now=now),
        )
        for row in rows
    ]


def sync_runs_running() -> list:
    """Registry imports in progress, with their progress (rows done of total)."""
    from compliance.registry.models import SyncRun

    return list(
        SyncRun.objects.filter(status=SyncRun.Status.RUNNING).select_related("source").order_by("started_at")
    )


def purge_runs_latest() -> list:
    """The latest purge run of each category: one query."""
    from compliance.models import PurgeRun

    runs = PurgeRun.objects.select_related("triggered_by")
    if connection.vendor == "postgresql":
        return list(runs.order_by("category", "-started_at", "-id").distinct("category"))
    latest = {}
    for run in runs.order_by("started_at", "id"):
        latest[run.category] = run
    return sorted(latest.values(), key=lambda run: run.category)


# --- the decision log's signed checkpoints -----------------------------------------


@dataclass(frozen=True)
class LedgerStatus:
    """What the audit page shows of the checkpoints: the public key an auditor
    checks them with, and the latest checkpoint (its copy in the database,
    checked against that key)."""

    key_id: str | None  # None: no key yet (the first seal creates one when none is configured)
    public_key_pem: str
    public_key_base64: str
    store: str
    latest: DecisionCheckpoint | None
    latest_signed: bool | None  # the copy's signature verifies with the key
    problem: str = ""  # a key or a copy that cannot be read (the page says so rather than fail)


def ledger_status() -> LedgerStatus:
    problems = []
    try:
        public_key = ledger.ledger_public_key()
    except ledger.CheckpointError as exc:
        public_key = None
        problems.append(f"the public key is unreadable: {exc}")
    latest = DecisionCheckpoint.objects.first()
    signed = None
    if latest is not None and public_key is not None:
        try:
            signed = ledger.Checkpoint.parse(latest.document).signed_by(public_key)
        except ledger.CheckpointError as exc:
            signed = False
            problems.append(f"the latest checkpoint's copy is unreadable: {exc}")
    return LedgerStatus(
        key_id=ledger.key_id(public_key) if public_key else None,
        public_key_pem=ledger.public_key_pem(public_key) if public_key else "",
        public_key_base64=base64.b64encode(ledger.public_key_raw(public_key)).decode() if public_key else "",
        store=str(ledger.store_dir()),
        latest=latest,
        latest_signed=signed,
        problem="; ".join(problems),
    )
