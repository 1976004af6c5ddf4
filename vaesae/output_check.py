"""Checking the output folder before Hydra creates it.

Hydra makes the run (or sweep) folder before any vaesae code runs, and reports
a failure there as a traceback. This Hydra callback runs first and turns an
output folder that cannot be written into one clear message and exit status 2.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from vaesae.errors import VaesaeError
from vaesae.tasks.outputs import ensure_writable


def check_folder(folder: str) -> None:
    try:
        ensure_writable(Path(folder))
    except VaesaeError as error:
        print(f"Error: {error}; set experiment.output_dir to a folder you can write to", file=sys.stderr)
        raise SystemExit(error.exit_code) from None


class OutputFolderCheck(Callback):
    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_folder(config.hydra.run.dir)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_folder(config.hydra.sweep.dir)
