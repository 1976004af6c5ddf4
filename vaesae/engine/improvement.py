"""Comparing metric values by direction; NaN never counts as an improvement."""
from __future__ import annotations

import math


def is_improvement(value: float | None, best: float | None, direction: str) -> bool:
    if value is None or not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best if direction == "min" else value > best
