"""Result records shared by the sections, and the statistics they use."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Sequence


@dataclass
class Table:
    """A titled table of already formatted cells, printed as Markdown."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TargetCheck:
    """One target read off a measured figure: ``measured <= limit`` or ``>=``."""

    name: str
    measured: float
    limit: float
    unit: str
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        if self.higher_is_better:
            return self.measured >= self.limit
        return self.measured <= self.limit

    def describe(self) -> str:
        """Return the figure, the limit and, when missed, by how much."""
        sign = ">=" if self.higher_is_better else "<="
        text = f"{format_number(self.measured)}{self.unit} (target {sign} "
        text += f"{format_number(self.limit)}{self.unit})"
        if self.met:
            return f"met: {text}"
        if self.higher_is_better:
            shortfall = 1 - self.measured / self.limit
        else:
            shortfall = self.measured / self.limit - 1
        return f"MISSED by {shortfall:.0%}: {text}"


@dataclass
class SectionResult:
    """Tables, target checks and problems of one benchmark section."""

    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    checks: list[TargetCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None
    other_load: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the ``fraction`` percentile (0..1) by the nearest-rank method."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def format_number(value: float) -> str:
    """Format with three significant figures, without exponent notation."""
    if math.isnan(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, 2 - magnitude)
    return f"{value:.{decimals}f}"


def format_ms(seconds: float) -> str:
    """Format seconds as milliseconds with three significant figures."""
    return format_number(seconds * 1000)


def format_ratio(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def format_ratio_spread(values: Sequence[float]) -> str:
    """Format the median ratio, with the lowest and highest when they differ."""
    if not values:
        return "n/a"
    text = format_ratio(median(values))
    low, high = min(values), max(values)
    if round(low, 2) != round(high, 2):
        text += f" ({low:.2f}-{high:.2f})"
    return text
