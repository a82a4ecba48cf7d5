"""Reads of compliance: the rule set in force, decisions."""

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Min, Q

from compliance.models import DecisionRecord, JurisdictionRule
from compliance.rules import RuleSet, ruleset_build

_cache_lock = threading.Lock()
_cached: tuple[tuple, RuleSet] | None = None


def ruleset_current() -> RuleSet:
    """The rule set stored in the database, parsed once per change: one
    cheap query per call tells whether a compliance officer changed a rule."""
    global _cached
    stamp = JurisdictionRule.objects.aggregate(n=Count("id"), changed=Max("updated_at"), top=Max("id"))
    key = (stamp["n"], stamp["changed"], stamp["top"])
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _cache_lock:
        rules = ruleset_build(
            rule.to_record() for rule in JurisdictionRule.objects.order_by("jurisdiction", "effective_from")
        )
        _cached = (key, rules)
    return rules


def decision_get(*, decision_id: int) -> DecisionRecord | None:
    return DecisionRecord.objects.select_related("actor").filter(pk=decision_id).first()


# --- the compliance officer's overview ------------------------------------------

REGISTRY_MAX_AGE = timedelta(days=31)  # 16 CFR 310.4(b)(3)(iv): lists at most 31 days old
REGISTRY_WARN_AGE = timedelta(days=25)  # warn compliance officers six days ahead
REASONS_WINDOW = timedelta(hours=24)
REASONS_SAMPLE = 20_000


@dataclass(frozen=True)
class RegistryStatus:
    source: str
    last_sync: object  # SyncRun | None
    area_codes: int
    stale_area_codes: int
    aging_area_codes: int  # older than REGISTRY_WARN_AGE (stale ones included)
    oldest_sync: datetime | None

    @property
    def fresh(self) -> bool:
        return self.area_codes > 0 and self.stale_area_codes == 0


def registry_status(now: datetime) -> list[RegistryStatus]:
    """Per active source: its last successful sync and how many of its area
    codes are older than 31 days (calls to them are blocked as
    dnc_data_stale). Three queries, whatever the number of sources."""
    from compliance.registry.models import AreaCodeSync, RegistrySource, SyncRun

    sources = list(RegistrySource.objects.filter(active=True).order_by("kind", "state"))
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
            stale=Count("id", filter=Q(synced_at__lt=now - REGISTRY_MAX_AGE)),
            aging=Count("id", filter=Q(synced_at__lt=now - REGISTRY_WARN_AGE)),
            oldest=Min("synced_at"),
        )
    }
    return [
        RegistryStatus(
            source=str(source),
            last_sync=last_runs.get(source.pk),
            area_codes=syncs.get(source.pk, {}).get("total", 0),
            stale_area_codes=syncs.get(source.pk, {}).get("stale", 0),
            aging_area_codes=syncs.get(source.pk, {}).get("aging", 0),
            oldest_sync=syncs.get(source.pk, {}).get("oldest"),
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
    reasons = Counter()
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
        unsealed=DecisionRecord.objects.filter(chain_position__isnull=True).count(),
        sealed_through=DecisionRecord.objects.aggregate(top=Max("chain_position"))["top"],
    )


# --- the dashboard's scheduled work --------------------------------------------


@dataclass(frozen=True)
class AreaCodeStatus:
    source: str
    area_code: int
    synced_at: datetime
    number_count: int
    age_days: int
    stale: bool  # older than REGISTRY_MAX_AGE: marketing calls blocked
    aging: bool  # older than REGISTRY_WARN_AGE


def area_code_status(*, now: datetime) -> list[AreaCodeStatus]:
    """Every subscribed source's area codes, oldest data first: one query."""
    from compliance.registry.models import AreaCodeSync

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
            stale=row.synced_at < now - REGISTRY_MAX_AGE,
            aging=row.synced_at < now - REGISTRY_WARN_AGE,
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
