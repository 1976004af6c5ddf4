"""``task=train``: fit a model on the train split, validating and checkpointing."""
from __future__ import annotations

import logging
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from vaesae.engine.checkpointing import Checkpointing, RunIdentity
from vaesae.engine.device_data import place_on_device
from vaesae.engine.early_stopping import EarlyStopping
from vaesae.engine.interrupts import stop_on_signals
from vaesae.engine.metrics_file import MetricsFile
from vaesae.engine.progress import Progress
from vaesae.engine.threads import apply_threads
from vaesae.engine.rng import seed_everything
from vaesae.engine.trainer import Trainer
from vaesae.errors import OutputError, TrainingInterrupted, VaesaeError
from vaesae.report.training import DrawFigures
from vaesae.tasks.job import Job, print_summary
from vaesae.tasks.outputs import ensure_writable, refuse_existing_run
from vaesae.tasks.parts import (
    build_loader, build_loss, build_model, build_optimizer, load_cardinalities, parameter_count, params_of, plain,
    resolve_device,
)
from vaesae.tasks.resume import (
    ResumePoint, check_compatible, config_differences, encoding_differences, find_resume_point, restore_trainer,
)
from vaesae.tracking.callback import MlflowCallback
from vaesae.tracking.job import job_run, open_tracking

log = logging.getLogger("vaesae")


def prepare_resume(job: Job, checkpoint_dir: Path) -> ResumePoint | None:
    """The checkpoint to continue from, checked against the config before any data is read.

    A new run (or one continued from another folder) must not overwrite an
    earlier run's checkpoints.
    """
    cfg = job.cfg
    resume = find_resume_point(cfg.checkpoint.resume, job.run_dir)
    if resume is not None:
        check_compatible(resume, config_differences(resume.payload["config"], job.redacted_config()), cfg.checkpoint.resume_force)
    if not cfg.dry_run:
        if resume is None or resume.path.parent.resolve() not in (checkpoint_dir.resolve(), job.run_dir.resolve()):
            refuse_existing_run(checkpoint_dir)
        ensure_writable(job.run_dir)
    return resume


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


def run_train(job: Job) -> float | None:
    """Train (or continue, see ``checkpoint.resume``) and return the best value of ``checkpoint.metric``.

    Returns None for a dry run. Resuming is checked before any data is read.
    """
    cfg = job.cfg
    checkpoint_dir = job.run_dir / "checkpoints"
    resume = prepare_resume(job, checkpoint_dir)
    tracking = open_tracking(job)
    seed_everything(cfg.experiment.seed)
    device = resolve_device(cfg.experiment.device)
    cardinalities = load_cardinalities(cfg.data)
    columns = plain(cfg.data.columns)
    train_loader = build_loader(cfg.train, columns, cardinalities, cfg.experiment.seed)
    encoding = train_loader.fit_encoding()
    train_loader.use_encoding(encoding)
    val_loader = None
    if cfg.val is not None:
        val_loader = build_loader(cfg.val, columns, cardinalities, cfg.experiment.seed).use_encoding(encoding)
    for loader in filter(None, (train_loader, val_loader)):
        place_on_device(loader, device)
    model = build_model(cfg.model["class"], params_of(cfg.model), encoding).to(device)
    apply_threads(cfg.experiment.get("threads"), model, cfg.train.loader_params.batch_size)
    loss = build_loss(cfg.train.loss, "train.loss")
    val_loss = build_loss(cfg.val.loss, "val.loss") if cfg.val is not None else None
    optimizer = build_optimizer(cfg.train.optimizer_config, model.parameters())
    if resume is not None:
        check_compatible(resume, encoding_differences(resume, encoding.to_state()), cfg.checkpoint.resume_force)
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
    config_path = job.write_config()
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
    if cfg.report.figures:
        callbacks.append(DrawFigures(job.run_dir))
    callbacks.append(MlflowCallback(job_run(tracking, job, config_path), checkpoint_dir))
    model.initialize_from_data(train_loader.tensors)
    trainer = Trainer(model, optimizer, loss, device, callbacks, val_loss=val_loss)
    if resume is not None:
        restore_trainer(trainer, resume)
    with resume_hint(job, checkpointing), stop_on_signals(trainer):
        trainer.fit(train_loader, cfg.train.epochs, val_loader, cfg.val.frequency if cfg.val is not None else 1)
    best = checkpointing.best_value
    if best is None or not math.isfinite(best):
        raise VaesaeError(f"checkpoint.metric {cfg.checkpoint.metric!r} never had a finite value; no best model")
    log.info("best %s = %.6g at epoch %s; checkpoints in %s", cfg.checkpoint.metric, best, checkpointing.best_epoch, checkpoint_dir)
    return best
