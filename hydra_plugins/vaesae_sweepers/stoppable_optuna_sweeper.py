"""The ``vaesae_optuna`` sweeper as Hydra sees it: Hydra instantiates sweepers only from ``hydra_plugins``.

Hydra imports every ``hydra_plugins`` module whenever it starts, with or
without the optuna extra; so this one imports only Hydra, and the search
itself (``vaesae.sweep.optuna_search``) when the sweeper is instantiated.
"""
from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class StoppableOptunaSweeper(Sweeper):
    """Hydra's Optuna sweeper (same parameters), ending its search when the sweep is stopped."""

    def __init__(self, **params: Any) -> None:
        from vaesae.sweep.optuna_search import StoppableOptunaSearch

        self.search = StoppableOptunaSearch(**params)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.search.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        self.search.sweep(arguments)
