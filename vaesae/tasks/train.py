"""``task=train``: fit a model on the train split, validating and checkpointing."""
from __future__ import annotations

import logging
import math

from vaesae.engine.checkpointing import Checkpointing, RunIdentity
from vaesae.engine.early_stopping import EarlyStopping
from vaesae.engine.metrics_file import MetricsFile
from vaesae.engine.progress import Progress
from vaesae.engine.rng import seed_everything
from vaesae.engine.trainer import Trainer
from vaesae.errors import VaesaeError
from vaesae.tasks.job import Job, print_summary
from vaesae.tasks.outputs import ensure_writable, refuse_existing_run
from vaesae.tasks.parts import (
    build_loader, build_loss, build_model, build_optimizer, load_cardinalities, parameter_count, plain, resolve_device,
)
from vaesae.tracking.callback import MlflowCallback
from vaesae.tracking.job import job_run, open_tracking

log = logging.getLogger("vaesae")


def run_train(job: Job) -> float | None:
    """Train and return the best value of ``checkpoint.metric`` (None for a dry run)."""
    cfg = job.cfg
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
    model = build_model(cfg.model["class"], plain(cfg.model.params), encoding).to(device)
    loss = build_loss(cfg.train.loss, "train.loss")
    val_loss = build_loss(cfg.val.loss, "val.loss") if cfg.val is not None else None
    optimizer = build_optimizer(cfg.train.optimizer_config, model.parameters())
    checkpoint_dir = job.run_dir / "checkpoints"
    if cfg.dry_run:
        print_summary("dry run: task=train (nothing trained or written)", [
            ("model", f"{cfg.model['class']} {model.hyperparameters()} ({parameter_count(model):,} parameters)"),
            ("train data", f"{cfg.train.data_path}: {train_loader.num_rows:,} rows x {encoding.input_dim} features, {len(train_loader)} batches/epoch"),
            ("val data", f"{cfg.val.data_path}: {val_loader.num_rows:,} rows" if val_loader else "none"),
            ("device", str(device)),
            ("epochs", cfg.train.epochs),
            ("checkpoints", f"{checkpoint_dir} ({cfg.checkpoint.save_strategy}, {cfg.checkpoint.metric} {cfg.checkpoint.mode})"),
        ])
        return None
    refuse_existing_run(checkpoint_dir)
    ensure_writable(job.run_dir)
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
    callbacks += [checkpointing, MlflowCallback(job_run(tracking, job, config_path), checkpoint_dir)]
    model.initialize_from_data(train_loader.tensors)
    trainer = Trainer(model, optimizer, loss, device, callbacks, val_loss=val_loss)
    trainer.fit(train_loader, cfg.train.epochs, val_loader, cfg.val.frequency if cfg.val is not None else 1)
    best = checkpointing.best_value
    if best is None or not math.isfinite(best):
        raise VaesaeError(f"checkpoint.metric {cfg.checkpoint.metric!r} never had a finite value; no best model")
    log.info("best %s = %.6g at epoch %s; checkpoints in %s", cfg.checkpoint.metric, best, checkpointing.best_epoch, checkpoint_dir)
    return best
