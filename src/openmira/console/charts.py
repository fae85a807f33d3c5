"""Chart geometry for the overview pages: figures in, SVG coordinates out; the templates only draw.

Charts are inline SVG drawn by the server (``_charts.html``): no script, no CDN, nothing fetched. Each SVG
has a ``viewBox`` and scales to its container's width; every drawn number is also in the page's text or a
table. Bars carry ``data-series``, ``data-label`` and ``data-value``, so a test can read what was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from openmira.findings.overview import DayActivity

BAR_WIDTH = 400  # viewBox width of a bar chart
BAR_LABEL_WIDTH = 130  # the labels' column
BAR_AREA = 210  # the longest bar; the rest is for its number
BAR_THICKNESS = 16
BAR_GAP = 4
ROW_PADDING = 10
LABEL_CHARS = 18


@dataclass(frozen=True)
class Bar:
    series: str
    value: int
    length: float
    y: float
    css: str
    track: float | None = None  # a full-scale background, e.g. the seats available
    text: str = ""
    name: str = ""  # what the number counts, in words ("open", "open P1")

    @property
    def text_x(self) -> float:
        return BAR_LABEL_WIDTH + max(self.length, self.track or 0) + 6


@dataclass(frozen=True)
class BarRow:
    label: str
    full_label: str
    href: str | None
    y: float
    height: float
    label_y: float
    bars: list[Bar]


@dataclass(frozen=True)
class BarChart:
    key: str
    title: str
    desc: str
    rows: list[BarRow]
    height: float
    series: list[tuple[str, str]]  # (name, css) for the legend, when there is more than one
    width: int = BAR_WIDTH
    label_width: int = BAR_LABEL_WIDTH


@dataclass(frozen=True)
class BarSpec:
    """One bar before layout: its series, value, words for what it counts and class; optionally a track value
    and a text other than the value."""

    series: str
    value: int
    name: str
    css: str
    track: int | None = None
    text: str = ""


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def bar_chart(
    key: str, title: str, desc: str, rows: Sequence[tuple[str, str | None, Sequence[BarSpec]]],
    series: Sequence[tuple[str, str]] = (),
) -> BarChart:
    """Horizontal bars, one group of ``BarSpec`` per row ``(label, link, bars)``, on one scale."""
    scale_max = max((max(b.value, b.track or 0) for _, _, specs in rows for b in specs), default=0) or 1
    laid: list[BarRow] = []
    y = float(ROW_PADDING)
    for label, href, specs in rows:
        top = y
        bars = []
        for spec in specs:
            track = None if spec.track is None else BAR_AREA * spec.track / scale_max
            bars.append(Bar(spec.series, spec.value, BAR_AREA * spec.value / scale_max, y, spec.css, track,
                            spec.text or str(spec.value), spec.name))
            y += BAR_THICKNESS + BAR_GAP
        label_y = (top + y - BAR_GAP) / 2 + 4
        laid.append(BarRow(_short(label), label, href, top, y - BAR_GAP - top, label_y, bars))
        y += ROW_PADDING
    return BarChart(key, title, desc, laid, y, list(series) if len(series) > 1 else [])


ACT_WIDTH = 480
ACT_HEIGHT = 200
ACT_LEFT = 30  # the y axis' numbers
ACT_RIGHT = 6
ACT_TOP = 10
ACT_BOTTOM = 24  # the x axis' dates
TICK_EVERY = 7


@dataclass(frozen=True)
class Column:
    series: str
    value: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class DaySlot:
    activity: DayActivity
    columns: list[Column]
    label: str  # the date under the axis, on today and every TICK_EVERY-th day before it


@dataclass(frozen=True)
class Gridline:
    value: int
    y: float


@dataclass(frozen=True)
class ActivityChart:
    key: str
    title: str
    desc: str
    slots: list[DaySlot]
    gridlines: list[Gridline]
    column_width: float
    slot_width: float
    width: int = ACT_WIDTH
    height: int = ACT_HEIGHT
    left: int = ACT_LEFT
    baseline: float = ACT_HEIGHT - ACT_BOTTOM

    @property
    def total_opened(self) -> int:
        return sum(s.activity.opened for s in self.slots)

    @property
    def total_resolved(self) -> int:
        return sum(s.activity.resolved for s in self.slots)


def _nice_max(value: int) -> int:
    """The axis' top: the smallest of 1, 2, 5 x 10^n (or an even number below 10) at or above ``value``."""
    if value <= 4:
        return 4
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value and (m * step) % 2 == 0:
                return m * step
        step *= 10


def activity_chart(key: str, title: str, days: Sequence[DayActivity]) -> ActivityChart:
    """Opened and resolved findings per day, side by side, oldest day on the left."""
    top = _nice_max(max((max(d.opened, d.resolved) for d in days), default=0))
    plot_height = ACT_HEIGHT - ACT_TOP - ACT_BOTTOM
    baseline = ACT_HEIGHT - ACT_BOTTOM
    slot = (ACT_WIDTH - ACT_LEFT - ACT_RIGHT) / max(1, len(days))
    column = slot * 0.38
    slots = []
    for i, day in enumerate(days):
        x0 = ACT_LEFT + i * slot + (slot - 2 * column) / 2
        columns = []
        for j, (series, value) in enumerate((("opened", day.opened), ("resolved", day.resolved))):
            height = plot_height * value / top
            columns.append(Column(series, value, x0 + j * column, baseline - height, height))
        labelled = (len(days) - 1 - i) % TICK_EVERY == 0  # counted back from today, which is always labelled
        slots.append(DaySlot(day, columns, day.day.strftime("%b %-d") if labelled else ""))
    gridlines = [Gridline(v, baseline - plot_height * v / top) for v in (0, top // 2, top)]
    opened = sum(d.opened for d in days)
    resolved = sum(d.resolved for d in days)
    first, last = (days[0].day, days[-1].day) if days else (None, None)
    desc = f"{opened} findings opened and {resolved} resolved from {first} to {last} (UTC days)."
    return ActivityChart(key, title, desc, slots, gridlines, column, slot)


def duration_text(value: timedelta | None) -> str:
    """A duration in its two largest units ("3 days 4 hours", "25 minutes"); "—" when there is none."""
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        n, seconds = divmod(seconds, size)
        if n or parts:
            parts.append(f"{n} {unit}{'' if n == 1 else 's'}")
    parts = [p for p in parts[:2] if not p.startswith("0 ")]
    return " ".join(parts) or "under a minute"
