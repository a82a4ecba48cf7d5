"""Charts of the compliance reports: SVG rendered on the server by pygal,
inline in the page and in its PDF (no script or style from elsewhere)."""

from collections.abc import Callable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style
from pygal.util import compute_scale

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    opacity=".85",
    opacity_hover="1",
    colors=("#1f6feb", "#d64545", "#e0a100", "#2f9e44", "#8b5cf6", "#0ea5a4", "#f76707", "#6b7280"),
    font_family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    title_font_size=13,
    value_font_size=10,
)

# A chart with a limit draws it as its only major guide: solid and red, so the
# line stands out from the dashed scale lines.
LIMIT_COLOR = "#d64545"
_LIMIT_STYLE = copy(_STYLE)
_LIMIT_STYLE.major_guide_stroke_color = LIMIT_COLOR
_LIMIT_STYLE.major_guide_stroke_dasharray = "0"
_LIMIT_STYLE.major_label_font_size = 12
# Durations against a limit: no series in the limit's red.
_DURATION_STYLE = copy(_LIMIT_STYLE)
_DURATION_STYLE.colors = ("#1f6feb", "#0ea5a4", "#8b5cf6", "#e0a100")

_WIDTH = 760
_COMMON = {
    "js": [],  # pygal's tooltips load a script from its site: none here
    "disable_xml_declaration": True,
    "height": 300,
    "width": _WIDTH,
    "legend_at_bottom": True,
    "truncate_legend": -1,
    "print_values": False,
    "show_minor_x_labels": True,
    "truncate_label": -1,
    "margin": 12,
    "margin_bottom": 40,  # room for a second row of legend
}


# One bar: a number, None for no bar, or pygal's dict (e.g. {"value": 4.2, "color": "#d64545"}).
BarValue = float | None | dict[str, float | str]


@dataclass(frozen=True)
class ChartLimit:
    """A legal limit drawn across the plot as a red line, named on its axis
    (e.g. 3 labelled "3% limit")."""

    value: float
    label: str


def _legend_columns(names: Sequence[str]) -> int:
    """As many legend columns (up to 4) as the longest name leaves room for:
    pygal clips a name wider than its column."""
    longest = max((len(name) for name in names), default=0)
    return max(1, min(4, _WIDTH // (longest * 7 + 30)))


def _render(chart) -> SafeString:
    return mark_safe(chart.render(is_unicode=True))


def _number(value: BarValue) -> float | None:
    raw = value.get("value") if isinstance(value, dict) else value
    return None if raw is None else float(raw)


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[BarValue]],
    stacked: bool = False,
    horizontal: bool = False,
    y_title: str = "",
    x_label_rotation: int = 0,
    limit: ChartLimit | None = None,
    value_text: Callable[[float], str] | None = None,
    colors: Sequence[str] = (),
) -> SafeString | None:
    """A bar chart of `series` (name -> one value per label; a value may be
    pygal's dict, e.g. {"value": 4.2, "color": "#d64545"} for a bar over a
    legal limit; None draws no bar). None when there is nothing to draw: no
    bar above zero, or, on a chart with a `limit`, no value at all (bars at
    0% under a 3% limit still say something). `value_text` writes each
    bar's value beside it; `colors`, one per series, say what a series means
    (green fresh, red stale) where the default order would not."""
    numbers = [_number(v) for values in series.values() for v in values]
    drawn = any(n is not None for n in numbers) if limit else any(numbers)
    if not labels or not drawn:
        return None
    if stacked:
        kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    else:
        kind = pygal.HorizontalBar if horizontal else pygal.Bar
    style = _LIMIT_STYLE if limit else _STYLE
    if colors:
        style = copy(style)
        style.colors = tuple(colors)
    options = {
        **_COMMON,
        "style": style,
        "title": title,
        "y_title": y_title,
        "x_label_rotation": x_label_rotation,
        "show_legend": len(series) > 1,
        "legend_at_bottom_columns": _legend_columns(list(series)),
    }
    if value_text:
        options |= {"print_values": True, "value_formatter": value_text}
    chart = kind(**options)
    if limit:
        top = max([limit.value * 1.5] + [n * 1.1 for n in numbers if n is not None])
        chart.range = (0, top)
        chart.y_labels = [
            {"label": limit.label, "value": limit.value} if tick == limit.value else tick
            for tick in sorted({*compute_scale(0, top, False, None, 4, 12), limit.value})
        ]
        chart.y_labels_major = [limit.value]
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)


# Ticks of a duration axis, in words, about a decade apart (closer ticks'
# labels would overlap on a log axis).
DURATION_TICKS = (
    (0.0001, "0.1 ms"),
    (0.001, "1 ms"),
    (0.01, "10 ms"),
    (0.1, "100 ms"),
    (1.0, "1 s"),
    (10.0, "10 s"),
    (60.0, "1 min"),
    (600.0, "10 min"),
    (3600.0, "1 h"),
    (86400.0, "1 day"),
)
# The last tick before the limit is at least this far below it (a ratio), or
# their labels would overlap.
_TICK_GAP = 20
_SHORTEST = 0.001  # a shorter duration is drawn as 1 ms (its printed value says how short)


def duration_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    limit: ChartLimit,
    value_text: Callable[[float], str],
) -> SafeString | None:
    """Horizontal bars of durations in seconds on a log axis ticked in words
    (1 ms, 1 s, 1 min, 1 h, 1 day), from 0.1 ms to `limit` (drawn as a red
    line): milliseconds and days side by side, and every bar with a value
    drawn (the bars start at the axis' left end, below the shortest bar; a
    bar under 1 ms is drawn to 1 ms and its printed value says how short).
    None (no bar) for a label without a value, None for the chart when no
    label has one."""
    if not any(v is not None for values in series.values() for v in values):
        return None
    top = max([limit.value] + [v for values in series.values() for v in values if v is not None])
    chart = pygal.HorizontalBar(
        **{
            **_COMMON,
            "style": _DURATION_STYLE,
            "margin_right": 48,  # the limit's label, centred on the axis' end
            "print_values": True,
        },
        title=title,
        logarithmic=True,
        zero=DURATION_TICKS[0][0],
        range=(DURATION_TICKS[0][0], top),
        value_formatter=value_text,
        show_legend=len(series) > 1,
        legend_at_bottom_columns=_legend_columns(list(series)),
    )
    chart.y_labels = [
        {"label": text, "value": seconds}
        for seconds, text in DURATION_TICKS
        if seconds * _TICK_GAP <= limit.value
    ] + [{"label": limit.label, "value": limit.value}]
    chart.y_labels_major = [limit.value]
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, [None if v is None else _duration_bar(v, value_text) for v in values])
    return _render(chart)


def _duration_bar(seconds: float, value_text: Callable[[float], str]) -> dict:
    return {"value": max(seconds, _SHORTEST), "formatter": lambda _drawn: value_text(seconds)}
