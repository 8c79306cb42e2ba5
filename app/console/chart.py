"""The report's chart: median and p90 decision time per payer as horizontal bars in inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BAR_HEIGHT = 14
ROW_HEIGHT = 44
LABEL_WIDTH = 140
PLOT_WIDTH = 420


def duration_label(seconds: float) -> str:
    """A decision time people read at a glance: seconds under a minute, minutes under an hour, else hours."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass(frozen=True, slots=True)
class Bar:
    payer: str
    y: int
    median_hours: float
    p90_hours: float
    median_width: float
    p90_width: float
    median_label: str = ""
    p90_label: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int
    scale_hours: float
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def decision_time_chart(payers: list[dict[str, Any]]) -> Chart:
    """Bars scaled to the longest p90 (at least the 72-hour window, so short times do not look long)."""
    hours = [
        (p["payer"], (p["median_decision_seconds"] or 0) / 3600, (p["p90_decision_seconds"] or 0) / 3600)
        for p in payers
    ]
    scale = max([72.0, *(p90 for _, _, p90 in hours)])
    bars = [
        Bar(
            payer,
            10 + n * ROW_HEIGHT,
            round(median, 1),
            round(p90, 1),
            median / scale * PLOT_WIDTH,
            p90 / scale * PLOT_WIDTH,
            duration_label(median * 3600),
            duration_label(p90 * 3600),
        )
        for n, (payer, median, p90) in enumerate(hours)
    ]
    return Chart(bars=bars, height=20 + len(bars) * ROW_HEIGHT, width=LABEL_WIDTH + PLOT_WIDTH + 80, scale_hours=scale)
