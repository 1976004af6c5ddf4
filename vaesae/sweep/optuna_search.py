"""Hydra's Optuna search, stopping with the sweep (the ``vaesae_optuna`` sweeper).

Hydra's search goes on asking and launching trials after a stop
(``vaesae.sweep.stopping``): each such job does not run, yet leaves a job
folder holding only ``.hydra/``; and a search stopped before any trial
completed ends with Optuna's ``No trials are completed yet`` error, so no
summary is written. Here the launcher starts no batch once the sweep is
stopping, and the search ends when a batch comes back from a stop; the sweep
then ends as every stopped sweep does (summary, continue command, exit
status). A stopped search writes no ``optimization_results.yaml``: its
continuation does.

Needs the optuna extra; only the sweeper plugin
(``hydra_plugins.vaesae_sweepers``) imports this module, when Hydra
instantiates it.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from hydra.core.utils import JobReturn
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper
from omegaconf import DictConfig

from vaesae.sweep.stopping import stop_requested

log = logging.getLogger("vaesae")


class SearchStopped(Exception):
    """The sweep is stopping: the search asks for no more trials."""


class LauncherStoppingWithTheSweep:
    """Wraps the search's launcher: no batch starts, and none returns to the search, once the sweep is stopping."""

    def __init__(self, launcher: Launcher, sweep_dir: Path):
        self.launcher = launcher
        self.sweep_dir = sweep_dir

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        self.end_search_if_stopping()
        returns = self.launcher.launch(job_overrides, initial_job_idx)
        self.end_search_if_stopping()
        return returns

    def end_search_if_stopping(self) -> None:
        if stop_requested(self.sweep_dir) is not None:
            raise SearchStopped()


class StoppableOptunaSearch(OptunaSweeper):
    """Hydra's ``OptunaSweeper`` (same parameters), ending its search when the sweep stops."""

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        search = self.sweeper
        search.launcher = LauncherStoppingWithTheSweep(search.launcher, Path(str(config.hydra.sweep.dir)))

    def sweep(self, arguments: list[str]) -> None:
        try:
            super().sweep(arguments)
        except SearchStopped:
            log.info("the sweep is stopping: the search launches no further trials")
