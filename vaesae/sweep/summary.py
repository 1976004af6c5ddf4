"""The sweep summary: one row per job, best first, as ``summary.csv`` and as a table for the terminal.

Everything comes from the job folders (``status.json``, ``metrics.jsonl``,
``checkpoints/``), so the summary is the same whichever launcher ran the jobs
and wherever they ran, as long as the sweep folder is shared with them.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from vaesae.engine.checkpointing import BEST, LAST
from vaesae.engine.metrics_file import read_metrics
from vaesae.engine.improvement import best_row
from vaesae.sweep.status import COMPLETED, STATUS_FILE, JobStatus, read_status

SUMMARY_CSV = "summary.csv"
TABLE_METRICS = ("train_loss",)


@dataclass
class JobRow:
    status: JobStatus
    best: float | None = None
    best_epoch: int | None = None
    final: dict[str, float | None] = field(default_factory=dict)
    epochs: int = 0
    checkpoint: Path | None = None

    @property
    def succeeded(self) -> bool:
        return self.status.status == COMPLETED


def job_row(run_dir: Path, status: JobStatus) -> JobRow:
    metrics_path = run_dir / "metrics.jsonl"
    lines = read_metrics(metrics_path) if metrics_path.is_file() else []
    best = best_row(lines, status.metric, status.mode or "min") if status.metric else None
    checkpoints = [run_dir / "checkpoints" / name for name in (BEST, LAST)]
    checkpoint = next((path for path in checkpoints if path.is_file()), None)
    return JobRow(status, best[status.metric] if best else None, int(best["epoch"]) if best else None,
                  lines[-1] if lines else {}, len(lines), checkpoint)


def sort_key(row: JobRow) -> tuple[int, float, int]:
    """Completed jobs with a value first, best first; then the rest, in job order."""
    if not row.succeeded or row.best is None:
        return (1 if row.succeeded else 2, 0.0, row.status.num)
    return (0, row.best if row.status.mode != "max" else -row.best, row.status.num)


def collect(sweep_dir: Path) -> list[JobRow]:
    """Every job folder of the sweep that has a ``status.json``, best first."""
    rows = []
    for status_path in sweep_dir.glob(f"*/{STATUS_FILE}"):
        status = read_status(status_path.parent)
        if status is not None:
            rows.append(job_row(status_path.parent, status))
    return sorted(rows, key=sort_key)


def write_csv(rows: list[JobRow], path: Path) -> Path:
    final_names = sorted({name for row in rows for name in row.final})
    header = ["rank", "job", "status", "overrides", "metric", "best", "best_epoch", "epochs", "wall_time_s",
              "checkpoint", "error", *(f"final_{name}" for name in final_names)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for rank, row in enumerate(rows, 1):
            s = row.status
            writer.writerow([
                rank, s.folder, s.status, " ".join(s.overrides), s.metric, row.best, row.best_epoch, row.epochs,
                s.wall_time_s, row.checkpoint or "", s.error or "", *(row.final.get(name) for name in final_names),
            ])
    return path


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def table_lines(rows: list[JobRow], sweep_dir: Path) -> list[list[str]]:
    metric = next((row.status.metric for row in rows if row.status.metric), "metric")
    shown = [name for name in TABLE_METRICS if name != metric] + [metric]
    header = ["#", "job", "status", f"best {metric}", "best epoch", "epochs",
              *(f"final {name}" for name in shown), "wall s", "checkpoint"]
    body = [
        [str(rank), row.status.folder, row.status.status, number(row.best), number(row.best_epoch), str(row.epochs),
         *(number(row.final.get(name)) for name in shown), number(row.status.wall_time_s),
         str(row.checkpoint.relative_to(sweep_dir)) if row.checkpoint else "-"]
        for rank, row in enumerate(rows, 1)
    ]
    return [header, *body]


def format_table(rows: list[JobRow], sweep_dir: Path) -> str:
    """Aligned columns, then one line per failed job with its error and where its log is."""
    lines = table_lines(rows, sweep_dir)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    for row in rows:
        if not row.succeeded:
            error = " ".join(line.strip() for line in (row.status.error or "did not finish").splitlines())
            text.append(f"{row.status.folder} {row.status.status}: {error} (log: {sweep_dir / row.status.folder / 'vaesae.log'})")
    return "\n".join([f"sweep {sweep_dir}: {len(rows)} job(s)", *text])
