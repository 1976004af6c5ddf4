"""The single Hydra app: validate the composed config and dispatch to the task."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Callable

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from vaesae.cli_args import prepare_args
from vaesae.config.load import load_config
from vaesae.config.redact import conceal_overrides
from vaesae.config.store import register_configs
from vaesae.config.resolvers import register_resolvers
from vaesae.errors import VaesaeError
from vaesae.tasks.job import Job

log = logging.getLogger("vaesae")

CONFIG_DIR = Path(__file__).resolve().parent / "conf"

register_configs()
register_resolvers()


def task_runner(task: str) -> Callable[[Job], float | None]:
    if task == "train":
        from vaesae.tasks.train import run_train

        return run_train
    if task == "extract":
        from vaesae.tasks.extract import run_extract

        return run_extract
    from vaesae.tasks.predict import run_predict

    return run_predict


def remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def run_job(cfg: DictConfig) -> float | None:
    """Run one job; a user error is logged as one message and exits with status 2."""
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        config = load_config(cfg)
        job = Job(config, run_dir, list(hydra_cfg.overrides.task))
        result = task_runner(config.task)(job)
        if config.dry_run:
            remove_if_empty(run_dir)
        return result
    except VaesaeError as error:
        log.error("%s", error)
        raise SystemExit(2) from None


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def hydra_main(cfg: DictConfig) -> float | None:
    return run_job(cfg)


def main() -> None:
    """Console entry point (``vaesae`` and ``python -m vaesae``)."""
    sys.argv = [sys.argv[0], *prepare_args(conceal_overrides(sys.argv[1:]))]
    hydra_main()
