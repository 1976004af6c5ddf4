"""Evaluation and batched inference, shared by training, extraction and prediction."""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

import torch

from vaesae.data.tables import PARQUET_SUFFIXES
from vaesae.engine.array_writer import ArrayFileWriter
from vaesae.engine.callbacks import Metrics
from vaesae.engine.checkpoint_io import replacing
from vaesae.engine.device_data import host_arrays
from vaesae.engine.parquet_writer import ParquetFileWriter, ToTable
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import Batch, MetricAccumulator, VaesaeModel


def to_device(batch: Batch, device: torch.device) -> Batch:
    return {name: tensor.to(device, non_blocking=True) for name, tensor in batch.items()}


def batch_rows(batch: Batch) -> int:
    return next(iter(batch.values())).shape[0]


class LossTotals:
    """Row-weighted sums of loss components, kept on the device to avoid a sync per batch.

    The components of a batch are stacked into one tensor and added in one
    operation: per-component arithmetic cost a few percent of a small model's step.
    """

    def __init__(self) -> None:
        self.names: list[str] = []
        self.sums: torch.Tensor | None = None
        self.rows = 0

    def add(self, losses: dict[str, torch.Tensor], rows: int) -> None:
        values = torch.stack([value.detach() for value in losses.values()])
        if self.sums is None:
            self.names, self.sums = list(losses), values * rows
        else:
            self.sums.add_(values, alpha=rows)
        self.rows += rows

    def plus(self, other: "LossTotals") -> "LossTotals":
        """New totals holding both these and ``other``'s sums and rows."""
        if other.sums is None:
            return self
        if self.sums is None:
            return other
        both = LossTotals()
        both.names, both.sums, both.rows = list(self.names), self.sums + other.sums, self.rows + other.rows
        return both

    def means(self, prefix: str) -> Metrics:
        totals = self.sums.tolist() if self.sums is not None else []
        return {f"{prefix}_{name}": total / max(self.rows, 1) for name, total in zip(self.names, totals)}

    def state_dict(self) -> dict[str, Any]:
        """The running sums of an unfinished epoch, so a resumed epoch reports the same means."""
        sums = self.sums.cpu() if self.sums is not None else None
        return {"names": list(self.names), "sums": sums, "rows": self.rows}

    @classmethod
    def from_state(cls, state: dict[str, Any], device: torch.device) -> "LossTotals":
        totals = cls()
        totals.names = list(state["names"])
        totals.sums = state["sums"].to(device) if state["sums"] is not None else None
        totals.rows = state["rows"]
        return totals


SumsCombiner = Callable[[list[torch.Tensor]], None]


def combine_totals(totals: LossTotals, quality: MetricAccumulator | None, combine: SumsCombiner) -> None:
    """Replace the sums and row counts of this part of a split by those of the whole split."""
    rows = torch.tensor(float(totals.rows), dtype=torch.float64)
    sums = [totals.sums] if totals.sums is not None else []
    combine([*sums, rows, *(quality.sums() if quality is not None else [])])
    totals.rows = int(rows)


@torch.inference_mode()
def evaluate(
    model: VaesaeModel, loader, loss: VaesaeLoss, device: torch.device, prefix: str, combine: SumsCombiner | None = None
) -> Metrics:
    """Mean loss components and the model's quality metrics over a whole split.

    Under data-parallel training ``loader`` serves this rank's part of every
    batch (possibly empty) and ``combine`` adds the ranks' sums in place, so
    every rank returns the metrics of the whole split. The loss of each batch is
    already the whole batch's (``vaesae.models.global_batch``).
    """
    model.eval()
    totals, quality = LossTotals(), model.metric_accumulator()
    for batch in loader.epoch(0):
        batch = to_device(batch, device)
        output = model(batch)
        totals.add(loss(batch, output), batch_rows(batch))
        if quality is not None:
            quality.update(batch, output)
    if combine is not None:
        combine_totals(totals, quality, combine)
    metrics = totals.means(prefix)
    if quality is not None:
        metrics.update({f"{prefix}_{name}": value for name, value in quality.compute().items()})
    return metrics


def is_parquet(path: Path) -> bool:
    """Whether an output path asks for a Parquet table rather than a ``.npy`` array."""
    return path.suffix.lower() in PARQUET_SUFFIXES


@torch.inference_mode()
def write_inference(
    model: VaesaeModel, loader, function: Callable[[Batch], torch.Tensor], device: torch.device, path: Path,
    to_table: ToTable | None = None,
) -> tuple[int, int]:
    """Write ``function(batch)`` for every row, in input order, to ``path``: a ``.npy`` array, or for a
    ``.parquet`` path the tables ``to_table`` makes of the rows, one row group at a time.

    Rows stream into a temporary file beside ``path`` that is renamed
    into place only when complete, so a failure (a full disk included, reported as
    an ``OutputError``) never leaves a partial file behind under the final name.
    Returns the array's shape.
    """
    if is_parquet(path) and to_table is None:
        raise ValueError(f"{path}: a Parquet output needs to_table")
    model.eval()
    with replacing(path) as temp, ExitStack() as files:
        writer = None
        for values in host_arrays((function(to_device(batch, device)) for batch in loader.epoch(0)), device):
            if writer is None:
                shape = (loader.num_rows, values.shape[1])
                writer = files.enter_context(
                    ParquetFileWriter(temp, *shape, to_table) if is_parquet(path) else ArrayFileWriter(temp, *shape))
            writer.append(values)
        writer.check_complete()
    return writer.shape
