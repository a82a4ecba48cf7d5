"""Charts of the compliance reports: SVG rendered on the server by pygal,
inline in the page and in its PDF (no script or style from elsewhere)."""

from collections.abc import Mapping, Sequence

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

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

_COMMON = {
    "style": _STYLE,
    "js": [],  # pygal's tooltips load a script from its site: none here
    "disable_xml_declaration": True,
    "height": 300,
    "width": 760,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 4,
    "print_values": False,
    "show_minor_x_labels": True,
    "truncate_label": -1,
    "margin": 12,
    "margin_bottom": 40,  # room for a second row of legend
}


# One bar: a number, None for no bar, or pygal's dict (e.g. {"value": 4.2, "color": "#d64545"}).
BarValue = float | None | dict[str, float | str]


def _render(chart) -> SafeString:
    return mark_safe(chart.render(is_unicode=True))


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[BarValue]],
    stacked: bool = False,
    horizontal: bool = False,
    y_title: str = "",
    logarithmic: bool = False,
    x_label_rotation: int = 0,
    major_y: Sequence[float] = (),
    y_range: tuple[float, float] | None = None,
) -> SafeString | None:
    """A bar chart of `series` (name -> one value per label; a value may be
    pygal's dict, e.g. {"value": 4.2, "color": "#d64545"} for a bar over a
    legal limit); None when there is nothing to draw. `major_y` marks values
    on the axis (a legal limit); `y_range` keeps it in view."""
    if not labels or not any(_drawn(v) for values in series.values() for v in values):
        return None
    if stacked:
        kind = pygal.HorizontalStackedBar if horizontal else pygal.StackedBar
    else:
        kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        title=title,
        y_title=y_title,
        logarithmic=logarithmic,
        x_label_rotation=x_label_rotation,
        show_legend=len(series) > 1,
        **({"range": y_range} if y_range else {}),
        **_COMMON,
    )
    if major_y:
        chart.y_labels_major = list(major_y)
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)


def _drawn(value: BarValue) -> bool:
    """A bar that shows: a value other than None or 0."""
    return bool(value.get("value") if isinstance(value, dict) else value)
