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
from vaesae.cli_args import config_dirs, prepare_args, rerun_command, share_config_store_for_help
from vaesae.config.load import load_config
from vaesae.config.overrides import as_typed
from vaesae.config.redact import conceal_overrides
from vaesae.config.resolvers import register_resolvers
from vaesae.errors import VaesaeError
from vaesae.sweep.callback import exit_status
from vaesae.sweep.folders import job_folder_name
from vaesae.sweep.plan import choose_sweep_dir
from vaesae.tasks.outputs import default_output, embeddings_of

if TYPE_CHECKING:
    from vaesae.engine.callbacks import Callback
    from vaesae.sweep.job import JobFailure
    from vaesae.tasks.hooks import TaskHooks
    from vaesae.tasks.job import Job
    from vaesae.tracking.session import TrackingSession

log = logging.getLogger("vaesae")

CONFIG_DIR = Path(__file__).resolve().parent / "conf"

register_resolvers(vaesae_output=default_output, vaesae_embeddings=embeddings_of,
                   vaesae_job_dir=job_folder_name, vaesae_sweep_dir=choose_sweep_dir)


def task_runner(task: str) -> Callable[[Job], float | None]:
    if task == "train":
        from vaesae.tasks.train import run_train

        return run_train
    if task == "extract":
        from vaesae.tasks.extract import run_extract

        return run_extract
    from vaesae.tasks.predict import run_predict

    return run_predict


def training_callbacks(job: Job, session: TrackingSession | None, config_path: Path, checkpoint_dir: Path) -> list[Callback]:
    """Pictures when training ends (``report.figures``), then tracking, which logs them."""
    from vaesae.report.training import DrawFigures
    from vaesae.tracking.callback import MlflowCallback
    from vaesae.tracking.job import job_run

    figures = [DrawFigures(job.run_dir)] if job.cfg.report.figures else []
    stored = job.cfg.checkpoint
    return [*figures, MlflowCallback(job_run(session, job, config_path), checkpoint_dir, stored.metric, stored.mode)]


def task_hooks() -> TaskHooks:
    """Tracking and pictures, joined to the tasks (which do not import them)."""
    from vaesae.tasks.hooks import TaskHooks
    from vaesae.tracking.job import checkpoint_tags, job_run, open_tracking

    return TaskHooks(open_tracking, job_run, checkpoint_tags, training_callbacks)


def remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def execute(cfg: DictConfig, hydra_cfg: DictConfig) -> float | None:
    """Validate, then run the task in the job's folder."""
    from vaesae.tasks.job import Job

    run_dir = Path(hydra_cfg.runtime.output_dir)
    config = load_config(cfg, [Path(folder) for folder in config_dirs(hydra_cfg)])
    job = Job(config, run_dir, task_hooks(), [as_typed(o) for o in hydra_cfg.overrides.task], rerun_command(hydra_cfg))
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
    """The command: ``vaesae`` and ``python -m vaesae`` run it through ``vaesae.console.main``."""
    try:
        args = prepare_args(conceal_overrides(sys.argv[1:]))
    except VaesaeError as error:
        print(f"vaesae: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    share_config_store_for_help(args)
    sys.argv = [sys.argv[0], *args]
    try:
        hydra_main()
    finally:
        run_lock.release_all()
    if exit_status():
        sys.exit(exit_status())
