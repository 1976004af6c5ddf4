"""Progress: a bar per epoch on a terminal, one log line per epoch otherwise."""
from __future__ import annotations

import logging
import sys

from tqdm import tqdm

from vaesae.engine.callbacks import Callback, Metrics

log = logging.getLogger("vaesae")

SHOWN = ("train_loss", "val_loss")


def summary(metrics: Metrics) -> str:
    shown = [f"{name}={metrics[name]:.4f}" for name in SHOWN if name in metrics]
    return " ".join(shown + [f"rows/s={metrics.get('rows_per_s', 0):,.0f}"])


class Progress(Callback):
    def __init__(self, epochs: int, interactive: bool | None = None):
        self.epochs = epochs
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.bar: tqdm | None = None

    def on_epoch_start(self, trainer, epoch: int) -> None:
        if self.interactive:
            self.bar = tqdm(total=None, desc=f"epoch {epoch}/{self.epochs}", leave=False, unit="batch")

    def on_batch_end(self, trainer, epoch: int, batch_index: int, total_batches: int) -> None:
        if self.bar is not None:
            self.bar.total = total_batches
            self.bar.update(1)

    def on_epoch_end(self, trainer, epoch: int, metrics: Metrics) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        log.info("epoch %d/%d %s", epoch, self.epochs, summary(metrics))

    def on_fit_end(self, trainer) -> None:
        if trainer.state.stop_reason:
            log.info(trainer.state.stop_reason)
