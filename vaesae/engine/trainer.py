"""The training loop: epochs, batches, validation; the rest lives in callbacks."""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

import torch

from vaesae.engine.callbacks import Callback, Metrics
from vaesae.engine.inference import LossTotals, SumsCombiner, batch_rows, combine_totals, evaluate, to_device
from vaesae.engine.rng import restore_rng_state, rng_state
from vaesae.errors import TrainingInterrupted, VaesaeError
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import VaesaeModel

log = logging.getLogger("vaesae")

KEPT = "the checkpoints written so far are kept. Lower train.optimizer_config.learning_rate or check the data"


class NonFiniteLossError(VaesaeError):
    """The loss became NaN or infinite; training stops before the bad step is applied."""


@dataclass
class TrainState:
    """Where training stands; saved in checkpoints so a run can resume.

    ``epoch`` is the last completed epoch. A run interrupted inside an epoch
    also records ``batch`` (batches of epoch ``epoch + 1`` already applied) and
    ``partial`` (that epoch's running loss sums and seconds), so a resumed run
    continues at the next batch and reports the same epoch means.
    """

    epoch: int = 0
    batch: int = 0
    partial: dict[str, Any] | None = None
    should_stop: bool = False
    stop_reason: str = ""
    last_metrics: Metrics = field(default_factory=dict)


class Trainer:
    """Trains ``model``; under data-parallel training the loaders serve this rank's parts of the batches
    and ``combine_sums`` adds the ranks' loss sums and row counts at the end of every training epoch and
    validation (see ``vaesae.engine.inference.evaluate``), so every rank reports the whole epoch's metrics."""

    def __init__(
        self,
        model: VaesaeModel,
        optimizer: torch.optim.Optimizer,
        loss: VaesaeLoss,
        device: torch.device,
        callbacks: Iterable[Callback] = (),
        val_loss: VaesaeLoss | None = None,
        combine_sums: SumsCombiner | None = None,
    ):
        self.model, self.optimizer, self.loss, self.device = model, optimizer, loss, device
        self.val_loss = val_loss or loss
        self.combine_sums = combine_sums
        self.callbacks = list(callbacks)
        self.state = TrainState()
        self.interrupt: tuple[str, int] | None = None

    def request_interrupt(self, reason: str, exit_code: int) -> None:
        """Stop before the next batch. It only sets a flag, so a signal handler may call it."""
        self.interrupt = (reason, exit_code)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly from here: weights, optimizer, position, callbacks, RNGs."""
        return {
            "model_state": self.model.state_dict(),
            "optimizer_state": self.optimizer.state_dict(),
            "epoch": self.state.epoch,
            "metrics": dict(self.state.last_metrics),
            "trainer": asdict(self.state),
            "callbacks": {type(c).__name__: c.state_dict() for c in self.callbacks},
            "rng": rng_state(),
        }

    def load_state_dict(self, payload: dict[str, Any]) -> None:
        """Restore a ``state_dict``; call it after building every part and before ``fit``.

        The optimizer's moments come from the checkpoint, its settings (learning
        rate, ...) stay the ones it was built with, so a deliberately changed
        setting takes effect.
        """
        self.model.load_state_dict(payload["model_state"])
        settings = [{k: v for k, v in group.items() if k != "params"} for group in self.optimizer.param_groups]
        self.optimizer.load_state_dict(payload["optimizer_state"])
        for group, setting in zip(self.optimizer.param_groups, settings):
            group.update(setting)
        stored = payload["callbacks"]
        for callback in self.callbacks:
            if type(callback).__name__ in stored:
                callback.load_state_dict(stored[type(callback).__name__])
        self.state = TrainState(**payload["trainer"])
        restore_rng_state(payload["rng"])

    def _emit(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _emit_exception(self, error: BaseException) -> None:
        """Every callback sees the exception, even when an earlier one fails while handling it."""
        for callback in self.callbacks:
            try:
                callback.on_exception(self, error)
            except Exception as problem:
                log.error("%s could not handle %s: %s", type(callback).__name__, type(error).__name__, problem)

    def fit(self, train_loader, epochs: int, val_loader=None, val_frequency: int = 1) -> TrainState:
        """Train from ``state.epoch + 1`` to ``epochs`` (a restored state resumes where it stopped)."""
        self._emit("on_fit_start")
        try:
            for epoch in range(self.state.epoch + 1, epochs + 1):
                if self.state.should_stop:
                    break
                metrics = self.train_epoch(train_loader, epoch)
                if val_loader is not None and epoch % val_frequency == 0:
                    val_metrics = self.evaluate(val_loader, self.val_loss, "val")
                    if not math.isfinite(val_metrics["val_loss"]):
                        raise NonFiniteLossError(f"validation loss became {val_metrics['val_loss']} at epoch {epoch}; {KEPT}")
                    metrics.update(val_metrics)
                    self._emit("on_validation_end", epoch, val_metrics)
                self.state.epoch, self.state.last_metrics = epoch, metrics
                self._emit("on_epoch_end", epoch, metrics)
        except BaseException as error:
            self._emit_exception(error)
            raise
        self._emit("on_fit_end")
        return self.state

    def _take_partial(self) -> tuple[LossTotals, float, int]:
        """Totals, seconds and next batch of an interrupted epoch being resumed, or a fresh start."""
        partial, start = self.state.partial, self.state.batch
        self.state.partial, self.state.batch = None, 0
        if partial is None:
            return LossTotals(), 0.0, 0
        return LossTotals.from_state(partial["totals"], self.device), partial["seconds"], start

    def _stop_for_interrupt(self, epoch: int, index: int, total: int, totals: LossTotals, seconds: float) -> None:
        reason, exit_code = self.interrupt
        self.state.batch = index
        self.state.partial = {"totals": totals.state_dict(), "seconds": seconds}
        raise TrainingInterrupted(f"{reason} during epoch {epoch}, after batch {index} of {total}", exit_code)

    def _epoch_totals(self, totals: LossTotals, earlier: LossTotals) -> LossTotals:
        """The epoch's totals so far: with one process ``totals`` itself (it continued ``earlier``); with
        several ranks, the sums of every rank's ``totals`` plus ``earlier``, the whole job's part of the
        epoch before a resume, which every rank restored and which is therefore counted once."""
        if self.combine_sums is None:
            return totals
        combine_totals(totals, None, self.combine_sums)
        return totals.plus(earlier)

    def train_epoch(self, loader, epoch: int) -> Metrics:
        self.model.train()
        self.loss.set_epoch(epoch)
        self._emit("on_epoch_start", epoch)
        earlier, seconds, start = self._take_partial()
        totals = earlier if self.combine_sums is None else LossTotals()
        started = time.perf_counter()
        total_batches = len(loader)
        for index, batch in enumerate(loader.epoch(epoch, first_batch=start), start):
            if self.interrupt is not None:
                whole = self._epoch_totals(totals, earlier)
                self._stop_for_interrupt(epoch, index, total_batches, whole, seconds + time.perf_counter() - started)
            batch = to_device(batch, self.device)
            losses = self.loss(batch, self.model(batch))
            if not torch.isfinite(losses["loss"].detach()):
                raise NonFiniteLossError(
                    f"training loss became {losses['loss'].item()} at epoch {epoch}, batch {index + 1}; {KEPT}"
                )
            self.optimizer.zero_grad(set_to_none=True)
            losses["loss"].backward()
            self.optimizer.step()
            self.model.after_optimizer_step()
            totals.add(losses, batch_rows(batch))
            self._emit("on_batch_end", epoch, index + 1, total_batches)
        seconds += time.perf_counter() - started
        whole = self._epoch_totals(totals, earlier)
        metrics = whole.means("train")
        metrics.update(epoch=float(epoch), lr=float(self.optimizer.param_groups[0]["lr"]), rows_per_s=whole.rows / max(seconds, 1e-9))
        return metrics

    def evaluate(self, loader, loss: VaesaeLoss, prefix: str) -> Metrics:
        return evaluate(self.model, loader, loss, self.device, prefix, self.combine_sums)
