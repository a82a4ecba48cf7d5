"""The dialer's reports for compliance officers, registered with
compliance.reports: calls per state and local hour against the windows that
applied, and each campaign's abandoned-call rate over 30 days."""

from django.db import connection
from django.db.models import Count, Q

from campaigns.abandonment import AUTOMATED_MODES, LIVE_ANSWERED, MAX_RATE_PERCENT, PERIOD, AbandonmentRate
from campaigns.models import CallAttempt, Campaign
from compliance.charts import LIMIT_COLOR, ChartLimit, bar_chart
from compliance.reports import (
    HeatmapBuilder,
    Report,
    ReportPeriod,
    ReportSection,
    period_rows,
    report_register,
)
from core.words import datetime_text

# Each call's decision says which window applied in each candidate state and
# zone, and the local time in each zone: (jurisdiction, window, local hour).
_WINDOWS_PG = """
SELECT w->>'jurisdiction', w->>'window', substr(z->>'local_time', 12, 2)::int, count(DISTINCT a.id)
FROM campaigns_callattempt a
JOIN compliance_decisionrecord d ON d.id = a.decision_id
CROSS JOIN LATERAL jsonb_array_elements(d.evidence->'windows') AS w
CROSS JOIN LATERAL jsonb_array_elements(d.evidence->'zones') AS z
WHERE a.handed_at >= %s AND a.handed_at < %s AND z->>'zone' = w->>'zone'
GROUP BY 1, 2, 3
"""
_WINDOWS_SQLITE = """
SELECT json_extract(w.value, '$.jurisdiction'), json_extract(w.value, '$.window'),
       CAST(substr(json_extract(z.value, '$.local_time'), 12, 2) AS integer), count(DISTINCT a.id)
FROM campaigns_callattempt a
JOIN compliance_decisionrecord d ON d.id = a.decision_id,
     json_each(d.evidence, '$.windows') AS w, json_each(d.evidence, '$.zones') AS z
WHERE a.handed_at >= %s AND a.handed_at < %s
  AND json_extract(z.value, '$.zone') = json_extract(w.value, '$.zone')
GROUP BY 1, 2, 3
"""
# Candidate states without a state rule of their own: the federal window applied.
_STATES_PG = """
SELECT s.state, w->>'window', substr(z->>'local_time', 12, 2)::int, count(DISTINCT a.id)
FROM campaigns_callattempt a
JOIN compliance_decisionrecord d ON d.id = a.decision_id
CROSS JOIN LATERAL jsonb_array_elements_text(d.evidence->'states') AS s(state)
CROSS JOIN LATERAL jsonb_array_elements(d.evidence->'windows') AS w
CROSS JOIN LATERAL jsonb_array_elements(d.evidence->'zones') AS z
WHERE a.handed_at >= %s AND a.handed_at < %s AND w->>'jurisdiction' = 'US' AND z->>'zone' = w->>'zone'
  AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(d.evidence->'windows') AS own
                  WHERE own->>'jurisdiction' = s.state)
GROUP BY 1, 2, 3
"""
_STATES_SQLITE = """
SELECT s.value, json_extract(w.value, '$.window'),
       CAST(substr(json_extract(z.value, '$.local_time'), 12, 2) AS integer), count(DISTINCT a.id)
FROM campaigns_callattempt a
JOIN compliance_decisionrecord d ON d.id = a.decision_id,
     json_each(d.evidence, '$.states') AS s, json_each(d.evidence, '$.windows') AS w,
     json_each(d.evidence, '$.zones') AS z
WHERE a.handed_at >= %s AND a.handed_at < %s AND json_extract(w.value, '$.jurisdiction') = 'US'
  AND json_extract(z.value, '$.zone') = json_extract(w.value, '$.zone')
  AND NOT EXISTS (SELECT 1 FROM json_each(d.evidence, '$.windows') AS own
                  WHERE json_extract(own.value, '$.jurisdiction') = s.value)
GROUP BY 1, 2, 3
"""


def calls_by_state_and_hour(period: ReportPeriod) -> Report:
    """Calls handed to agents, per candidate state and local hour at the
    callee, each row against the window that applied (a state's own window
    where it has one, e.g. Texas's Sunday 12:00-21:00, else the federal
    08:00-21:00). A count in a shaded cell is a call outside its window."""
    postgres = connection.vendor == "postgresql"
    heat = HeatmapBuilder()
    for jurisdiction, window, hour, count in period_rows(
        _WINDOWS_PG if postgres else _WINDOWS_SQLITE, period
    ):
        if jurisdiction != "campaign" and window:
            label = "federal (every call)" if jurisdiction == "US" else f"{jurisdiction} (state rule)"
            heat.add(label, window, int(hour), count)
    for state, window, hour, count in period_rows(_STATES_PG if postgres else _STATES_SQLITE, period):
        if window:
            heat.add(f"{state} (federal window)", window, int(hour), count)
    heatmap = heat.build()
    outside = sum(cell.count for _label, _window, cells in heatmap.rows for cell in cells if cell.outside)
    calls = CallAttempt.objects.filter(handed_at__gte=period.since, handed_at__lt=period.until).count()
    return Report(
        key="calls_by_state_hour",
        title="Calls per state and local hour, against the windows",
        summary=(
            f"{calls} call{'s' if calls != 1 else ''} handed to agents; "
            + (
                f"{outside} fell outside a window that applied: investigate them."
                if outside
                else "none fell outside a window that applied."
            )
        ),
        headers=["jurisdiction", "window", *heatmap.columns],
        rows=[[label, window, *[cell.count for cell in cells]] for label, window, cells in heatmap.rows],
        heatmap=heatmap,
        flagged=bool(outside),
        note="A call counts once in each of its candidate states and time zones (area code and address). "
        "Rows are per window: a state whose window differs by weekday has one row per window.",
    )


def abandonment_by_campaign(period: ReportPeriod) -> Report:
    """Every campaign with calls in the 30 days before the period's end:
    abandoned calls as a share of the calls a live person answered
    (47 CFR 64.1200(a)(7)), against the 3% limit. The limit binds
    autodialed and prerecorded campaigns: a manual campaign's rate is "n/a"
    (an agent dials, nobody waits for one), not 0%. One grouped query."""
    since = period.until - PERIOD
    rows = list(
        CallAttempt.objects.filter(handed_at__gt=since, handed_at__lte=period.until)
        .values("campaign_id", "campaign__name", "campaign__dialing_mode", "campaign__status")
        .annotate(
            abandoned=Count("id", filter=Q(outcome=CallAttempt.Outcome.ABANDONED)),
            live_answered=Count("id", filter=Q(outcome__in=LIVE_ANSWERED)),
            calls=Count("id"),
        )
        .order_by("campaign__name")
    )
    rates = [
        (row, AbandonmentRate(row["abandoned"], row["live_answered"], since, period.until)) for row in rows
    ]
    over = [
        row["campaign__name"]
        for row, rate in rates
        if rate.over_limit and row["campaign__dialing_mode"] in AUTOMATED_MODES
    ]
    modes = dict(Campaign.DialingMode.choices)
    statuses = dict(Campaign.Status.choices)

    def rate_text(row: dict, rate: AbandonmentRate) -> str:
        if row["campaign__dialing_mode"] not in AUTOMATED_MODES:
            return "n/a (manual dialing)"
        return f"{rate.percent}%" if rate.percent is not None else "no call answered"

    def bar(row: dict, rate: AbandonmentRate) -> dict | None:
        if row["campaign__dialing_mode"] not in AUTOMATED_MODES or rate.percent is None:
            return None
        return {"value": float(rate.percent), "color": LIMIT_COLOR if rate.over_limit else "#1f6feb"}

    return Report(
        key="abandonment",
        title="Abandoned calls per campaign, last 30 days",
        summary=(
            f"{len(rows)} campaign(s) called in the 30 days to {datetime_text(period.until)}; "
            + (
                f"over the {MAX_RATE_PERCENT}% limit: {', '.join(over)}."
                if over
                else f"none is over the {MAX_RATE_PERCENT}% limit."
            )
        ),
        headers=["campaign", "dialing mode", "status", "calls", "answered by a person", "abandoned", "rate"],
        rows=[
            [
                row["campaign__name"],
                modes.get(row["campaign__dialing_mode"], row["campaign__dialing_mode"]),
                statuses.get(row["campaign__status"], row["campaign__status"]),
                row["calls"],
                row["live_answered"],
                row["abandoned"],
                rate_text(row, rate),
            ]
            for row, rate in rates
        ],
        chart=bar_chart(
            title=f"Abandoned-call rate (%); the limit is {MAX_RATE_PERCENT}%",
            labels=[
                row["campaign__name"] + ("" if bar(row, rate) else f": {rate_text(row, rate)}")
                for row, rate in rates
            ],
            series={"abandoned %": [bar(row, rate) for row, rate in rates]},
            limit=ChartLimit(float(MAX_RATE_PERCENT), f"{MAX_RATE_PERCENT}% limit"),
            value_text=lambda percent: f"{percent:.2f}%",
        ),
        flagged=bool(over),
        note=f"An autodialed or prerecorded campaign over {MAX_RATE_PERCENT}% is paused automatically; the limit does not "
        "bind manual dialing. Answered by a person: connected, abandoned, callback, do not call, wrong number.",
    )


def reports_register() -> None:
    report_register(
        ReportSection("calls_by_state_hour", "Calls per state and hour", 30, calls_by_state_and_hour)
    )
    report_register(ReportSection("abandonment", "Abandonment", 40, abandonment_by_campaign))
