"""The Lightning side of the training comparison: the same model, loss, optimizer and batches.

Lightning gets the same fast data path as the other sides (batches sliced from
in-memory tensors with one index operation each), not a per-row ``Dataset``, so
the comparison measures the training framework rather than a slow loader. It
validates every epoch, keeps the best checkpoint, early-stops on ``val_loss``
and logs epoch metrics to CSV: the same duties as vaesae's callbacks.
"""
from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import torch

from benchmarks.parts import PATIENCE, Loaders, fresh_model


class SlicedBatches:
    """Batches of in-memory tensors, reshuffled on every pass, as an iterable with a length."""

    def __init__(self, tensors: dict[str, torch.Tensor], batch_size: int, shuffle: bool):
        self.tensors, self.batch_size, self.shuffle = tensors, batch_size, shuffle
        self.rows = len(next(iter(tensors.values())))
        self.generator = torch.Generator().manual_seed(0)

    def __len__(self) -> int:
        return -(-self.rows // self.batch_size)

    def __iter__(self):
        order = torch.randperm(self.rows, generator=self.generator) if self.shuffle else torch.arange(self.rows)
        for index in order.split(self.batch_size):
            yield {name: tensor[index] for name, tensor in self.tensors.items()}


def lightning_available() -> str | None:
    """None when Lightning imports, else why not."""
    try:
        import lightning.pytorch  # noqa: F401
    except ImportError as error:
        return f"Lightning is not installed ({error}); install the `bench` extra"
    return None


def _module(parts: Loaders):
    import lightning.pytorch as pl

    model, loss, optimizer = fresh_model(parts.encoding)

    class LitVAE(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = model

        def _step(self, batch, prefix: str):
            value = loss(batch, self.model(batch))["loss"]
            self.log(f"{prefix}_loss", value, on_step=False, on_epoch=True, batch_size=len(batch["numerical"]))
            return value

        def training_step(self, batch, batch_index):
            return self._step(batch, "train")

        def validation_step(self, batch, batch_index):
            self._step(batch, "val")

        def configure_optimizers(self):
            return optimizer

    return LitVAE()


def lightning_fit(parts: Loaders, epochs: int, folder: Path) -> float:
    """Seconds of ``Trainer.fit``, with checkpointing, early stopping and a CSV logger."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")
    trainer = pl.Trainer(
        max_epochs=epochs, accelerator="cpu", devices=1, logger=CSVLogger(folder),
        callbacks=[ModelCheckpoint(dirpath=folder / "checkpoints", monitor="val_loss", mode="min", save_top_k=1),
                   EarlyStopping("val_loss", mode="min", patience=PATIENCE)],
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=folder,
    )
    module = _module(parts)
    train = SlicedBatches(parts.train.tensors, parts.train.batch_size, shuffle=True)
    val = SlicedBatches(parts.val.tensors, parts.val.batch_size, shuffle=False)
    started = time.perf_counter()
    trainer.fit(module, train, val)
    return time.perf_counter() - started
