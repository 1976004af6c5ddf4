"""How many intra-op threads torch uses: ``experiment.threads: auto | N``.

torch starts one thread per core. The models here are small MLPs, whose
matrix products gain little from a second thread: on an idle machine a step
of a few million multiply-adds ran at most 10% faster on two, and on a machine
shared with other work a thread that waits for a busy core holds up every
step (``benchmarks/thread_counts.py`` measures this). ``auto``
therefore uses one thread below ``PARALLEL_WORK`` multiply-adds per step and
every usable CPU above it. Usable CPUs are the fewest of: the CPUs this
process may run on (``sched_getaffinity``), a cgroup CPU quota (containers,
Kubernetes limits), ``OMP_NUM_THREADS`` when set, a sweep job's share, and
the CPUs other work leaves idle, since a thread on a core another process keeps
busy holds up every step. Idle CPUs are measured when the run starts: the time
this process's CPUs spend busy over ``IDLE_PROBE_SECONDS``, less this process's
own CPU time (``/proc/stat``; the 1-minute load average where that cannot be
read, which still counts work that ended up to a minute ago).
A number is used as given, within a sweep job's share.
"""
from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch

log = logging.getLogger("vaesae")

AUTO = "auto"
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_STAT = Path("/proc/stat")
IDLE_PROBE_SECONDS = 0.2
# /proc/stat fields after the CPU name that count time spent on work: user, nice, system, irq, softirq, steal.
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)
# Multiply-adds of one forward pass (weights x batch rows) from which more idle threads trained 16% faster or more.
PARALLEL_WORK = 10_000_000

_job_share: int | None = None


def limit_to_share(cpus: int) -> None:
    """Record a sweep job's CPU share, which every later thread choice in this process stays within."""
    global _job_share
    _job_share = cpus
    torch.set_num_threads(cpus)


def cgroup_cpu_quota(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs a cgroup CPU quota allows (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``); None when there is no quota."""
    v2 = root / "cpu.max"
    if v2.is_file():
        quota, period = v2.read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    for folder in ("cpu", "cpu,cpuacct"):
        quota_file, period_file = root / folder / "cpu.cfs_quota_us", root / folder / "cpu.cfs_period_us"
        if quota_file.is_file() and period_file.is_file():
            quota = int(quota_file.read_text())
            return None if quota <= 0 else quota / int(period_file.read_text())
    return None


def omp_threads(env: Mapping[str, str]) -> int | None:
    """``OMP_NUM_THREADS`` when it is a positive whole number (what OpenMP itself would honour)."""
    value = env.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


@dataclass(frozen=True)
class CpuLimits:
    """What bounds this process's threads; ``usable`` is the tightest of them."""

    affinity: int
    quota: float | None = None
    omp: int | None = None
    share: int | None = None
    idle: int | None = None

    @property
    def usable(self) -> int:
        bounds = [self.affinity, self.omp, self.share, self.idle, math.ceil(self.quota) if self.quota else None]
        return max(1, min(bound for bound in bounds if bound is not None))

    def describe(self) -> str:
        parts = [f"{self.affinity} CPU(s) to run on"]
        if self.quota is not None:
            parts.append(f"cgroup quota {self.quota:g} CPU(s)")
        if self.omp is not None:
            parts.append(f"OMP_NUM_THREADS={self.omp}")
        if self.share is not None:
            parts.append(f"sweep job share {self.share}")
        if self.idle is not None:
            parts.append(f"{self.idle} left idle by other work")
        return ", ".join(parts)


def idle_cpus(cpus: int, busy: float) -> int:
    """CPUs that other work leaves idle when it keeps ``busy`` CPUs' worth busy (at least one)."""
    return max(1, cpus - round(busy))


def busy_seconds(stat_text: str, cpus: set[int]) -> float:
    """Seconds the CPUs ``cpus`` have spent on work since boot, from the text of ``/proc/stat``."""
    ticks = 0
    for line in stat_text.splitlines():
        name, *fields = line.split() or [""]
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            ticks += sum(int(fields[i]) for i in BUSY_FIELDS if i < len(fields))
    return ticks / os.sysconf("SC_CLK_TCK")


def busy_elsewhere(cpus: set[int], seconds: float = IDLE_PROBE_SECONDS, stat: Path = PROC_STAT) -> float | None:
    """CPUs' worth of work other processes ran on ``cpus`` over the next ``seconds``; None without ``/proc/stat``."""
    try:
        before, own_before = busy_seconds(stat.read_text(), cpus), time.process_time()
        time.sleep(seconds)
        after, own_after = busy_seconds(stat.read_text(), cpus), time.process_time()
    except OSError:
        return None
    return max(0.0, (after - before) - (own_after - own_before)) / seconds


def measured_idle_cpus(cpus: set[int]) -> int:
    busy = busy_elsewhere(cpus)
    return idle_cpus(len(cpus), os.getloadavg()[0] if busy is None else busy)


def current_limits(env: Mapping[str, str] | None = None, cgroup_root: Path = CGROUP_ROOT,
                   measure_idle: bool = True) -> CpuLimits:
    """What bounds threads now; ``measure_idle`` takes ``IDLE_PROBE_SECONDS`` to see how busy the CPUs are."""
    cpus = os.sched_getaffinity(0)
    return CpuLimits(
        affinity=len(cpus),
        quota=cgroup_cpu_quota(cgroup_root),
        omp=omp_threads(os.environ if env is None else env),
        share=_job_share,
        idle=measured_idle_cpus(cpus) if measure_idle else None,
    )


def step_work(model: torch.nn.Module, batch_size: int) -> int:
    """Multiply-adds of one forward pass: every weight matrix's entries times the rows of a batch."""
    return batch_size * sum(p.numel() for p in model.parameters() if p.dim() >= 2)


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    reason: str


def given_threads(setting: int, share: int | None) -> ThreadChoice:
    """A number from the config, lowered to a sweep job's share so jobs never oversubscribe the machine."""
    if share is not None and setting > share:
        return ThreadChoice(share, f"experiment.threads={setting} lowered to this sweep job's share of the CPUs")
    return ThreadChoice(setting, f"experiment.threads={setting}")


def auto_uses_every_cpu(setting: int | str | None, work: int) -> bool:
    """Whether ``setting`` is ``auto`` and a step of ``work`` multiply-adds is large enough for more threads."""
    return setting in (None, AUTO) and work >= PARALLEL_WORK


def choose_threads(setting: int | str | None, work: int, limits: CpuLimits) -> ThreadChoice:
    """The intra-op thread count for ``setting`` (``auto`` or a number) and a step of ``work`` multiply-adds."""
    if setting not in (None, AUTO):
        return given_threads(int(setting), limits.share)
    if not auto_uses_every_cpu(setting, work):
        return ThreadChoice(1, f"auto: {work:,} multiply-adds per step, below {PARALLEL_WORK:,} where more threads pay off")
    return ThreadChoice(limits.usable, f"auto: {work:,} multiply-adds per step; every usable CPU ({limits.describe()})")


def apply_threads(setting: int | str | None, model: torch.nn.Module, batch_size: int) -> int:
    """Set torch's intra-op threads for this run and log the choice once; returns the count."""
    work = step_work(model, batch_size)
    choice = choose_threads(setting, work, current_limits(measure_idle=auto_uses_every_cpu(setting, work)))
    torch.set_num_threads(choice.threads)
    log.info("torch threads: %d (%s)", choice.threads, choice.reason)
    return choice.threads
