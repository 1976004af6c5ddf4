"""Comparing metric values by direction; NaN never counts as an improvement."""
from __future__ import annotations

import math
from typing import Any


def is_improvement(value: float | None, best: float | None, direction: str) -> bool:
    if value is None or not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best if direction == "min" else value > best


def best_row(metrics: list[dict[str, Any]], metric: str, mode: str) -> dict[str, Any] | None:
    """The epoch the checkpoint callback kept as best: the first strict improvement that was never beaten."""
    best: dict[str, Any] | None = None
    for row in metrics:
        if is_improvement(row.get(metric), best[metric] if best else None, mode):
            best = row
    return best
