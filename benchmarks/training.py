"""Training throughput: vaesae's engine against a hand-written loop and against Lightning.

The vaesae side is ``Trainer.fit`` with the callbacks ``task=train`` installs
(progress in non-interactive mode, ``metrics.jsonl``, early stopping, best-model
checkpoints) and the optimizer ``task=train`` builds (fused where torch has a
fused kernel). The hand loop does the same work a careful user would write by
hand: shuffled batches sliced from in-memory tensors, a validation loss every
epoch, and a ``torch.save`` of the best weights, with the optimizer at torch's
defaults. Process start-up and reading the CSV are outside the timed region on
every side; they have their own rows.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from vaesae.engine.checkpointing import Checkpointing, RunIdentity
from vaesae.engine.early_stopping import EarlyStopping
from vaesae.engine.metrics_file import MetricsFile
from vaesae.engine.progress import Progress
from vaesae.engine.trainer import Trainer

from benchmarks.lightning_side import lightning_available, lightning_fit
from benchmarks.measure import Row, Target, interleaved, median, paired_ratio, per_second
from benchmarks.parts import LOSS_PARAMS, MODEL_PARAMS, PATIENCE, Loaders, fresh_model, loaders
from benchmarks.plan import Context

CPU = torch.device("cpu")


def vaesae_fit(parts: Loaders, epochs: int, folder: Path) -> float:
    """Seconds of ``Trainer.fit`` with the train task's callbacks and optimizer."""
    model, loss, optimizer = fresh_model(parts.encoding, as_vaesae_builds_it=True)
    identity = RunIdentity("VAE", dict(MODEL_PARAMS), "VAELoss", parts.encoding.to_state(),
                           {"model": {"class": "VAE", "params": MODEL_PARAMS}, "loss": LOSS_PARAMS})
    checkpointing = Checkpointing(folder / "checkpoints", identity, "val_loss", "min", "best")
    callbacks = [
        Progress(epochs, interactive=False),
        MetricsFile(folder / "metrics.jsonl"),
        EarlyStopping("val_loss", "min", PATIENCE),
        checkpointing,
    ]
    trainer = Trainer(model, optimizer, loss, CPU, callbacks)
    started = time.perf_counter()
    trainer.fit(parts.train, epochs, parts.val, 1)
    return time.perf_counter() - started


def _validation_loss(model, loss, tensors: dict[str, torch.Tensor], batch_size: int) -> float:
    model.eval()
    count, total = len(next(iter(tensors.values()))), 0.0
    with torch.inference_mode():
        for start in range(0, count, batch_size):
            batch = {name: tensor[start:start + batch_size] for name, tensor in tensors.items()}
            total += float(loss(batch, model(batch))["loss"]) * len(batch["numerical"])
    return total / count


def hand_fit(parts: Loaders, epochs: int, folder: Path) -> float:
    """Seconds of a minimal loop over the same tensors, model, optimizer and batch size."""
    model, loss, optimizer = fresh_model(parts.encoding)
    train, val = parts.train.tensors, parts.val.tensors
    count, batch_size = parts.train.num_rows, parts.train.batch_size
    generator = torch.Generator().manual_seed(0)
    best = float("inf")
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for index in torch.randperm(count, generator=generator).split(batch_size):
            batch = {name: tensor[index] for name, tensor in train.items()}
            value = loss(batch, model(batch))["loss"]
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            optimizer.step()
        current = _validation_loss(model, loss, val, parts.val.batch_size)
        if current < best:
            best = current
            torch.save(model.state_dict(), folder / "best.pt")
    return time.perf_counter() - started


def in_fresh_folder(function, parts: Loaders, epochs: int, root: Path):
    """A side as a zero-argument callable that writes into a new folder every call."""

    def run() -> float:
        return function(parts, epochs, Path(tempfile.mkdtemp(dir=root)))

    return run


COMPARISONS = (("hand", "hand-written PyTorch loop", Target(0.9)), ("lightning", "PyTorch Lightning", Target(1.0)))


def rows(context: Context) -> list[Row]:
    """Per batch size: vaesae, the hand loop and Lightning interleaved; a row per comparison."""
    plan, folder = context.plan, context.scratch("training")
    missing_lightning = lightning_available()
    sides = {"vaesae": vaesae_fit, "hand": hand_fit, **({"lightning": lightning_fit} if missing_lightning is None else {})}
    work = plan.train_rows * plan.epochs
    result = []
    for batch_size in plan.batch_sizes:
        parts = loaders(context.demo, batch_size)
        seconds = interleaved({name: in_fresh_folder(f, parts, plan.epochs, folder) for name, f in sides.items()},
                              plan.repeats)
        mine = median(seconds["vaesae"])
        for side, label, target in COMPARISONS:
            what = f"`task=train` throughput, batch {batch_size}"
            if side not in seconds:
                result.append(Row(what, label, per_second(work, mine), "—", None, target, note=missing_lightning or ""))
                continue
            theirs = median(seconds[side])
            result.append(Row(what, label, per_second(work, mine), per_second(work, theirs),
                              paired_ratio(seconds[side], seconds["vaesae"]), target))
    return result
