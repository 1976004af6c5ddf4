"""``metrics.jsonl``: one JSON line per epoch with every metric logged."""
from __future__ import annotations

import json
import math
from pathlib import Path

from vaesae.engine.callbacks import Callback, Metrics
from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.errors import OutputError


def json_safe(metrics: Metrics) -> dict[str, float | None]:
    """NaN and infinities are not JSON; they are written as null."""
    return {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}


class MetricsFile(Callback):
    """Appends a line per epoch; at the start of a run it keeps only the epochs the run starts after.

    A resumed run thus never repeats an epoch in the file, and a line half
    written when the process was killed is dropped.
    """

    def __init__(self, path: Path):
        self.path = path

    def on_fit_start(self, trainer) -> None:
        if self.path.exists():
            kept = [line for line, record in complete_records(self.path) if (record.get("epoch") or 0) <= trainer.state.epoch]
            atomic_write_bytes(self.path, "".join(f"{line}\n" for line in kept).encode())

    def on_epoch_end(self, trainer, epoch: int, metrics: Metrics) -> None:
        try:
            with self.path.open("a") as handle:
                handle.write(json.dumps(json_safe(metrics)) + "\n")
        except OSError as exc:
            raise OutputError(f"{self.path}: could not append the metrics of epoch {epoch} ({exc.strerror or exc})") from None


def complete_records(path: Path) -> list[tuple[str, dict]]:
    """Each line of ``path`` that holds a whole JSON object, with that object; a line cut short is skipped."""
    records = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append((line, record))
    return records


def read_metrics(path: Path) -> list[dict[str, float | None]]:
    """The epochs of ``path``, skipping a line cut short by a kill."""
    return [record for _, record in complete_records(path)]
