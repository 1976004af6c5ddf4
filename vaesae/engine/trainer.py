"""The training loop: epochs, batches, validation; the rest lives in callbacks."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import torch

from vaesae.engine.callbacks import Callback, Metrics
from vaesae.errors import VaesaeError
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import Batch, VaesaeModel


class NonFiniteLossError(VaesaeError):
    """The loss became NaN or infinite; training stops before the bad step is applied."""


def to_device(batch: Batch, device: torch.device) -> Batch:
    return {name: tensor.to(device, non_blocking=True) for name, tensor in batch.items()}


class LossTotals:
    """Row-weighted sums of loss components, kept on the device to avoid a sync per batch."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.rows = 0

    def add(self, losses: dict[str, torch.Tensor], rows: int) -> None:
        for name, value in losses.items():
            weighted = value.detach() * rows
            self.sums[name] = self.sums[name] + weighted if name in self.sums else weighted
        self.rows += rows

    def means(self, prefix: str) -> Metrics:
        return {f"{prefix}_{name}": float(total) / max(self.rows, 1) for name, total in self.sums.items()}


@dataclass
class TrainState:
    """Where training stands; saved in checkpoints so a run can resume."""

    epoch: int = 0
    should_stop: bool = False
    stop_reason: str = ""
    last_metrics: Metrics = field(default_factory=dict)


class Trainer:
    def __init__(
        self,
        model: VaesaeModel,
        optimizer: torch.optim.Optimizer,
        loss: VaesaeLoss,
        device: torch.device,
        callbacks: Iterable[Callback] = (),
        val_loss: VaesaeLoss | None = None,
    ):
        self.model, self.optimizer, self.loss, self.device = model, optimizer, loss, device
        self.val_loss = val_loss or loss
        self.callbacks = list(callbacks)
        self.state = TrainState()

    def _emit(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def fit(self, train_loader, epochs: int, val_loader=None, val_frequency: int = 1) -> TrainState:
        """Train from ``state.epoch + 1`` to ``epochs`` (a restored state resumes)."""
        self._emit("on_fit_start")
        try:
            for epoch in range(self.state.epoch + 1, epochs + 1):
                metrics = self.train_epoch(train_loader, epoch)
                if val_loader is not None and epoch % val_frequency == 0:
                    val_metrics = self.evaluate(val_loader, self.val_loss, "val")
                    metrics.update(val_metrics)
                    self._emit("on_validation_end", epoch, val_metrics)
                self.state.epoch, self.state.last_metrics = epoch, metrics
                self._emit("on_epoch_end", epoch, metrics)
                if self.state.should_stop:
                    break
        except BaseException as error:
            self._emit("on_exception", error)
            raise
        self._emit("on_fit_end")
        return self.state

    def train_epoch(self, loader, epoch: int) -> Metrics:
        self.model.train()
        self.loss.set_epoch(epoch)
        self._emit("on_epoch_start", epoch)
        totals, started = LossTotals(), time.perf_counter()
        total_batches = len(loader)
        for index, batch in enumerate(loader.epoch(epoch)):
            batch = to_device(batch, self.device)
            losses = self.loss(batch, self.model(batch))
            if not torch.isfinite(losses["loss"]):
                raise NonFiniteLossError(
                    f"training loss became {float(losses['loss'])} at epoch {epoch}, batch {index + 1}; "
                    "the last good checkpoint is kept. Lower train.optimizer_config.learning_rate or check the data"
                )
            self.optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            self.optimizer.step()
            self.model.after_optimizer_step()
            totals.add(losses, next(iter(batch.values())).shape[0])
            self._emit("on_batch_end", epoch, index + 1, total_batches)
        elapsed = time.perf_counter() - started
        metrics = totals.means("train")
        metrics.update(
            epoch=float(epoch), lr=float(self.optimizer.param_groups[0]["lr"]), rows_per_s=totals.rows / max(elapsed, 1e-9)
        )
        return metrics

    @torch.no_grad()
    def evaluate(self, loader, loss: VaesaeLoss, prefix: str) -> Metrics:
        """Mean loss components and the model's quality metrics over a whole split."""
        self.model.eval()
        totals, quality = LossTotals(), self.model.metric_accumulator()
        for batch in loader.epoch(0):
            batch = to_device(batch, self.device)
            output = self.model(batch)
            totals.add(loss(batch, output), next(iter(batch.values())).shape[0])
            if quality is not None:
                quality.update(batch, output)
        metrics = totals.means(prefix)
        if quality is not None:
            metrics.update({f"{prefix}_{name}": value for name, value in quality.compute().items()})
        return metrics
