"""A line chart's geometry, for the template to draw as inline SVG.

The page is static HTML in S3 with a CSP that allows no script, so each chart is SVG drawn
from numbers computed here. Only geometry is computed: every label reaches the page
through the template, which escapes it (a run id or a period is text like any other).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 560
HEIGHT = 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 12, 28
#: Colours a reader tells apart, also in greyscale print (first series darkest).
_COLOURS = ("#1f4e79", "#c0504d", "#4f8a3c", "#8064a2", "#d08a00")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    value: float


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    unit: str
    series: list[Series]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def _nice_top(largest: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at or above the largest value."""
    if largest <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(largest))
    return next(magnitude * step for step in (1, 2, 5, 10) if magnitude * step >= largest)


def _tick_label(value: float) -> str:
    return f"{value:g}"


def line_chart(
    key: str,
    title: str,
    unit: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    top: float | None = None,
) -> Chart:
    """One point per label and series (``None``: no point); labels oldest first."""
    values = [v for points in series.values() for v in points if v is not None]
    y_top = top if top is not None else _nice_top(max(values, default=0.0))
    plot_width = WIDTH - _LEFT - _RIGHT
    plot_height = HEIGHT - _TOP - _BOTTOM
    step = plot_width / max(len(labels) - 1, 1)

    def x_of(index: int) -> float:
        return _LEFT + (index * step if len(labels) > 1 else plot_width / 2)

    def y_of(value: float) -> float:
        return _TOP + plot_height * (1 - min(value, y_top) / y_top)

    drawn = [
        Series(
            name=name,
            colour=_COLOURS[number % len(_COLOURS)],
            points=[
                Point(x_of(index), y_of(value), labels[index], value)
                for index, value in enumerate(points)
                if value is not None
            ],
        )
        for number, (name, points) in enumerate(series.items())
    ]
    y_ticks = [(y_of(y_top * share), _tick_label(y_top * share)) for share in (0, 0.5, 1)]
    every = max(1, len(labels) // 6)
    x_labels = [(x_of(i), labels[i]) for i in range(0, len(labels), every)]
    return Chart(key, title, unit, drawn, y_ticks, x_labels)
