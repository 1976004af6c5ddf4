"""The Hydra callback that closes a sweep: the summary, and which jobs failed.

It runs in the process that started the multirun, once all jobs are done, and
is registered for every primary config by ``vaesae.sweep.settings``. The exit
status is not its business (other callbacks still have to run after it): it
leaves the failed jobs in ``failed_jobs()`` and the status a stopped sweep
ends with in ``exit_status()`` for the entry point to act on. While the jobs
run, it turns Ctrl-C and SIGTERM into a stop of the whole sweep
(``vaesae.sweep.stopping``).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from vaesae.engine.run_layout import read_plan
from vaesae.sweep.continued_search import note_continued_search
from vaesae.sweep.metric_check import warn_if_incomparable
from vaesae.sweep.plan import write_plan
from vaesae.sweep.stopping import SweepStopper, launcher_starts_workers, submitit_controllers_ignore_sigint
from vaesae.sweep.summary import SUMMARY_CSV, refresh_summary, state_counts

log = logging.getLogger("vaesae")

_failed: list[str] = []
_stopped: list[int] = []
_stopper: list[SweepStopper] = []


def failed_jobs() -> list[str]:
    """Job folders that failed in the multirun this process ran (empty otherwise)."""
    return list(_failed)


def exit_status() -> int:
    """128 + the signal that stopped the sweep; 1 when a job failed; else 0."""
    return _stopped[0] if _stopped else (1 if _failed else 0)


def is_dry_run(config: DictConfig) -> bool:
    """A dry-run sweep only checks each job's config: it plans, runs and summarises nothing."""
    return OmegaConf.select(config, "dry_run", default=False) is True


class SweepSummary(Callback):
    """Holds nothing itself: launchers pickle the callbacks along with the jobs."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config):
            return
        sweep_dir = Path(str(config.hydra.sweep.dir))
        if read_plan(sweep_dir):
            note_continued_search(config, sweep_dir)
        write_plan(config)
        warn_if_incomparable(config)
        submitit_controllers_ignore_sigint(config)
        _stopper[:] = [SweepStopper(sweep_dir, launcher_starts_workers(config))]
        _stopper[0].install()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if is_dry_run(config):
            return
        sweep_dir = Path(str(config.hydra.sweep.dir))
        stopped = _stopper.pop().uninstall() if _stopper else None
        rows = refresh_summary(sweep_dir)
        if stopped is not None:
            _stopped[:] = [stopped]
            log.error("sweep stopped (%s); continue it with: %s", state_counts(rows), read_plan(sweep_dir).get("command"))
            return
        _failed[:] = [row.folder.name for row in rows if not row.succeeded]
        if _failed:
            log.error("%d of %d job(s) failed: %s", len(_failed), len(rows), ", ".join(_failed))
        if rows:
            log.info("sweep summary: %s", sweep_dir / SUMMARY_CSV)
