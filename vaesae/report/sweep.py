"""Sweep pictures: the best value of ``checkpoint.metric`` of every job against each swept parameter.

The plot reads a results table with one row per job and these columns:

``job``         the job's folder name (Hydra's job number)
``status``      ``completed`` when the job has a finite best value, anything else otherwise
``metric``      the job's ``checkpoint.metric``
``mode``        ``min`` or ``max``: which way is better
``best_value``  the best value of that metric over the job's epochs
``best_epoch``  the epoch it was reached
any other       one column per swept key (``train.loss.params.beta``), holding the job's exact value

``sweep_table`` builds that table from the job folders of a sweep (their
``status.json`` and ``metrics.jsonl``, read by ``vaesae.engine.run_layout``),
so the picture needs nothing but what the jobs wrote; the table is saved beside it.
"""
from __future__ import annotations

from pathlib import Path

import math

import numpy as np
import pandas as pd

from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.report.canvas import HIGHLIGHT, grid_shape, new_figure, save, wants_log_scale
from vaesae.engine.run_layout import COMPLETED, STATUS, JobRecord, sweep_records
from vaesae.report.run_folder import ReportError

RESULTS_FILE = "sweep_results.csv"
FIXED_COLUMNS = ("job", "status", "metric", "mode", "best_value", "best_epoch")
POINT_COLOR = "#1f77b4"
MAX_ANNOTATED = 12


def job_folders(sweep_dir: Path) -> list[Path]:
    """The folders of a sweep's jobs that have started, in job-number order."""
    records = sweep_records(sweep_dir) if sweep_dir.is_dir() else []
    return [r.folder for r in sorted(records, key=lambda r: r.status.num) if r.folder.is_dir()]


def job_row(record: JobRecord) -> dict[str, object]:
    """A job's row in the results table: ``completed`` only for a finished job with a finite best value."""
    best = record.result.best
    done = record.succeeded and best is not None and math.isfinite(best)
    return {"job": record.folder.name, "status": COMPLETED if done else record.state,
            "metric": record.status.metric or "", "mode": record.status.mode or "",
            "best_value": best if best is not None else np.nan,
            "best_epoch": record.result.best_epoch if record.result.best_epoch is not None else np.nan,
            **record.status.values}


def sweep_table(sweep_dir: Path) -> pd.DataFrame:
    records = sorted(sweep_records(sweep_dir), key=lambda r: r.status.num) if sweep_dir.is_dir() else []
    if not records:
        raise ReportError(f"{sweep_dir}: no sweep jobs found (sub-folders with {STATUS})")
    return pd.DataFrame([job_row(record) for record in records])


def read_sweep_results(path: Path) -> pd.DataFrame:
    """A results table in the layout above, from CSV."""
    table = pd.read_csv(path, dtype={"job": str})
    missing = [c for c in FIXED_COLUMNS if c not in table.columns]
    if missing:
        raise ReportError(f"{path}: not a sweep results table (missing column(s) {', '.join(missing)})")
    return table


def swept_parameters(table: pd.DataFrame) -> list[str]:
    """Override keys whose value differs between jobs (all override keys when none does)."""
    keys = [c for c in table.columns if c not in FIXED_COLUMNS]
    varying = [k for k in keys if table[k].astype(str).nunique() > 1]
    return varying or keys


def as_numbers(values: pd.Series) -> np.ndarray | None:
    numbers = pd.to_numeric(values, errors="coerce")
    bools = values.map(lambda v: isinstance(v, (bool, np.bool_))).any()
    return None if bools or numbers.isna().any() else numbers.to_numpy(dtype=float)


def draw_parameter(axes, done: pd.DataFrame, key: str, best_job: str, connect: bool) -> None:
    numbers = as_numbers(done[key])
    if numbers is None:
        labels = sorted(done[key].astype(str).unique())
        x = done[key].astype(str).map(labels.index).to_numpy(dtype=float)
        axes.set_xticks(range(len(labels)), labels, rotation=30 if max(map(len, labels)) > 8 else 0)
    else:
        x = numbers
        if wants_log_scale(x, span=20):
            axes.set_xscale("log")
    y = done["best_value"].to_numpy(dtype=float)
    if connect and numbers is not None:
        order = np.argsort(x)
        axes.plot(x[order], y[order], color=POINT_COLOR, linewidth=1, alpha=0.6)
    axes.scatter(x, y, color=POINT_COLOR, s=30, zorder=3)
    best = (done["job"] == best_job).to_numpy()
    value = done.loc[best, key].iat[0] if best.any() else ""
    axes.scatter(x[best], y[best], marker="*", s=220, color=HIGHLIGHT, zorder=4, label=f"best: job {best_job} ({key.rsplit('.', 1)[-1]}={value})")
    axes.margins(x=0.12, y=0.12)
    if len(x) <= MAX_ANNOTATED:
        for xi, yi in zip(x, y):
            axes.annotate(f"{yi:.4g}", (xi, yi), textcoords="offset points", xytext=(6, 6), fontsize=8)
    axes.set_xlabel(key)
    axes.legend(loc="best")


def draw_sweep(table: pd.DataFrame, folder: Path, name: str) -> Path:
    """The picture of a results table (layout in the module docstring), saved as ``sweep_{metric}.png``."""
    done = table[table["status"] == COMPLETED].copy()
    known = table[table["metric"].notna() & (table["metric"].astype(str) != "")]
    metric = str(known["metric"].mode().iat[0]) if len(known) else "checkpoint.metric"
    mode = str(known["mode"].mode().iat[0]) if len(known) else "min"
    keys = swept_parameters(table) or ["job"]
    rows, cols = grid_shape(len(keys), 3)
    figure = new_figure(max(7.5, 4.6 * cols), 3.9 * rows + 0.7)
    panels = figure.subplots(rows, cols, squeeze=False).ravel()
    best_job = ""
    if len(done):
        values = done["best_value"].astype(float)
        best_job = str(done.loc[values.idxmin() if mode == "min" else values.idxmax(), "job"])
        for axes, key in zip(panels, keys):
            draw_parameter(axes, done, key, best_job, connect=len(keys) == 1)
            axes.set_ylabel(f"best {metric} ({mode} is better)")
    for axes in panels[len(keys) if len(done) else 0:]:
        axes.set_visible(False)
    failed = len(table) - len(done)
    figure.suptitle(
        f"Sweep {name}: best {metric} of each job against the swept parameter{'s' if len(keys) > 1 else ''}\n"
        f"{len(done)} of {len(table)} jobs completed" + (f" ({failed} without a result, not shown)" if failed else "")
        + (f"; best: job {best_job}" if best_job else "")
    )
    return save(figure, folder / f"sweep_{metric}.png")


def draw_sweep_figures(sweep_dir: Path, folder: Path) -> list[Path]:
    """Build the results table from the job folders, save it and its picture under ``folder``."""
    table = sweep_table(sweep_dir)
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / RESULTS_FILE
    atomic_write_bytes(results, table.to_csv(index=False).encode())
    return [results, draw_sweep(read_sweep_results(results), folder, sweep_dir.name)]
