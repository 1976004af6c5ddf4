"""The single Hydra app: validate the composed config and dispatch to the task.

Task and sweep-job modules (and with them pyarrow and the models) are imported
only when a job runs, so ``--help`` does not pay for them.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from vaesae import run_lock
from vaesae.cli_args import prepare_args, rerun_command
from vaesae.config.load import load_config
from vaesae.config.redact import conceal_overrides
from vaesae.config.store import register_configs
from vaesae.config.resolvers import register_resolvers
from vaesae.errors import VaesaeError
from vaesae.sweep.callback import failed_jobs

if TYPE_CHECKING:
    from vaesae.sweep.job import JobFailure
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


def execute(cfg: DictConfig, hydra_cfg: DictConfig) -> float | None:
    """Validate, then run the task in the job's folder."""
    from vaesae.tasks.job import Job

    run_dir = Path(hydra_cfg.runtime.output_dir)
    config = load_config(cfg)
    job = Job(config, run_dir, list(hydra_cfg.overrides.task), rerun_command(hydra_cfg))
    result = task_runner(config.task)(job)
    if config.dry_run:
        remove_if_empty(run_dir)
    return result


def run_job(cfg: DictConfig) -> float | JobFailure | None:
    """Run one job; a user error is logged as one message and exits non-zero (2, or 128 + signal when interrupted).

    A job of a sweep records its failure instead, so the other jobs go on
    (``vaesae.sweep.job``); a dry run stops at the first problem either way.
    """
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN and cfg.get("dry_run") is not True:
        from vaesae.sweep.job import run_sweep_job

        return run_sweep_job(lambda: execute(cfg, hydra_cfg), cfg, hydra_cfg)
    try:
        return execute(cfg, hydra_cfg)
    except VaesaeError as error:
        log.error("%s", error)
        raise SystemExit(error.exit_code) from None


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def hydra_main(cfg: DictConfig) -> float | JobFailure | None:
    return run_job(cfg)


def main() -> None:
    """Console entry point (``vaesae`` and ``python -m vaesae``)."""
    sys.argv = [sys.argv[0], *prepare_args(conceal_overrides(sys.argv[1:]))]
    try:
        hydra_main()
    finally:
        run_lock.release_all()
    if failed_jobs():
        sys.exit(1)
