"""Checking and claiming the output folder before Hydra creates it.

Hydra makes the run (or sweep) folder and writes its ``.hydra`` files before
any vaesae code runs, and reports a failure there as a traceback. This Hydra
callback runs first: it refuses a run name that leads outside
``experiment.output_dir``, turns an output folder that cannot be written into
one clear message and exit status 2, and takes the folder's lock
(``vaesae.run_lock``) so a second process cannot write into it.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from vaesae import run_lock
from vaesae.contained_paths import joined_inside
from vaesae.engine.distributed import launched_ranks
from vaesae.errors import VaesaeError
from vaesae.tasks.outputs import ensure_writable


def _exit(error: VaesaeError, hint: str = "") -> NoReturn:
    print(f"Error: {error}{hint}", file=sys.stderr)
    raise SystemExit(error.exit_code) from None


def check_name(config: DictConfig) -> None:
    output_dir = OmegaConf.select(config, "experiment.output_dir", default=None)
    name = OmegaConf.select(config, "experiment.name", default=None)
    if isinstance(output_dir, str) and isinstance(name, str):
        try:
            joined_inside(output_dir, name, "experiment.name")
        except VaesaeError as error:
            _exit(error)


def claim_folder(folder: str, config: DictConfig) -> None:
    try:
        ensure_writable(Path(folder))
    except VaesaeError as error:
        _exit(error, "; set experiment.output_dir to a folder you can write to")
    if config.get("dry_run") is True or not launched_ranks().is_main:
        return  # the ranks of one torchrun job share the folder; rank 0 holds its lock
    try:
        run_lock.acquire(Path(folder))
    except VaesaeError as error:
        _exit(error)


class OutputFolderCheck(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_name(config)
        claim_folder(config.hydra.run.dir, config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_name(config)
        claim_folder(config.hydra.sweep.dir, config)
