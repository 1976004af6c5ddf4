"""``metrics.jsonl``: one JSON line per epoch with every metric logged."""
from __future__ import annotations

import json
import math
from pathlib import Path

from vaesae.engine.callbacks import Callback, Metrics


def json_safe(metrics: Metrics) -> dict[str, float | None]:
    """NaN and infinities are not JSON; they are written as null."""
    return {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}


class MetricsFile(Callback):
    def __init__(self, path: Path):
        self.path = path

    def on_epoch_end(self, trainer, epoch: int, metrics: Metrics) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps(json_safe(metrics)) + "\n")


def read_metrics(path: Path) -> list[dict[str, float | None]]:
    with path.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]
