"""Weekly bar charts as plain geometry; the template draws them as inline SVG.

One series per chart (small multiples), so no chart relies on colour to tell series apart;
each chart also carries a text description and the template adds a data table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WIDTH = 360
HEIGHT = 170
LEFT = 4
TOP = 18
BOTTOM = 22


@dataclass(frozen=True)
class Bar:
    """One week's bar: position, size and what it means."""

    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    short_label: str

    @property
    def centre(self) -> float:
        """The bar's horizontal middle, where its labels go."""
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class BarChart:
    """A titled bar chart with its accessible description."""

    title: str
    description: str
    bars: tuple[Bar, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT

    @property
    def baseline(self) -> int:
        """The y of the horizontal axis."""
        return self.height - BOTTOM


def iso_week(day: date) -> str:
    """The ISO week key, as ``weekly_statistics`` writes it (``2025-W07``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def last_weeks(now: datetime, count: int) -> list[tuple[str, datetime, datetime]]:
    """The last ``count`` ISO weeks up to ``now``: key, Monday 00:00 and the next Monday."""
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    weeks = []
    for back in range(count - 1, -1, -1):
        start = monday - timedelta(weeks=back)
        weeks.append((iso_week(start.date()), start, start + timedelta(weeks=1)))
    return weeks


def bar_chart(title: str, description: str, values: Sequence[tuple[str, int]]) -> BarChart:
    """Lay out one bar per (week, value); the tallest bar fills the plot height."""
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(values), 1)
    top = max((value for _, value in values), default=0) or 1
    bars = []
    for position, (label, value) in enumerate(values):
        height = round(plot_height * value / top, 1)
        bars.append(
            Bar(
                x=round(LEFT + position * slot + slot * 0.15, 1),
                y=round(TOP + plot_height - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
                value=value,
                label=label,
                short_label=label.rsplit("-", 1)[-1],
            )
        )
    return BarChart(title=title, description=description, bars=tuple(bars))
