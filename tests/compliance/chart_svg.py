"""Reading the reports' pygal SVG as a person reads the chart: its bars (and
how long each is drawn), its axis labels, and its limit line."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Bar:
    series: int  # pygal's serie index, in the order the series were added
    index: int  # the bar's place in its series: one per x label with a value
    value: str  # as pygal printed it
    x_label: str
    length: float  # drawn length in pixels (height, or width on a horizontal chart)


def _class(element) -> list[str]:
    return (element.get("class") or "").split()


def bars(svg: str) -> list[Bar]:
    root = ET.fromstring(svg)
    plot = next(g for g in root.iter(f"{SVG}g") if _class(g) == ["plot"])
    found = []
    for serie in plot.iter(f"{SVG}g"):
        classes = _class(serie)
        if "series" not in classes:
            continue
        number = int(next(c for c in classes if c.startswith("serie-")).removeprefix("serie-"))
        for index, bar in enumerate(g for g in serie.iter(f"{SVG}g") if _class(g) == ["bar"]):
            rect = bar.find(f"{SVG}rect")
            descs = {" ".join(_class(d)): d.text or "" for d in bar.findall(f"{SVG}desc")}
            assert rect is not None
            width, height = float(rect.get("width", 0)), float(rect.get("height", 0))
            found.append(
                Bar(number, index, descs.get("value", ""), descs.get("x_label", ""), min(width, height))
            )
    return found


def drawn(svg: str) -> list[Bar]:
    """The bars a person sees (longer than a pixel)."""
    return [bar for bar in bars(svg) if bar.length >= 1]


def _value_axis(svg: str):
    """The axis with the limit line (a chart with a limit has one)."""
    root = ET.fromstring(svg)
    for axis in root.iter(f"{SVG}g"):
        if "axis" in _class(axis) and any("major" in _class(path) for path in axis.iter(f"{SVG}path")):
            return axis
    raise AssertionError("no axis with a limit line")


def axis_labels(svg: str) -> list[str]:
    """The labels of the axis with the limit line, in order."""
    return [text.text or "" for text in _value_axis(svg).iter(f"{SVG}text")]


def limit_lines(svg: str) -> list[str]:
    """The labels of the limit lines (pygal's major guides, solid red here)."""
    lines = []
    for guide in _value_axis(svg).iter(f"{SVG}g"):
        path, text = guide.find(f"{SVG}path"), guide.find(f"{SVG}text")
        if path is not None and "major" in _class(path):
            lines.append(text.text if text is not None else "")
    return lines
