"""Keeping jobs that run side by side within their share of the CPUs.

Each job gets the CPUs its launcher allots it (with joblib, ``cores // n_jobs``,
at least one): that many torch and Arrow threads, and data loader workers only from what
is left of its share. Left alone, every job would start one thread per core and
the jobs would spend their time fighting over the cores.
"""
from __future__ import annotations

import logging
import os

import joblib
import pyarrow as pa
from omegaconf import DictConfig, OmegaConf

from vaesae.engine.threads import limit_to_share

log = logging.getLogger("vaesae")

SPLITS = ("train", "val", "test")


def parallel_jobs(n_jobs: int, cores: int) -> int:
    """joblib's meaning of ``n_jobs``: -1 is all cores, -2 all but one, and so on."""
    return max(1, n_jobs if n_jobs > 0 else cores + 1 + n_jobs)


def cpus_per_job(n_jobs: int, cores: int) -> int:
    return max(1, cores // parallel_jobs(n_jobs, cores))


def cap_loader_workers(cfg: DictConfig, limit: int) -> None:
    """Lower each split's ``loader_params.num_workers`` to ``limit``, saying so."""
    for split in SPLITS:
        params = OmegaConf.select(cfg, f"{split}.loader_params", default=None, throw_on_resolution_failure=False)
        workers = params.get("num_workers") if isinstance(params, DictConfig) else None
        if isinstance(workers, int) and workers > limit:
            log.warning("%s.loader_params.num_workers=%d lowered to %d: this job's share of the CPUs", split, workers, limit)
            params.num_workers = limit


def cpu_share(launcher: DictConfig | None, cores: int) -> int | None:
    """This job's CPUs as its launcher allots them; None for a launcher that runs one job at a time.

    joblib: ``cores // n_jobs``; submitit: ``cpus_per_task``; Ray: ``ray.remote.num_cpus``.
    """
    if launcher is None:
        return None
    if isinstance(launcher.get("n_jobs"), int):
        return cpus_per_job(launcher.n_jobs, cores)
    allotted = launcher.get("cpus_per_task") or OmegaConf.select(launcher, "ray.remote.num_cpus", default=None)
    return max(1, int(allotted)) if allotted else None


def share_cpus(cfg: DictConfig, launcher: DictConfig | None) -> int | None:
    """Keep this job within its CPU share (torch and Arrow threads, loader workers, no progress bars); return it."""
    cpus = cpu_share(launcher, joblib.cpu_count())
    if cpus is None:
        return None
    limit_to_share(cpus)
    pa.set_cpu_count(cpus)
    cap_loader_workers(cfg, cpus - 1)
    os.environ["TQDM_DISABLE"] = "1"  # bars of jobs running side by side would garble the terminal
    return cpus
