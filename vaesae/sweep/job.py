"""One job of a sweep: its failure is recorded and returned, never raised.

Hydra's launchers hand a job's exception back to the sweeper, which re-raises
it after the batch (basic sweeper) or counts it against ``max_failure_rate``
(Optuna); either way the multirun stops, later jobs never run and no summary is
written. A failed job therefore logs its error (a user error as one message, a
bug with its traceback) into its own log and ``status.json``, and returns a
``JobFailure`` in place of its metric. The summary callback then turns any
failure into a non-zero exit status at the end. An interrupted job (Ctrl-C,
SIGTERM) saves its state, is marked ``interrupted`` and stops the whole sweep
(``vaesae.sweep.stopping``): jobs not yet started do not start.

While it runs, its ``status.json`` keeps its wall time up to date
(``vaesae.sweep.heartbeat``). It draws no pictures unless the command line
asks for them: the sweep draws its best job's when it ends.

A job that starts in a folder an earlier attempt of it left (a Slurm requeue
after preemption or time-out, a Ray retry) continues that attempt's training
rather than starting over.
"""
from __future__ import annotations

import logging
import os
import re
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from omegaconf import DictConfig, OmegaConf

from vaesae.config.schema import RootConfig
from vaesae.errors import Interrupted, VaesaeError
from vaesae.sweep.resources import share_cpus
from vaesae.engine.run_layout import COMPLETED, FAILED, INTERRUPTED, JobStatus, read_status, write_status
from vaesae.sweep.folders import swept_values
from vaesae.sweep.heartbeat import heartbeat, total_wall_time
from vaesae.sweep.stopping import request_stop, stop_requested, worker_ignores_stop_signals
from vaesae.sweep.summary import refresh_summary
from vaesae.tasks.resume import AUTO

log = logging.getLogger("vaesae")

PICTURES_OPTION = re.compile(r"^[+~]*report\.figures=")


@dataclass(frozen=True)
class JobFailure:
    """What a failed job returns to the launcher; not a number, so no sweeper mistakes it for a metric."""

    job: str
    error: str

    def __str__(self) -> str:
        return f"job {self.job} failed: {self.error}"


def start_status(cfg: DictConfig, hydra_cfg: DictConfig, run_dir: Path) -> JobStatus:
    earlier = read_status(run_dir)
    status = JobStatus(
        num=int(hydra_cfg.job.num),
        folder=run_dir.name,
        overrides=list(hydra_cfg.overrides.task),
        metric=OmegaConf.select(cfg, "checkpoint.metric", default=None, throw_on_resolution_failure=False),
        mode=OmegaConf.select(cfg, "checkpoint.mode", default=None, throw_on_resolution_failure=False),
        attempt=earlier.attempt + 1 if earlier else 1,
        host=socket.gethostname(),
        pid=os.getpid(),
        earlier_wall_time_s=(earlier.wall_time_s or 0.0) if earlier else 0.0,
        values=swept_values(hydra_cfg.overrides.task, hydra_cfg.job.config.override_dirname.exclude_keys),
    )
    write_status(run_dir, status)
    return status


def continue_earlier_attempt(cfg: DictConfig, status: JobStatus) -> None:
    """From the second attempt on, training resumes from the job's newest checkpoint (``checkpoint.resume=auto``)."""
    task = cfg.get("task") or RootConfig.task
    if status.attempt == 1 or task != "train" or OmegaConf.select(cfg, "checkpoint.resume", default=None):
        return
    OmegaConf.update(cfg, "checkpoint.resume", AUTO, force_add=True)
    log.info("attempt %d of job %s: continuing from its newest checkpoint", status.attempt, status.folder)


def leave_pictures_to_the_sweep(cfg: DictConfig, hydra_cfg: DictConfig) -> None:
    """A sweep job draws no pictures unless the command line sets ``report.figures``: the sweep draws its
    best job's at the end (``vaesae.report.hydra_callback``), and ``python -m vaesae.report`` any job's."""
    if any(PICTURES_OPTION.match(arg) for arg in hydra_cfg.overrides.task):
        return
    OmegaConf.update(cfg, "report.figures", False, force_add=True)


def finished_earlier(cfg: DictConfig, run_dir: Path) -> JobStatus | None:
    """A job that a resumed sweep (``checkpoint.resume=auto``) finds completed is not run again."""
    earlier = read_status(run_dir)
    if earlier is None or earlier.status != COMPLETED or OmegaConf.select(cfg, "checkpoint.resume", default=None) != AUTO:
        return None
    log.info("job %s completed in an earlier attempt; skipped", run_dir.name)
    return earlier


def finish(run_dir: Path, status: JobStatus, outcome: str, started: float, error: str | None = None) -> None:
    """Record how the job ended (its wall time summing every attempt) and refresh the sweep's summary."""
    status.status, status.error = outcome, error
    status.wall_time_s = total_wall_time(status, started)
    write_status(run_dir, status)
    refresh_summary(run_dir.parent)


def run_sweep_job(task: Callable[[], float | None], cfg: DictConfig, hydra_cfg: DictConfig) -> float | JobFailure | None:
    """Run ``task`` as one job of a multirun, with its CPU share, recording how it ended."""
    run_dir = Path(hydra_cfg.runtime.output_dir)
    done = finished_earlier(cfg, run_dir)
    if done is not None:
        return done.best_value
    if stop_requested(run_dir.parent) is not None:
        log.info("job %s not started: the sweep is stopping", run_dir.name)
        return None
    with worker_ignores_stop_signals():
        return run_recorded(task, cfg, hydra_cfg, run_dir)


def run_recorded(task: Callable[[], float | None], cfg: DictConfig, hydra_cfg: DictConfig, run_dir: Path):
    cpus = share_cpus(cfg, hydra_cfg.launcher)
    if cpus is not None:
        log.info("job %s: %d CPU thread(s)", hydra_cfg.job.num, cpus)
    status = start_status(cfg, hydra_cfg, run_dir)
    continue_earlier_attempt(cfg, status)
    leave_pictures_to_the_sweep(cfg, hydra_cfg)
    started = time.perf_counter()
    try:
        with heartbeat(run_dir, status, started):
            best_value = task()
    except Interrupted as stop:
        log.error("%s", stop)
        request_stop(run_dir.parent, stop.exit_code)
        finish(run_dir, status, INTERRUPTED, started, str(stop))
        return None
    except VaesaeError as error:
        log.error("%s", error)
        finish(run_dir, status, FAILED, started, str(error))
    except Exception as error:
        log.exception("job %s failed", run_dir.name)
        status.traceback = traceback.format_exc()
        finish(run_dir, status, FAILED, started, f"{type(error).__name__}: {error}")
    else:
        status.best_value = best_value
        finish(run_dir, status, COMPLETED, started)
    return JobFailure(run_dir.name, status.error) if status.status == FAILED else status.best_value
