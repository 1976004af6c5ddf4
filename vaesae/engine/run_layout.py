"""What a run folder holds and how to read it: the one place that knows its layout.

A run folder (a single run, or one job of a sweep) holds::

    config.yaml       the resolved config of the training run
    metrics.jsonl     one JSON line per epoch
    status.json       how a sweep job ran and ended (sweep jobs only)
    checkpoints/      best_model.pt, last_model.pt, epoch_N.pt
    resume_state.pt   the state a run resumes from

Every reader here is tolerant of what a kill leaves behind: a line of
``metrics.jsonl`` cut short is skipped, an unreadable ``status.json`` reads as
none, and a job whose ``status.json`` still says ``running`` although its
process is gone is ``interrupted``.
"""
from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.engine.checkpointing import BEST, LAST, resume_state_path
from vaesae.engine.improvement import best_row
from vaesae.engine.metrics_file import read_metrics
from vaesae.errors import CheckpointError

CONFIG, METRICS, STATUS, CHECKPOINTS, LOG = "config.yaml", "metrics.jsonl", "status.json", "checkpoints", "vaesae.log"
RUNNING, COMPLETED, FAILED, INTERRUPTED, NOT_STARTED = "running", "completed", "failed", "interrupted", "not started"
EPOCH_FILE = re.compile(r"^epoch_([0-9]+)\.pt$")
SWEEP_PLAN = "sweep.json"


def checkpoint_folder(path: Path) -> Path:
    """``path/checkpoints`` for a run folder, ``path`` itself for a ``checkpoints/`` folder."""
    return path / CHECKPOINTS if (path / CHECKPOINTS).is_dir() else path


def numbered_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """``epoch_N.pt`` files of a ``checkpoints/`` folder, oldest first."""
    return sorted((int(m.group(1)), p) for p in folder.glob("epoch_*.pt") if (m := EPOCH_FILE.match(p.name)))


def model_checkpoint(run_dir: Path) -> Path | None:
    """The run's model: ``best_model.pt``, else ``last_model.pt``, else the highest ``epoch_N.pt``; None when none."""
    folder = checkpoint_folder(run_dir)
    for candidate in (folder / BEST, folder / LAST):
        if candidate.is_file():
            return candidate
    numbered = numbered_checkpoints(folder)
    return numbered[-1][1] if numbered else None


def resume_checkpoint(path: Path) -> Path | None:
    """Where training continues from: the resume state, else ``last_model.pt``, else the highest
    ``epoch_N.pt``, else ``best_model.pt``; None when there is none."""
    folder = checkpoint_folder(path)
    for candidate in (resume_state_path(folder), folder / LAST):
        if candidate.is_file():
            return candidate
    numbered = numbered_checkpoints(folder)
    if numbered:
        return numbered[-1][1]
    return folder / BEST if (folder / BEST).is_file() else None


def strategy_checkpoint(path: Path, load_strategy: str) -> Path:
    """The file ``checkpoint.load_strategy`` names (``best``, ``last``, ``epoch_N``) in a run or ``checkpoints/`` folder."""
    folder = checkpoint_folder(path)
    candidate = folder / {"best": BEST, "last": LAST}.get(load_strategy, f"{load_strategy}.pt")
    if not candidate.is_file():
        present = ", ".join(sorted(p.name for p in folder.glob("*.pt"))) or "none"
        raise CheckpointError(
            f"checkpoint.load_strategy: {load_strategy!r} needs {candidate}, which does not exist; checkpoints there: {present}"
        )
    return candidate


def run_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete line of the run's ``metrics.jsonl`` (none when the file does not exist)."""
    path = run_dir / METRICS
    return read_metrics(path) if path.is_file() else []


@dataclass
class JobStatus:
    """``status.json``: what a sweep job ran, how it ended, and why it failed."""

    num: int
    folder: str
    overrides: list[str]
    metric: str | None = None
    mode: str | None = None
    status: str = RUNNING
    best_value: float | None = None
    wall_time_s: float | None = None
    error: str | None = None
    traceback: str | None = None
    attempt: int = 1
    host: str = ""
    pid: int = 0
    earlier_wall_time_s: float = 0.0
    values: dict[str, Any] = field(default_factory=dict)


def write_status(run_dir: Path, status: JobStatus) -> None:
    """Atomic, so a reader never sees half a file."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(run_dir / STATUS, json.dumps(asdict(status), indent=2).encode())


def read_status(run_dir: Path) -> JobStatus | None:
    """The job's ``status.json``; None when it is missing or unreadable."""
    try:
        return JobStatus(**json.loads((run_dir / STATUS).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def process_alive(host: str, pid: int) -> bool:
    """Whether the process that wrote a status still runs; one on another host is taken to run."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def job_state(status: JobStatus | None) -> str:
    """The one meaning of a job's status: ``running`` only while its process lives; a vanished one is ``interrupted``."""
    if status is None:
        return NOT_STARTED
    if status.status == RUNNING and not process_alive(status.host, status.pid):
        return INTERRUPTED
    return status.status


@dataclass
class RunResult:
    """A run's outcome as its folder tells it: best value of its metric, epochs, final metrics, model file."""

    best: float | None
    best_epoch: int | None
    final: dict[str, Any]
    epochs: int
    checkpoint: Path | None


def run_result(run_dir: Path, metric: str | None, mode: str | None) -> RunResult:
    lines = run_metrics(run_dir)
    best = best_row(lines, metric, mode or "min") if metric else None
    return RunResult(
        best[metric] if best else None, int(best["epoch"]) if best else None,
        lines[-1] if lines else {}, len(lines), model_checkpoint(run_dir),
    )


@dataclass
class JobRecord:
    """One job of a sweep as its folder tells it: ``status.json``, its true state and its results."""

    folder: Path
    status: JobStatus
    state: str
    result: RunResult

    @property
    def succeeded(self) -> bool:
        return self.state == COMPLETED

    def rank_key(self) -> tuple[int, float, int]:
        """Completed jobs with a value first, best first; then the rest, in job order."""
        best = self.result.best
        if not self.succeeded or best is None:
            return (1 if self.succeeded else 2, 0.0, self.status.num)
        return (0, best if self.status.mode != "max" else -best, self.status.num)


def job_record(folder: Path, status: JobStatus | None = None) -> JobRecord:
    """The record of a job folder; ``status`` stands in for a job that never wrote one (not started)."""
    written = read_status(folder)
    status = written or status or JobStatus(num=-1, folder=folder.name, overrides=[])
    return JobRecord(folder, status, job_state(written), run_result(folder, status.metric, status.mode))


def read_plan(sweep_dir: Path) -> dict[str, Any]:
    """The sweep's ``sweep.json`` (its command and planned jobs); empty when missing or unreadable."""
    try:
        plan = json.loads((sweep_dir / SWEEP_PLAN).read_text())
    except (OSError, ValueError):
        return {}
    return plan if isinstance(plan, dict) else {}


def placeholder_statuses(plan: dict[str, Any]) -> list[JobStatus]:
    """Placeholders for the jobs the plan lists, as they stand before they start."""
    jobs = plan.get("jobs") or []
    return [JobStatus(num=int(job["num"]), folder=job["folder"], overrides=list(job["overrides"]),
                      metric=plan.get("metric"), mode=plan.get("mode"), status=NOT_STARTED, values=job.get("values") or {})
            for job in jobs if isinstance(job, dict)]


def is_sweep(path: Path) -> bool:
    return (path / SWEEP_PLAN).is_file() or any(path.glob(f"*/{STATUS}"))


def sweep_records(sweep_dir: Path) -> list[JobRecord]:
    """Every job of a sweep, started or only planned, best first."""
    records = {p.parent.name: job_record(p.parent) for p in sweep_dir.glob(f"*/{STATUS}")}
    for planned in placeholder_statuses(read_plan(sweep_dir)):
        if planned.folder not in records:
            records[planned.folder] = job_record(sweep_dir / planned.folder, planned)
    return sorted(records.values(), key=JobRecord.rank_key)


def best_job(sweep_dir: Path) -> JobRecord | None:
    """The sweep's best completed job by its ``checkpoint.metric``; None while none has a value."""
    ranked = [record for record in sweep_records(sweep_dir) if record.succeeded and record.result.best is not None]
    return ranked[0] if ranked else None


def owning_run(path: Path) -> Path:
    """The run folder ``checkpoint.path`` points into: a checkpoint file's run, a sweep's best job, else ``path``."""
    if path.is_file():
        return path.parent.parent if path.parent.name == CHECKPOINTS else path.parent
    if path.name == CHECKPOINTS:
        return path.parent
    if path.is_dir() and is_sweep(path):
        record = best_job(path)
        return record.folder if record else path
    return path
