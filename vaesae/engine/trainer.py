"""The training loop: epochs, batches, validation; the rest lives in callbacks."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import torch

from vaesae.engine.callbacks import Callback, Metrics
from vaesae.engine.inference import LossTotals, batch_rows, evaluate, to_device
from vaesae.errors import VaesaeError
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import VaesaeModel


class NonFiniteLossError(VaesaeError):
    """The loss became NaN or infinite; training stops before the bad step is applied."""


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
            totals.add(losses, batch_rows(batch))
            self._emit("on_batch_end", epoch, index + 1, total_batches)
        elapsed = time.perf_counter() - started
        metrics = totals.means("train")
        metrics.update(
            epoch=float(epoch), lr=float(self.optimizer.param_groups[0]["lr"]), rows_per_s=totals.rows / max(elapsed, 1e-9)
        )
        return metrics

    def evaluate(self, loader, loss: VaesaeLoss, prefix: str) -> Metrics:
        return evaluate(self.model, loader, loss, self.device, prefix)
