"""The Hydra callback that closes a sweep: the summary, and which jobs failed.

It runs in the process that started the multirun, once all jobs are done, and
is registered for every primary config by ``vaesae.sweep.settings``. The exit
status is not its business (other callbacks still have to run after it): it
leaves the failed jobs in ``failed_jobs()`` for the entry point to act on.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from vaesae.sweep.plan import write_plan
from vaesae.sweep.summary import SUMMARY_CSV, refresh_summary

log = logging.getLogger("vaesae")

_failed: list[str] = []


def failed_jobs() -> list[str]:
    """Job folders that failed in the multirun this process ran (empty otherwise)."""
    return list(_failed)


class SweepSummary(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        write_plan(config)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        rows = refresh_summary(sweep_dir)
        if not rows:
            return
        _failed[:] = [row.folder.name for row in rows if not row.succeeded]
        if _failed:
            log.error("%d of %d job(s) failed: %s", len(_failed), len(rows), ", ".join(_failed))
        log.info("sweep summary: %s", sweep_dir / SUMMARY_CSV)
