"""Geometry of the inline SVG charts (pure). The Jinja macros in templates/charts.html draw it.

Coordinates are plain numbers rounded to one decimal, so the SVG is byte-identical on every build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Sequence

from funnel_site.figures import Bucket, Figures, OutcomeMonth
from funnel_site.model import Config, Stage

WIDTH = 640


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_max(value: Decimal | float) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^k that is at least ``value`` (1 for nothing)."""
    value = Decimal(str(value))
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (value.adjusted())
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


@dataclass(frozen=True)
class FunnelRow:
    stage: Stage
    bucket: Bucket
    y: str
    text_y: str
    value_x: str
    value_width: str
    weighted_x: str
    weighted_width: str


@dataclass(frozen=True)
class Funnel:
    width: int
    height: int
    bar_height: int
    rows: tuple[FunnelRow, ...]


def funnel(stages: Sequence[tuple[Stage, Bucket]]) -> Funnel:
    """One centred bar per stage: width by open value, the darker core by weighted value."""
    row_height, bar_height, left, right = 52, 34, 190, WIDTH
    largest = max((bucket.value for _, bucket in stages), default=Decimal(0)) or Decimal(1)
    centre, span = (left + right) / 2, right - left
    rows = []
    for index, (stage, bucket) in enumerate(stages):
        top = index * row_height + (row_height - bar_height) / 2
        value_width = max(float(bucket.value / largest) * span, 2.0)
        weighted_width = float(bucket.weighted / largest) * span
        rows.append(FunnelRow(
            stage, bucket, _n(top), _n(index * row_height + row_height / 2),
            _n(centre - value_width / 2), _n(value_width), _n(centre - weighted_width / 2), _n(weighted_width),
        ))
    return Funnel(WIDTH, max(len(rows), 1) * row_height, bar_height, tuple(rows))


@dataclass(frozen=True)
class Tick:
    value: Decimal
    y: str


@dataclass(frozen=True)
class MonthBar:
    month: str  # "2026-11"
    show_year: bool  # under the first bar and every January
    won: Decimal
    weighted: Decimal
    target: Decimal | None
    x: str
    label_x: str
    bar_width: str
    won_y: str
    won_height: str
    weighted_y: str
    weighted_height: str
    target_y: str | None
    target_x1: str
    target_x2: str


@dataclass(frozen=True)
class MonthChart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    ticks: tuple[Tick, ...]
    bars: tuple[MonthBar, ...]


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def _month_range(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def scale(largest: Decimal, steps: int = 4) -> tuple[Decimal, int]:
    """A round step and the number of steps that reach ``largest``: 0, 50.000, 100.000, …"""
    step = nice_max(largest / steps) if largest > 0 else Decimal(1)
    count = max(int((largest / step).to_integral_value(ROUND_CEILING)), 1)
    return step, count


def _ticks(step: Decimal, count: int, top: int, bottom: int) -> tuple[Tick, ...]:
    return tuple(Tick(step * i, _n(bottom - (bottom - top) * i / count)) for i in range(count + 1))


def forecast_months(figures: Figures, config: Config, before: int = 2) -> MonthChart:
    """Won (by close date) plus weighted open (by expected close) per month, monthly targets as marks.

    The months run from ``before`` months ahead of today's month to the last month with a forecast
    or a monthly target, so the meeting sees the recent past next to what is coming.
    """
    this_month = _month(figures.today)
    year, month = figures.today.year, figures.today.month - before
    while month < 1:
        year, month = year - 1, month + 12
    forecast = {b.key: b for b in figures.forecast_by_month}
    won = {m.month: m.won_value for m in figures.closed_by_month}
    targets = {t.period: t.amount for t in config.targets if "-Q" not in t.period}
    first = min([f"{year:04d}-{month:02d}", *(k for k in forecast if k < this_month)])
    last = max([this_month, *forecast, *(k for k in targets if k >= first)])
    months = _month_range(first, last)
    return month_chart([(m, won.get(m, Decimal(0)), forecast[m].weighted if m in forecast else Decimal(0), targets.get(m)) for m in months])


def month_chart(rows: Sequence[tuple[str, Decimal, Decimal, Decimal | None]]) -> MonthChart:
    height, top, bottom, left = 270, 12, 222, 84
    step, steps = scale(max([w + f for _, w, f, _ in rows] + [t for *_, t in rows if t is not None] + [Decimal(0)]))
    maximum = step * steps
    slot = (WIDTH - left) / max(len(rows), 1)
    bar = min(slot * 0.62, 44.0)

    def y(value: Decimal) -> float:
        return bottom - float(value / maximum) * (bottom - top)

    bars = []
    for index, (month, won, weighted, target) in enumerate(rows):
        x = left + index * slot + (slot - bar) / 2
        won_top, total_top = y(won), y(won + weighted)
        bars.append(MonthBar(
            month, index == 0 or month.endswith("-01"), won, weighted, target, _n(x), _n(x + bar / 2), _n(bar),
            _n(won_top), _n(bottom - won_top), _n(total_top), _n(won_top - total_top),
            _n(y(target)) if target is not None else None, _n(x - slot * 0.12), _n(x + bar + slot * 0.12),
        ))
    return MonthChart(WIDTH, height, left, bottom, _ticks(step, steps, top, bottom), tuple(bars))


@dataclass(frozen=True)
class Series:
    key: str  # won, lost, cancelled
    points: str  # "x,y x,y …" for <polyline>
    dots: tuple[tuple[str, str, int], ...]  # x, y, count


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_bottom: int
    ticks: tuple[Tick, ...]
    months: tuple[tuple[str, str, bool], ...]  # month, x, show the year under it
    series: tuple[Series, ...]
    rows: tuple[OutcomeMonth, ...]


def outcomes(figures: Figures, months: int = 12) -> LineChart:
    """Won, lost and cancelled leads per month over the last ``months`` months (counts)."""
    last = _month(figures.today)
    year, month = figures.today.year, figures.today.month - months + 1
    while month < 1:
        year, month = year - 1, month + 12
    keys = _month_range(f"{year:04d}-{month:02d}", last)
    found = {m.month: m for m in figures.closed_by_month}
    zero = Decimal(0)
    rows = tuple(found.get(k) or OutcomeMonth(k, 0, zero, 0, zero, 0, zero) for k in keys)
    height, top, bottom, left, right = 236, 12, 186, 40, WIDTH - 24
    maximum = max([max(r.won, r.lost, r.cancelled) for r in rows] + [1])
    maximum = int(nice_max(maximum)) if maximum > 4 else 4
    step = (right - left) / max(len(rows) - 1, 1)
    xs = [left + i * step for i in range(len(rows))]

    def y(count: int) -> float:
        return bottom - count / maximum * (bottom - top)

    series = []
    for key in ("won", "lost", "cancelled"):
        counts = [getattr(r, key) for r in rows]
        dots = tuple((_n(x), _n(y(c)), c) for x, c in zip(xs, counts))
        series.append(Series(key, " ".join(f"{x},{yy}" for x, yy, _ in dots), dots))
    ticks = tuple(Tick(Decimal(maximum * i // 4), _n(y(maximum * i // 4))) for i in range(5) if maximum * i % 4 == 0)
    return LineChart(WIDTH, height, left, right, bottom, ticks, tuple((k, _n(x), i == 0 or k.endswith("-01")) for i, (k, x) in enumerate(zip(keys, xs))), tuple(series), rows)


@dataclass(frozen=True)
class HBar:
    label: str
    value: Decimal
    width: str
    y: str
    text_y: str
    text_x: str


@dataclass(frozen=True)
class HBarChart:
    width: int
    height: int
    left: int
    bar_height: int
    bars: tuple[HBar, ...]


def hbars(rows: Sequence[tuple[str, Decimal | int]], left: int = 200) -> HBarChart:
    """Horizontal bars, one per row, scaled to the largest value."""
    row_height, bar_height = 30, 18
    largest = max((Decimal(v) for _, v in rows), default=Decimal(0)) or Decimal(1)
    span = WIDTH - left - 70  # room for the number after the bar
    bars = []
    for index, (label, value) in enumerate(rows):
        width = max(float(Decimal(value) / largest) * span, 1.0)
        top = index * row_height
        bars.append(HBar(label, Decimal(value), _n(width), _n(top + (row_height - bar_height) / 2),
                         _n(top + row_height / 2), _n(left + width + 8)))
    return HBarChart(WIDTH, max(len(bars), 1) * row_height, left, bar_height, tuple(bars))


@dataclass(frozen=True)
class Progress:
    width: int
    won: str
    forecast: str
    target_x: str


def progress(won: Decimal, forecast: Decimal, target: Decimal, width: int = 120) -> Progress:
    """A small bar: won, then forecast, against a target mark (scaled to fit whichever is larger)."""
    scale = max(target, forecast, Decimal(1))

    def x(value: Decimal) -> str:
        return _n(float(value / scale) * width)

    return Progress(width, x(won), x(forecast), x(target))
