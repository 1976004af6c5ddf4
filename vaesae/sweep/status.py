"""``status.json`` in each job folder: what the job ran, how it ended, and why it failed.

Written when the job starts (``running``) and again when it ends, so a job
that never got to finish (killed, preempted) still shows up in the summary.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from vaesae.atomic_files import atomic_write_bytes

STATUS_FILE = "status.json"
RUNNING, COMPLETED, FAILED, INTERRUPTED = "running", "completed", "failed", "interrupted"


@dataclass
class JobStatus:
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


def write_status(run_dir: Path, status: JobStatus) -> None:
    """Atomic, so a reader never sees half a file."""
    atomic_write_bytes(run_dir / STATUS_FILE, json.dumps(asdict(status), indent=2).encode())


def read_status(run_dir: Path) -> JobStatus | None:
    try:
        return JobStatus(**json.loads((run_dir / STATUS_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
