"""The compliance officer's reports: opt-out latency, blocked decisions by
reason over time, registry freshness and purge runs (here), and reports of
other apps (calls per state and hour against the windows, abandonment per
campaign) registered with `report_register`, as the retention categories
are: compliance imports no app.

Each report is one or two aggregate queries over its period, whatever the
number of rows, and returns the same shape: a summary in plain words, a
chart (server-rendered SVG), a table (also its CSV export) and whether it
found something a compliance officer must look at."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils.formats import date_format

from compliance.charts import ChartLimit, bar_chart, duration_chart
from compliance.explain import REASON_TEXT
from compliance.models import DecisionRecord, PurgeRun
from compliance.registry.models import AreaCodeSync, RegistrySource
from compliance.selectors import REGISTRY_WARN_LEAD, RegistryLimit, registry_limits, registry_older_than_limit
from consent.models import OptOutVia
from core.retention import retention_category
from core.words import day_text

# 47 CFR 64.1200(d)(3): honour a do-not-call request within 10 business days
# (about 14 calendar days); ConsentDesk means to honour it within seconds.
OPT_OUT_LEGAL_LIMIT = timedelta(days=14)
OPT_OUT_TARGET = timedelta(minutes=1)
PERIOD_CHOICES = (7, 30, 90, 365)


@dataclass(frozen=True)
class ReportPeriod:
    until: datetime
    days: int

    @property
    def since(self) -> datetime:
        return self.until - timedelta(days=self.days)

    def dates(self) -> list[date]:
        first = self.since.astimezone(UTC).date()
        return [first + timedelta(days=i) for i in range(self.days + 1)]


@dataclass(frozen=True)
class HeatCell:
    count: int
    outside: bool  # the hour is outside the row's window


@dataclass(frozen=True)
class Heatmap:
    columns: list[str]
    rows: list[tuple[str, str, list[HeatCell]]]  # label, window, one cell per column


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    summary: str
    headers: list[str]
    rows: list[list]
    chart: str | None = None
    heatmap: Heatmap | None = None
    flagged: bool = False  # something a compliance officer must look at
    note: str = ""


@dataclass(frozen=True)
class ReportSection:
    key: str
    title: str
    order: int
    build: Callable[[ReportPeriod], Report]


_SECTIONS: dict[str, ReportSection] = {}


def report_register(section: ReportSection) -> None:
    _SECTIONS[section.key] = section


def report_sections() -> list[ReportSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def reports_build(*, period: ReportPeriod, keys: Sequence[str] | None = None) -> list[Report]:
    return [s.build(period) for s in report_sections() if keys is None or s.key in keys]


# --- helpers -----------------------------------------------------------------


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 0.001:
        return "under 1 ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def period_rows(sql: str, period: ReportPeriod) -> list[tuple]:
    """Rows of a report's own SQL (JSON unnesting and percentiles have no ORM
    form) whose two parameters are the period's start and end."""
    params = [connection.ops.adapt_datetimefield_value(v) for v in (period.since, period.until)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


# --- opt-out latency ---------------------------------------------------------

_LATENCY_PG = """
SELECT source, count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY s),
       max(s)
FROM (SELECT source, greatest(extract(epoch FROM created_at - requested_at), 0)::float8 AS s
      FROM consent_dncrequest WHERE created_at >= %s AND created_at < %s) AS latency
GROUP BY source ORDER BY source
"""
_LATENCY_SQLITE = """
SELECT source, max((julianday(created_at) - julianday(requested_at)) * 86400.0, 0)
FROM consent_dncrequest WHERE created_at >= %s AND created_at < %s
"""


def opt_out_latency(period: ReportPeriod) -> Report:
    """From the request (the SMS received, the ticket opened, the time the
    person asked as entered by staff) to its effect (the DNC request and the
    revocations committed), per channel: every channel an opt-out may come
    in on, those without one in the period said so."""
    if connection.vendor == "postgresql":
        stats = [(src, n, med, p95, top) for src, n, med, p95, top in period_rows(_LATENCY_PG, period)]
    else:
        seconds_by_source = defaultdict(list)
        for source, seconds in period_rows(_LATENCY_SQLITE, period):
            seconds_by_source[source].append(seconds)
        stats = [
            (src, len(v), _quantile(sorted(v), 0.5), _quantile(sorted(v), 0.95), max(v))
            for src, v in sorted(seconds_by_source.items())
        ]
    labels = dict(OptOutVia.choices)
    by_source = {row[0]: row for row in stats}
    channels = list(labels) + sorted(set(by_source) - set(labels))
    rows = []
    for source in channels:
        if source in by_source:
            _src, n, med, p95, top = by_source[source]
            rows.append(
                [
                    labels.get(source, source),
                    n,
                    duration_text(med),
                    duration_text(p95),
                    duration_text(top),
                    round(med, 3),
                    round(p95, 3),
                ]
            )
        else:
            rows.append([labels[source], 0, "no opt-outs", "", "", "", ""])
    total = sum(n for _src, n, *_ in stats)
    over_target = [row for row in stats if row[3] is not None and row[3] > OPT_OUT_TARGET.total_seconds()]
    over_law = [row for row in stats if row[4] > OPT_OUT_LEGAL_LIMIT.total_seconds()]
    if not stats:
        summary = "No opt-out in this period."
    else:
        slowest = max(stats, key=lambda row: row[4])
        summary = (
            f"{total} opt-out{'s' if total != 1 else ''}; the slowest took "
            f"{duration_text(slowest[4])}, via {labels.get(slowest[0], slowest[0])}."
        )
        if over_law:
            summary += " Some took longer than the 10 business days the law allows."
        elif over_target:
            summary += (
                " Channels whose p95 is over a minute wait for a person: "
                + ", ".join(labels.get(row[0], row[0]) for row in over_target)
                + "."
            )

    def channel_label(source: str) -> str:
        label = labels.get(source, source)
        return label if source in by_source else f"{label}: no opt-outs"

    return Report(
        key="opt_out_latency",
        title="Opt-out latency (request to effect)",
        summary=summary,
        headers=["channel", "opt-outs", "median", "p95", "slowest", "median seconds", "p95 seconds"],
        rows=rows,
        chart=duration_chart(
            title="Time from request to effect, per channel (log scale)",
            labels=[channel_label(src) for src in channels],
            series={
                "median": [by_source[src][2] if src in by_source else None for src in channels],
                "p95": [by_source[src][3] if src in by_source else None for src in channels],
            },
            limit=ChartLimit(
                OPT_OUT_LEGAL_LIMIT.total_seconds(), f"{OPT_OUT_LEGAL_LIMIT.days} days: the law"
            ),
            value_text=duration_text,
        ),
        flagged=bool(over_law),
        note="An opt-out takes effect when it commits: from then on no hand-off returns the number. "
        "47 CFR 64.1200(a)(10) and (d)(3) allow 10 business days (about 14 calendar days, the red line); "
        "ConsentDesk allows none.",
    )


# --- blocked decisions by reason ---------------------------------------------

# Decisions are placed at the instant decided for (`decided_at`: the call's),
# not when the row was logged (`recorded_at`, the database's own stamp).
_REASONS_PG = """
SELECT (d.decided_at AT TIME ZONE 'UTC')::date, r.code, count(*)
FROM compliance_decisionrecord d CROSS JOIN LATERAL jsonb_array_elements_text(d.reasons) AS r(code)
WHERE NOT d.allowed AND d.decided_at >= %s AND d.decided_at < %s
GROUP BY 1, 2
"""
_REASONS_SQLITE = """
SELECT date(d.decided_at), r.value, count(*)
FROM compliance_decisionrecord d, json_each(d.reasons) AS r
WHERE NOT d.allowed AND d.decided_at >= %s AND d.decided_at < %s
GROUP BY 1, 2
"""
_TOP_REASONS = 7


def blocked_by_reason(period: ReportPeriod) -> Report:
    """Blocked decisions per day of the call they decided (a past call seeded
    or imported today counts on its own day) and per reason."""
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    sql = _REASONS_PG if connection.vendor == "postgresql" else _REASONS_SQLITE
    for day, code, count in period_rows(sql, period):
        day = day if isinstance(day, date) else date.fromisoformat(day)
        per_day[day][code] += count
        totals[code] += count
    verdicts = {
        row["day"]: row
        for row in DecisionRecord.objects.filter(decided_at__gte=period.since, decided_at__lt=period.until)
        .annotate(day=TruncDate("decided_at", tzinfo=UTC))
        .values("day")
        .annotate(
            n_allowed=Count("id", filter=Q(allowed=True)), n_blocked=Count("id", filter=Q(allowed=False))
        )
    }
    n_blocked = sum(row["n_blocked"] for row in verdicts.values())
    n_allowed = sum(row["n_allowed"] for row in verdicts.values())
    ranked = sorted(totals, key=lambda code: -totals[code])
    shown, rest = ranked[:_TOP_REASONS], ranked[_TOP_REASONS:]
    days = period.dates()
    series = {code: [per_day[d].get(code, 0) for d in days] for code in shown}
    if rest:
        series["other reasons"] = [sum(per_day[d].get(code, 0) for code in rest) for d in days]
    step = max(1, len(days) // 15)
    return Report(
        key="blocked_by_reason",
        title="Blocked decisions by reason",
        summary=(
            f"{n_blocked} call{'s' if n_blocked != 1 else ''} blocked and {n_allowed} allowed"
            + (f"; most often because of {ranked[0]}." if ranked else ".")
        ),
        headers=["reason", "what it means", "decisions", "share of blocked"],
        rows=[
            [code, REASON_TEXT.get(code, code), totals[code], f"{totals[code] * 100 / n_blocked:.1f}%"]
            for code in ranked
        ],
        chart=bar_chart(
            title="Blocked decisions per day (UTC), by reason (a decision may carry several)",
            labels=[date_format(d, "MONTH_DAY_FORMAT") if i % step == 0 else "" for i, d in enumerate(days)],
            series=series,
            stacked=True,
            x_label_rotation=30,
        ),
        note="Every hand-off and check is decided and logged; a blocked decision is the engine doing its job.",
    )


# --- registry freshness ------------------------------------------------------

FRESH_BUCKETS = ((7, "0-7 days"), (14, "8-14 days"), (None, "15+ days, fresh"))
# Fresh buckets in greens and blues, then aging in amber and stale in red.
_FRESHNESS_COLORS = ("#2f9e44", "#0ea5a4", "#1f6feb", "#e0a100", "#d64545")


def registry_freshness(period: ReportPeriod) -> Report:
    """Area codes per subscribed source by the age of their data, against
    the maximum age the rule set in force gives each source (what the
    decision applies): fresh ones by age, aging ones (within six days of the
    limit) and stale ones."""
    now = period.until
    sources = list(RegistrySource.objects.filter(active=True).order_by("kind", "state"))
    limits = registry_limits(sources=sources, now=now)
    stale_condition = registry_older_than_limit(limits=limits, now=now)
    aging_condition = registry_older_than_limit(limits=limits, now=now, warn=True)
    labels_by_alias = {}
    buckets = {}
    lower = None
    for i, (days, label) in enumerate(FRESH_BUCKETS):
        condition = ~aging_condition
        if days is not None:
            condition &= Q(synced_at__gte=now - timedelta(days=days))
        if lower is not None:
            condition &= Q(synced_at__lt=now - timedelta(days=lower))
        buckets[f"age_{i}"] = Count("id", filter=condition)
        labels_by_alias[f"age_{i}"] = label
        lower = days
    buckets["aging"] = Count("id", filter=aging_condition & ~stale_condition)
    labels_by_alias["aging"] = f"aging (within {REGISTRY_WARN_LEAD.days} days of the max age)"
    buckets["stale"] = Count("id", filter=stale_condition)
    labels_by_alias["stale"] = "stale (over the max age)"
    counts = {
        row["source_id"]: row
        for row in AreaCodeSync.objects.filter(source__in=sources)
        .values("source_id")
        .annotate(numbers=Sum("number_count"), total=Count("id"), **buckets)
    }
    stale = list(
        AreaCodeSync.objects.filter(stale_condition, source__in=sources)
        .select_related("source")
        .order_by("synced_at")[:50]
    )
    labels = [str(source) for source in sources]
    never = [str(source) for source in sources if not counts.get(source.pk, {}).get("total")]
    n_stale = sum(counts.get(s.pk, {}).get("stale", 0) for s in sources)
    limits_text = ", ".join(
        f"{source} {_max_age_text(limits[source.pk])}" for source in sources if limits[source.pk].consulted
    )
    summary = (
        f"{len(sources)} subscribed source{'s' if len(sources) != 1 else ''}; "
        f"{n_stale} area code{'s' if n_stale != 1 else ''} with data older than its source's maximum age"
        + (f" ({limits_text})." if limits_text else ".")
    )
    if never:
        summary += f" Never synced: {', '.join(never)}."
    return Report(
        key="registry_freshness",
        title="Registry freshness",
        summary=summary,
        headers=["source", "area codes", "numbers", "max age (days)", *labels_by_alias.values()],
        rows=[
            [
                str(source),
                counts.get(source.pk, {}).get("total", 0),
                counts.get(source.pk, {}).get("numbers") or 0,
                "" if limits[source.pk].max_age_days is None else limits[source.pk].max_age_days,
                *[counts.get(source.pk, {}).get(alias, 0) for alias in buckets],
            ]
            for source in sources
        ],
        chart=bar_chart(
            title="Area codes by age of their registry data",
            labels=labels,
            series={
                label: [counts.get(s.pk, {}).get(alias, 0) for s in sources]
                for alias, label in labels_by_alias.items()
            },
            stacked=True,
            horizontal=True,
            colors=_FRESHNESS_COLORS,
        ),
        flagged=bool(n_stale or never),
        note=(
            "Stale: "
            + ", ".join(f"{s.source} {s.area_code} (synced {day_text(s.synced_at)})" for s in stale)
            + ". Marketing calls to them are blocked (dnc_data_stale)."
            if stale
            else "16 CFR 310.4(b)(3)(iv) and state rules: each source's copy at most its maximum age in the "
            "rule set (dnc_list_max_age_days); older data blocks marketing calls."
        ),
    )


def _max_age_text(limit: RegistryLimit) -> str:
    return "no maximum age in the rules" if limit.max_age_days is None else f"{limit.max_age_days} days"


# --- purge runs --------------------------------------------------------------


def purge_runs(period: ReportPeriod) -> Report:
    runs = PurgeRun.objects.filter(started_at__gte=period.since, started_at__lt=period.until)
    per_category = list(
        runs.filter(dry_run=False)
        .values("category")
        .annotate(
            runs=Count("id"),
            deleted=Sum("deleted"),
            anonymised=Sum("anonymised"),
            failed=Count("id", filter=Q(status=PurgeRun.Status.FAILED)),
            longest_batch=Max("max_batch_ms"),
            last=Max("started_at"),
        )
        .order_by("category")
    )
    failed = sum(row["failed"] for row in per_category)
    removed = sum((row["deleted"] or 0) + (row["anonymised"] or 0) for row in per_category)
    return Report(
        key="purge_runs",
        title="Retention purges",
        summary=(
            f"{sum(row['runs'] for row in per_category)} purge run(s) removed or anonymised {removed} row(s)"
            + (f"; {failed} failed." if failed else ".")
        ),
        headers=["category", "runs", "deleted", "anonymised", "failed", "longest batch (ms)", "last run"],
        rows=[
            [
                _category_label(row["category"]),
                row["runs"],
                row["deleted"] or 0,
                row["anonymised"] or 0,
                row["failed"],
                round(row["longest_batch"] or 0, 1),
                row["last"],
            ]
            for row in per_category
        ],
        chart=bar_chart(
            title="Rows removed per category",
            labels=[_category_label(row["category"]) for row in per_category],
            series={
                "deleted": [row["deleted"] or 0 for row in per_category],
                "anonymised": [row["anonymised"] or 0 for row in per_category],
            },
            stacked=True,
            horizontal=True,
        ),
        flagged=bool(failed),
        note="Dry runs are not counted. Legal holds and legal minimums are applied by every run.",
    )


def _category_label(key: str) -> str:
    """A data category by its label (its key only when no app registers it any more)."""
    category = retention_category(key)
    return category.label if category else key


@dataclass
class HeatmapBuilder:
    """Counts per (row, hour) and the row's window, for calls-per-hour reports."""

    counts: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(self, label: str, window: str, hour: int, count: int) -> None:
        self.counts.setdefault((label, window), [0] * 24)[hour] += count

    def build(self) -> Heatmap:
        rows = []
        for (label, window), hours in sorted(self.counts.items()):
            rows.append(
                (label, window, [HeatCell(n, not _hour_inside(window, h)) for h, n in enumerate(hours)])
            )
        return Heatmap(columns=[f"{h:02d}" for h in range(24)], rows=rows)


def _hour_inside(window: str, hour: int) -> bool:
    """Whether the whole hour [hour:00, hour+1:00) lies inside "HH:MM-HH:MM"."""
    try:
        start, end = window.split("-")
        start_minutes = int(start[:2]) * 60 + int(start[3:])
        end_minutes = int(end[:2]) * 60 + int(end[3:])
    except (ValueError, IndexError):
        return False  # "closed" or unknown: no hour is inside
    return start_minutes <= hour * 60 and (hour + 1) * 60 <= end_minutes


report_register(ReportSection("opt_out_latency", "Opt-out latency", 10, opt_out_latency))
report_register(ReportSection("blocked_by_reason", "Blocked decisions", 20, blocked_by_reason))
report_register(ReportSection("registry_freshness", "Registry freshness", 50, registry_freshness))
report_register(ReportSection("purge_runs", "Retention purges", 60, purge_runs))
