"""The sweep summary: one row per job, best first, as ``summary.csv`` and as a table for the terminal.

Everything comes from the job folders (``status.json``, ``metrics.jsonl``,
``checkpoints/``), so the summary is the same whichever launcher ran the jobs
and wherever they ran, as long as the sweep folder is shared with them.
"""
from __future__ import annotations

import csv
import io
import math
from collections import Counter
from pathlib import Path

from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.engine.run_layout import FAILED, INTERRUPTED, LOG, NOT_STARTED, JobRecord, read_plan, sweep_records

SUMMARY_CSV = "summary.csv"
TABLE_METRICS = ("train_loss",)


def collect(sweep_dir: Path) -> list[JobRecord]:
    """Every job of the sweep, started or only planned, best first."""
    return sweep_records(sweep_dir)


def swept_keys(rows: list[JobRecord]) -> list[str]:
    """The keys the sweep varies, in the order they were first met."""
    return list(dict.fromkeys(key for row in rows for key in row.status.values))


def csv_rows(rows: list[JobRecord]) -> list[list[object]]:
    final_names = sorted({name for row in rows for name in row.result.final})
    keys = swept_keys(rows)
    header = ["rank", "job", "status", *keys, "metric", "best", "best_epoch", "epochs", "wall_time_s", "attempts",
              "checkpoint", "error", "overrides", *(f"final_{name}" for name in final_names)]
    body = [
        [rank, row.folder.name, row.state, *(row.status.values.get(key) for key in keys), row.status.metric,
         row.result.best, row.result.best_epoch, row.result.epochs, row.status.wall_time_s,
         row.status.attempt if row.state != NOT_STARTED else 0, row.result.checkpoint or "", row.status.error or "",
         " ".join(row.status.overrides), *(row.result.final.get(name) for name in final_names)]
        for rank, row in enumerate(rows, 1)
    ]
    return [header, *body]


def write_csv(rows: list[JobRecord], path: Path) -> Path:
    """``summary.csv``, replaced atomically: it is rewritten as each job ends, and read meanwhile."""
    text = io.StringIO()
    csv.writer(text).writerows(csv_rows(rows))
    atomic_write_bytes(path, text.getvalue().encode())
    return path


def number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def table_lines(rows: list[JobRecord], sweep_dir: Path) -> list[list[str]]:
    metric = next((row.status.metric for row in rows if row.status.metric), "metric")
    shown = [name for name in TABLE_METRICS if name != metric] + [metric]
    header = ["#", "job", "status", f"best {metric}", "best epoch", "epochs",
              *(f"final {name}" for name in shown), "wall s", "checkpoint"]
    body = [
        [str(rank), row.folder.name, row.state, number(row.result.best), number(row.result.best_epoch),
         str(row.result.epochs), *(number(row.result.final.get(name)) for name in shown), number(row.status.wall_time_s),
         str(row.result.checkpoint.relative_to(sweep_dir)) if row.result.checkpoint else "-"]
        for rank, row in enumerate(rows, 1)
    ]
    return [header, *body]


def format_table(rows: list[JobRecord], sweep_dir: Path) -> str:
    """Aligned columns, then one line per failed job with its error and where its log is."""
    lines = table_lines(rows, sweep_dir)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    for row in rows:
        if row.state in (FAILED, INTERRUPTED):
            error = " ".join(line.strip() for line in (row.status.error or "did not finish").splitlines())
            text.append(f"{row.folder.name} {row.state}: {error} (log: {row.folder / LOG})")
    command = read_plan(sweep_dir).get("command")
    if command and any(row.state in (INTERRUPTED, NOT_STARTED) for row in rows):
        text.append(f"continue this sweep with: {command}")
    return "\n".join([f"sweep {sweep_dir}: {len(rows)} job(s) ({state_counts(rows)})", *text])


def state_counts(rows: list[JobRecord]) -> str:
    """``2 completed, 1 running``: how many jobs stand where."""
    counts = Counter(row.state for row in rows)
    return ", ".join(f"{n} {state}" for state, n in counts.items())


def refresh_summary(sweep_dir: Path) -> list[JobRecord]:
    """Rewrite ``summary.csv`` and print the table as the sweep stands now; the jobs, best first."""
    rows = collect(sweep_dir)
    if rows:
        write_csv(rows, sweep_dir / SUMMARY_CSV)
        print(format_table(rows, sweep_dir), flush=True)
    return rows
