"""``task=train``: fit a model on the train split, validating and checkpointing."""
from __future__ import annotations

import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from vaesae.engine.checkpointing import Checkpointing, RunIdentity
from vaesae.engine.distributed import (
    Ranks, check_batches, data_parallel, interrupt_target, join, launched_ranks, leave, rank_callbacks, rank_shard,
    rank_sums,
)
from vaesae.engine.device_data import place_on_device
from vaesae.engine.early_stopping import EarlyStopping
from vaesae.engine.interrupts import stop_on_signals
from vaesae.engine.metrics_file import MetricsFile
from vaesae.engine.progress import Progress
from vaesae.engine.threads import apply_threads
from vaesae.engine.rng import seed_everything
from vaesae.engine.trainer import Trainer
from omegaconf import DictConfig

from vaesae.config.validate import check_machine
from vaesae.data.base import BaseDataLoader
from vaesae.data.encoding import ColumnEncoding
from vaesae.errors import OutputError, ProblemCollector, TrainingInterrupted, VaesaeError
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import VaesaeModel
from vaesae.tasks.job import Job, print_summary
from vaesae.tasks.outputs import ensure_writable, refuse_existing_run
from vaesae.tasks.parts import (
    build_loader, build_loss, build_model, build_optimizer, load_cardinalities, parameter_count, params_of, plain,
    resolve_device,
)
from vaesae.tasks.resume import (
    ResumePoint, check_compatible, config_differences, encoding_differences, find_resume_point, restore_trainer,
)

log = logging.getLogger("vaesae")


def prepare_resume(job: Job, checkpoint_dir: Path) -> ResumePoint | None:
    """The checkpoint to continue from, checked against the config before any data is read.

    A new run (or one continued from another folder) must not overwrite an
    earlier run's checkpoints; a dry run says so too.
    """
    cfg = job.cfg
    resume = find_resume_point(cfg.checkpoint.resume, job.run_dir)
    if resume is not None:
        check_compatible(resume, config_differences(resume.payload["config"], job.redacted_config()), cfg.checkpoint.resume_force)
    if resume is None or resume.path.parent.resolve() not in (checkpoint_dir.resolve(), job.run_dir.resolve()):
        refuse_existing_run(checkpoint_dir)
    if not cfg.dry_run:
        ensure_writable(job.run_dir)
    return resume


@dataclass
class TrainingParts:
    """What training needs from the data, built on the CPU before the device is known to work."""

    train_loader: BaseDataLoader
    val_loader: BaseDataLoader | None
    encoding: ColumnEncoding
    model: VaesaeModel
    loss: VaesaeLoss
    val_loss: VaesaeLoss | None


def build_training_parts(cfg: DictConfig) -> TrainingParts:
    seed_everything(cfg.experiment.seed)
    cardinalities = load_cardinalities(cfg.data)
    columns = plain(cfg.data.columns)
    train_loader = build_loader(cfg.train, columns, cardinalities, cfg.experiment.seed)
    encoding = train_loader.fit_encoding()
    train_loader.use_encoding(encoding)
    val_loader = None
    if cfg.val is not None:
        val_loader = build_loader(cfg.val, columns, cardinalities, cfg.experiment.seed).use_encoding(encoding)
    return TrainingParts(
        train_loader, val_loader, encoding,
        build_model(cfg.model["class"], params_of(cfg.model), encoding),
        build_loss(cfg.train.loss, "train.loss"),
        build_loss(cfg.val.loss, "val.loss") if cfg.val is not None else None,
    )


@contextmanager
def resume_hint(job: Job, checkpointing: Checkpointing) -> Iterator[None]:
    """A run stopped by a signal or an unwritable output ends with the command that continues it."""
    command = f"{job.command} checkpoint.resume=auto"
    try:
        yield
    except TrainingInterrupted as stop:
        saved = checkpointing.saved_on_interrupt
        where = f"state saved to {saved}" if saved else "the checkpoint of the last completed epoch is kept"
        raise TrainingInterrupted(f"{stop}; {where}; resume with: {command}", stop.exit_code) from None
    except OutputError as error:
        raise OutputError(f"{error}; once it can be written again, resume with: {command}") from None


def raise_if_interrupted(trainer: Trainer) -> None:
    """A signal that came after the last batch (while the pictures were drawn) still ends the run with its status."""
    if trainer.interrupt is not None:
        reason, exit_code = trainer.interrupt
        raise TrainingInterrupted(f"{reason} after the last epoch, while the pictures were drawn", exit_code)


def run_train(job: Job) -> float | None:
    """Train (or continue, see ``checkpoint.resume``) and return the best value of ``checkpoint.metric``.

    Returns None for a dry run, and on every rank but rank 0 of a ``torchrun`` job.
    Resuming is checked before any data is read.
    """
    ranks = launched_ranks()
    try:
        return train(job, ranks)
    finally:
        leave(ranks)


def train(job: Job, ranks: Ranks) -> float | None:
    cfg = job.cfg
    checkpoint_dir = job.run_dir / "checkpoints"
    checks = ProblemCollector()
    checks.attempt(lambda: check_machine(cfg.experiment.device))
    resume = checks.attempt(lambda: prepare_resume(job, checkpoint_dir))
    tracking = checks.attempt(lambda: job.hooks.open_tracking(job)) if ranks.is_main else None
    parts = checks.attempt(lambda: build_training_parts(cfg))
    checks.raise_any()
    if resume is not None:
        check_compatible(resume, encoding_differences(resume, parts.encoding.to_state()), cfg.checkpoint.resume_force)
    device = join(ranks, resolve_device(cfg.experiment.device))
    encoding, train_loader, val_loader = parts.encoding, parts.train_loader, parts.val_loader
    check_batches(ranks, train_loader.num_rows, train_loader.batch_size, train_loader.num_batches_per_epoch is not None)
    for loader in filter(None, (train_loader, val_loader)):
        place_on_device(loader, device)
    model, loss, val_loss = parts.model.to(device), parts.loss, parts.val_loss
    apply_threads(cfg.experiment.get("threads"), model, cfg.train.loader_params.batch_size)
    optimizer = build_optimizer(cfg.train.optimizer_config, model.parameters())
    if cfg.dry_run:
        print_summary("dry run: task=train (nothing trained or written)", [
            ("model", f"{cfg.model['class']} {model.hyperparameters()} ({parameter_count(model):,} parameters)"),
            ("train data", f"{cfg.train.data_path}: {train_loader.num_rows:,} rows x {encoding.input_dim} features, {len(train_loader)} batches/epoch"),
            ("val data", f"{cfg.val.data_path}: {val_loader.num_rows:,} rows" if val_loader else "none"),
            ("device", str(device)),
            ("epochs", cfg.train.epochs),
            ("checkpoints", f"{checkpoint_dir} ({cfg.checkpoint.save_strategy}, {cfg.checkpoint.metric} {cfg.checkpoint.mode})"),
            ("resume", resume.describe() if resume is not None else "no, a new run"),
        ])
        return None
    config_path = job.write_config() if ranks.is_main else job.run_dir / "config.yaml"
    checkpointing = Checkpointing(
        checkpoint_dir,
        RunIdentity(cfg.model["class"], model.hyperparameters(), cfg.train.loss["class"], encoding.to_state(), job.redacted_config()),
        cfg.checkpoint.metric, cfg.checkpoint.mode, cfg.checkpoint.save_strategy,
    )
    callbacks = [Progress(cfg.train.epochs), MetricsFile(job.run_dir / "metrics.jsonl")]
    if cfg.val is not None and cfg.val.early_stopping is not None:
        stopping = cfg.val.early_stopping
        callbacks.append(EarlyStopping(stopping.metric, stopping.direction, stopping.patience))
    callbacks.append(checkpointing)
    callbacks += job.hooks.training_callbacks(job, tracking, config_path, checkpoint_dir)
    model.initialize_from_data(train_loader)
    callbacks = rank_callbacks(ranks, callbacks, shared=(EarlyStopping,))
    trainer = Trainer(data_parallel(model, ranks, device), optimizer, loss, device, callbacks, val_loss=val_loss,
                      combine_sums=rank_sums(ranks, device))
    if resume is not None:
        restore_trainer(trainer, resume)
    with resume_hint(job, checkpointing), stop_on_signals(interrupt_target(trainer)):
        val_part = rank_shard(val_loader, ranks) if val_loader is not None else None
        trainer.fit(rank_shard(train_loader, ranks), cfg.train.epochs, val_part, cfg.val.frequency if cfg.val is not None else 1)
        raise_if_interrupted(trainer)
    if not ranks.is_main:
        return None
    best = checkpointing.best_value
    if best is None or not math.isfinite(best):
        raise VaesaeError(f"checkpoint.metric {cfg.checkpoint.metric!r} never had a finite value; no best model")
    log.info("best %s = %.6g at epoch %s; checkpoints in %s", cfg.checkpoint.metric, best, checkpointing.best_epoch, checkpoint_dir)
    return best
