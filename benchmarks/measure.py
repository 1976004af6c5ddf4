"""Timing A against B fairly, and the rows of the results table.

Both sides of a comparison run in the same process (or the same way as
subprocesses), interleaved: the order flips every repeat, so a slow phase of a
busy machine hits both sides alike. A warm-up round runs first and is not
counted. The table shows each side's median, and the ratio is the median of
the per-repeat ratios: the two sides of a repeat run back to back, so a
machine that slows down or speeds up between repeats moves both alike.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Target:
    """``ratio >= value`` (``at_least``) or ``ratio <= value``."""

    value: float
    at_least: bool = True

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.at_least else ratio <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.value:g}×"


@dataclass
class Row:
    """One line of the table: what was measured, against what, and whether the target holds."""

    what: str
    compared_with: str
    vaesae: str
    baseline: str
    ratio: float | None
    target: Target
    note: str = ""

    @property
    def status(self) -> str:
        if self.ratio is None:
            return "skipped"
        return "met" if self.target.met(self.ratio) else "**missed**"


def stopwatch(function: Callable[[], object]) -> float:
    """Seconds ``function()`` took."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def interleaved(sides: dict[str, Callable[[], float]], repeats: int, warmup: bool = True) -> dict[str, list[float]]:
    """Run each side ``repeats`` times, alternating the order; each call returns the seconds it measured."""
    names = list(sides)
    if warmup:
        for name in names:
            sides[name]()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            seconds[name].append(sides[name]())
    return seconds


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """The median over repeats of ``numerator[i] / denominator[i]``."""
    return median([top / bottom for top, bottom in zip(numerator, denominator)])


def per_second(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s"


def seconds_text(seconds: float) -> str:
    return f"{seconds:.2f} s"


def mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"
