"""Tracking for one vaesae job: what the tasks call.

``open_tracking`` runs first in every task, before data is read: it reaches
the store (or reports why it cannot) and applies ``mlflow.on_unreachable``.
``job_run`` describes the run the task will record: name, params (the
redacted config, flattened), tags (task, model class, command-line overrides,
sweep values, parent run) and the config file as an artifact.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf

from vaesae.config.redact import redacted_overrides
from vaesae.engine.checkpoint_io import digest_path
from vaesae.errors import VaesaeError
from vaesae.tracking.lineage import parent_run_id, swept_values
from vaesae.tracking.params import flatten
from vaesae.tracking.preflight import TrackingUnavailable
from vaesae.tracking.run import TrackedRun
from vaesae.tracking.session import TrackingSession, open_session, preflight
from vaesae.tracking.settings import TrackingSettings

if TYPE_CHECKING:
    from vaesae.tasks.job import Job

log = logging.getLogger("vaesae")


def settings_of(job: Job) -> TrackingSettings | None:
    if job.cfg.mlflow is None:
        return None
    return TrackingSettings.from_section(OmegaConf.to_container(job.cfg.mlflow, resolve=True))


def open_tracking(job: Job) -> TrackingSession | None:
    """A session, or None when the config has no ``mlflow`` section (MLflow is then never imported),
    for a dry run (which only checks that a server answers), or when an unreachable store is skipped."""
    settings = settings_of(job)
    if settings is None:
        return None
    try:
        if job.cfg.dry_run:
            preflight(settings)
            return None
        return open_session(settings)
    except TrackingUnavailable as exc:
        if settings.on_unreachable == "fail":
            raise VaesaeError(f"{exc}\n  (set mlflow.on_unreachable=skip to run without tracking)") from None
        log.warning("%s; mlflow.on_unreachable=skip, so this %s run is not tracked", exc, job.task)
        return None


def run_name(job: Job) -> str:
    name = job.cfg.experiment.name
    suffix = "" if job.task == "train" else f" {job.task}"
    return f"{name}-{job.run_dir.name}{suffix}" if parent_run_id() else f"{name}{suffix}"


def run_tags(job: Job, extra: dict[str, str]) -> dict[str, str]:
    tags = {
        "vaesae.task": job.task,
        "vaesae.model_class": str(job.cfg.model["class"]),
        "vaesae.overrides": " ".join(redacted_overrides(job.overrides)),
        "vaesae.run_dir": str(job.run_dir.resolve()),
        **swept_values(job.overrides),
        **extra,
    }
    parent = parent_run_id()
    if parent:
        tags["mlflow.parentRunId"] = parent
    return tags


def job_run(session: TrackingSession | None, job: Job, config_path: Path, tags: dict[str, str] | None = None) -> TrackedRun:
    """The run recording ``job`` (not started yet); inert when ``session`` is None."""
    return TrackedRun(
        session, run_name(job), run_tags(job, tags or {}), flatten(job.redacted_config()), ((config_path, "config"),)
    )


def checkpoint_tags(path: Path, payload: dict[str, Any]) -> dict[str, str]:
    """Which checkpoint an extract or predict run used: path, epoch, SHA-256 and the run that trained it."""
    digest = digest_path(path)
    tags = {"vaesae.checkpoint": str(path.resolve()), "vaesae.checkpoint_epoch": str(payload.get("epoch"))}
    if digest.is_file():
        tags["vaesae.checkpoint_sha256"] = digest.read_text().split()[0]
    training_run = (payload.get("callbacks") or {}).get("MlflowCallback", {}).get("run_id")
    if training_run:
        tags["vaesae.training_run_id"] = training_run
    return tags
