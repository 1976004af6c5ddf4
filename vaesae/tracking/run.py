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

from vaesae.errors import Interrupted
from vaesae.tracking.session import TrackingSession, first_line

log = logging.getLogger("vaesae")


def run_status(error: BaseException | None) -> str:
    """FINISHED; KILLED when stopped from outside (Ctrl-C, SIGTERM, an exit); FAILED for any other error."""
    if error is None:
        return "FINISHED"
    interrupted = isinstance(error, Interrupted) or not isinstance(error, Exception)
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
        self.lost = False

    @property
    def active(self) -> bool:
        return self.session is not None and not self.lost

    @property
    def store_uri(self) -> str | None:
        return self.session.settings.uri if self.session is not None else None

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

    def start(self, earlier_run_id: str | None = None) -> None:
        """Create the run, or continue ``earlier_run_id`` (training resumed from a checkpoint) if the store has it."""
        self._attempt("starting the run", lambda: self._continue(earlier_run_id) if earlier_run_id else self._create())
        for path, folder in self.artifacts:
            self.log_artifact(path, folder)

    def _create(self) -> None:
        from mlflow.entities import Param
        from mlflow.tracking.context.registry import resolve_tags

        client, session = self.session.client, self.session
        run = client.create_run(session.experiment_id, tags=resolve_tags(self.tags), run_name=self.name)
        self.run_id = run.info.run_id
        client.log_batch(self.run_id, params=[Param(k, v) for k, v in self.params.items()])
        log.info("MLflow: run %s (%s) in experiment %r", self.run_id, self.name, session.settings.experiment_name)

    def _continue(self, run_id: str) -> None:
        """Back to RUNNING with the new command line's tags; params keep their first values (MLflow
        refuses to change a param), so the resumed run's overrides are in ``vaesae.overrides``."""
        from mlflow.entities import RunTag
        from mlflow.exceptions import MlflowException

        client = self.session.client
        try:
            earlier = client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            earlier = None
        if earlier is None or earlier.info.experiment_id != self.session.experiment_id or earlier.info.lifecycle_stage != "active":
            log.info("MLflow: the checkpoint's run %s is not in experiment %r; starting a new run", run_id, self.session.settings.experiment_name)
            self._create()
            return
        client.update_run(run_id, status="RUNNING")
        client.log_batch(run_id, tags=[RunTag(k, v) for k, v in self.tags.items()])
        self.run_id = run_id
        log.info("MLflow: continuing run %s (%s) from its last checkpoint", run_id, earlier.info.run_name)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        if not self.active:
            return
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [Metric(key, float(value), stamp, step) for key, value in metrics.items()]
        self._attempt(f"logging metrics of step {step}", lambda: self.session.client.log_batch(self.run_id, metrics=batch))

    def log_params(self, params: dict[str, object]) -> None:
        if not self.active:
            return
        from mlflow.entities import Param

        batch = [Param(key, str(value)) for key, value in params.items()]
        self._attempt("logging params", lambda: self.session.client.log_batch(self.run_id, params=batch))

    def set_tags(self, tags: dict[str, str]) -> None:
        if not self.active:
            return
        from mlflow.entities import RunTag

        batch = [RunTag(key, value) for key, value in tags.items()]
        self._attempt("setting tags", lambda: self.session.client.log_batch(self.run_id, tags=batch))

    def log_artifact(self, path: Path, folder: str) -> None:
        if path.is_file():
            self._attempt(f"uploading {path.name}", lambda: self.session.client.log_artifact(self.run_id, str(path), folder))

    def finish(self, error: BaseException | None) -> None:
        """Close the run with the status ``error`` calls for (see ``run_status``)."""
        self.close(run_status(error))

    def close(self, status: str) -> None:
        """Set the final status, even after a failure, since the store may be back."""
        if self.session is None or self.run_id is None:
            return
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
