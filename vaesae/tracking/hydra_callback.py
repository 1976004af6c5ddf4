"""The Hydra callback that runs in the launching process, around a run or a whole sweep.

* Before Hydra writes ``.hydra/*.yaml`` or ``multirun.yaml``, a password
  written literally in a config file is moved into the environment (see
  ``vaesae.config.redact``); for a sweep, an override makes every job do the same.
* For a sweep with an ``mlflow`` section it creates the parent run that every
  job's run is filed under, before any job starts. Creating the experiment (and
  a fresh sqlite store's tables) here, once, means jobs that start together
  never race to set up the store.

MLflow is imported only when a sweep's config has an ``mlflow`` section.
"""
from __future__ import annotations

import atexit
import logging
import sys
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import OmegaConfBaseException

from vaesae.config.overrides import as_typed
from vaesae.config.redact import conceal_config, redacted_overrides
from vaesae.errors import VaesaeError
from vaesae.tracking import lineage
from vaesae.tracking.settings import ON_UNREACHABLE, TrackingSettings, uri_problem

log = logging.getLogger("vaesae")


def swept_keys(overrides: list[str]) -> list[str]:
    """Keys the sweep varies (``a=1,2``, ``range(…)``, ``choice(…)``)."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    return [override.key_or_group for override in parsed if override.is_sweep_override()]


def parent_settings(config: DictConfig) -> TrackingSettings | None:
    """The sweep's tracking settings, or None when there is no usable ``mlflow`` section (jobs report problems)."""
    try:
        section = OmegaConf.to_container(config.mlflow, resolve=True) if config.get("mlflow") is not None else None
    except OmegaConfBaseException:
        return None
    if not isinstance(section, dict) or uri_problem(section.get("tracking_uri")):
        return None
    if not section.get("experiment_name") or section.get("on_unreachable", "fail") not in ON_UNREACHABLE:
        return None
    return TrackingSettings.from_section(section)


class MlflowHydraCallback(Callback):
    def __init__(self) -> None:
        self.parent = None

    def __getstate__(self) -> dict[str, Any]:
        """Launchers ship the callbacks to their workers; the parent run (and its store client) stays here."""
        return {"parent": None}

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        conceal_config(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        task_overrides = [as_typed(o) for o in config.hydra.overrides.task]
        for override in conceal_config(config):
            with read_write(config.hydra), open_dict(config.hydra):
                config.hydra.overrides.task.append(override)
        settings = parent_settings(config)
        if settings is not None:
            self.start_parent(config, settings, task_overrides)

    def start_parent(self, config: DictConfig, settings: TrackingSettings, task_overrides: list[str]) -> None:
        from vaesae.tracking.preflight import TrackingUnavailable
        from vaesae.tracking.run import TrackedRun
        from vaesae.tracking.session import open_session

        try:
            session = open_session(settings)
        except TrackingUnavailable as exc:
            if settings.on_unreachable == "fail":
                log.error("%s\n  (set mlflow.on_unreachable=skip to run without tracking)", exc)
                raise SystemExit(2) from None
            log.warning("%s; mlflow.on_unreachable=skip, so this sweep is not tracked", exc)
            return
        except VaesaeError as exc:
            log.error("%s", exc)
            raise SystemExit(2) from None
        keys = swept_keys(task_overrides)
        tags = {
            "vaesae.sweep": "parent",
            "vaesae.overrides": " ".join(redacted_overrides(task_overrides)),
            "vaesae.swept_keys": ",".join(keys),
            "vaesae.sweep_dir": str(Path(config.hydra.sweep.dir).resolve()),
        }
        self.parent = TrackedRun(session, f"{config.experiment.name} sweep", tags, {})
        self.parent.start()
        if self.parent.run_id is not None:
            lineage.announce(self.parent.run_id, keys)
            atexit.register(self.end_abnormally)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Hydra ends callbacks in reverse order, so the sweep's summary and pictures exist by now and go
        to the parent run; like the command's exit status, the parent fails when a job failed."""
        if self.parent is None:
            return
        from vaesae.report import figure_files
        from vaesae.sweep.callback import exit_status, failed_jobs
        from vaesae.sweep.summary import SUMMARY_CSV

        sweep_dir = Path(config.hydra.sweep.dir)
        self.log_best_job(sweep_dir)
        self.parent.log_artifact(sweep_dir / SUMMARY_CSV, "summary")
        for path in figure_files(sweep_dir):
            self.parent.log_artifact(path, "figures")
        self.end("KILLED" if exit_status() > 1 else "FAILED" if failed_jobs() else "FINISHED")

    def log_best_job(self, sweep_dir: Path) -> None:
        """The best job's value, its swept values as params, and tags naming it and linking to its run."""
        from vaesae.engine.run_layout import best_job

        best = best_job(sweep_dir)
        if best is None:
            return
        self.parent.log_metrics({f"best_{best.status.metric}": best.result.best}, step=0)
        self.parent.log_params(best.status.values)
        tags = {"vaesae.best_job": best.folder.name}
        child = self.child_run_of(best.folder)
        if child:
            tags["vaesae.best_run_id"] = child
        self.parent.set_tags(tags)

    def child_run_of(self, job_dir: Path) -> str | None:
        """The id of the child run that trained in ``job_dir``, found by its ``vaesae.run_dir`` tag."""
        session = self.parent.session
        try:
            found = session.client.search_runs(
                [session.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{self.parent.run_id}'")
        except Exception as exc:  # the store may be gone by now; the link is a convenience
            log.warning("MLflow: could not look up the best job's run (%s)", exc)
            return None
        wanted = str(job_dir.resolve())
        return next((run.info.run_id for run in found if run.data.tags.get("vaesae.run_dir") == wanted), None)

    def end(self, status: str) -> None:
        if self.parent is not None:
            self.parent.close(status)
            self.parent = None
            lineage.withdraw()

    def end_abnormally(self) -> None:
        """The sweep stopped before its end: KILLED after Ctrl-C, FAILED otherwise."""
        self.end("KILLED" if isinstance(getattr(sys, "last_value", None), KeyboardInterrupt) else "FAILED")
