"""One MLflow run whose failures never stop the work it records.

Tracking is a record of the work, not part of it: when the store stops
answering, the first failure is reported once, the run stops logging, and
training, checkpoints and outputs go on. At the end the run is closed as well
as the store allows, with a status that says how the work ended.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

from vaesae.errors import TrainingInterrupted
from vaesae.tracking.session import TrackingSession, first_line

log = logging.getLogger("vaesae")


def run_status(error: BaseException | None) -> str:
    """FINISHED; FAILED for an error; KILLED for an interruption from outside (Ctrl-C, SIGTERM)."""
    if error is None:
        return "FINISHED"
    interrupted = isinstance(error, TrainingInterrupted) or not isinstance(error, Exception)
    return "KILLED" if interrupted else "FAILED"


class TrackedRun:
    """A run to be created in the store by ``start``; with ``session=None`` (tracking off or skipped)
    every call does nothing and MLflow is not imported."""

    def __init__(
        self,
        session: TrackingSession | None,
        name: str,
        tags: dict[str, str],
        params: dict[str, str],
        artifacts: tuple[tuple[Path, str], ...] = (),
    ):
        self.session, self.name = session, name
        self.tags, self.params, self.artifacts = tags, params, artifacts
        self.run_id: str | None = None
        self.resume_id: str | None = None
        self.lost = False

    @property
    def active(self) -> bool:
        return self.session is not None and not self.lost

    def _attempt(self, action: str, call: Callable[[], object]) -> None:
        if not self.active:
            return
        try:
            call()
        except Exception as exc:
            self.lost = True
            log.warning(
                "MLflow: %s failed (%s); the rest of this run is not tracked, the work goes on", action, first_line(exc)
            )

    def start(self) -> None:
        self._attempt("starting the run", self._create)
        for path, folder in self.artifacts:
            self.log_artifact(path, folder)

    def _create(self) -> None:
        from mlflow.entities import Param
        from mlflow.tracking.context.registry import resolve_tags

        client, session = self.session.client, self.session
        if self.resume_id is not None and self._reopen(self.resume_id):
            return
        run = client.create_run(session.experiment_id, tags=resolve_tags(self.tags), run_name=self.name)
        self.run_id = run.info.run_id
        client.log_batch(self.run_id, params=[Param(k, v) for k, v in self.params.items()])
        log.info("MLflow: run %s (%s) in experiment %r", self.run_id, self.name, session.settings.experiment_name)

    def _reopen(self, run_id: str) -> bool:
        """Continue the run of a resumed training, if this store has it."""
        from mlflow.exceptions import MlflowException

        try:
            self.session.client.update_run(run_id, status="RUNNING")
        except MlflowException:
            log.info("MLflow: run %s of the resumed checkpoint is not in this store; starting a new run", run_id)
            return False
        self.run_id = run_id
        log.info("MLflow: continuing run %s (%s)", run_id, self.name)
        return True

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if not self.active:
            return
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [Metric(key, float(value), stamp, step) for key, value in metrics.items()]
        self._attempt(f"logging metrics of step {step}", lambda: self.session.client.log_batch(self.run_id, metrics=batch))

    def log_artifact(self, path: Path, folder: str) -> None:
        if path.is_file():
            self._attempt(f"uploading {path.name}", lambda: self.session.client.log_artifact(self.run_id, str(path), folder))

    def finish(self, error: BaseException | None) -> None:
        """Close the run, even after a failure, since the store may be back."""
        if self.session is None or self.run_id is None:
            return
        status = run_status(error)
        try:
            self.session.client.set_terminated(self.run_id, status)
        except Exception as exc:
            level = logging.INFO if self.lost else logging.WARNING
            log.log(level, "MLflow: run %s could not be closed as %s (%s)", self.run_id, status, first_line(exc))
            return
        log.info("MLflow: run %s ended %s", self.run_id, status)

    def __enter__(self) -> "TrackedRun":
        self.start()
        return self

    def __exit__(self, exc_type, error, traceback) -> None:
        self.finish(error)
