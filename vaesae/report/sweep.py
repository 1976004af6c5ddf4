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
import textwrap

import numpy as np
import pandas as pd

from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.report.canvas import HIGHLIGHT, grid_shape, new_figure, save, wants_log_scale
from vaesae.engine.run_layout import COMPLETED, STATUS, JobRecord, sweep_records
from vaesae.report.run_folder import ReportError

RESULTS_FILE = "sweep_results.csv"
FIXED_COLUMNS = ("job", "status", "metric", "mode", "best_value", "best_epoch")
POINT_COLOR = "#1f77b4"
CATEGORY_SPREAD = 0.18
GRID_LEVELS = 8
LABEL_WIDTH = 110


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


def positions(values: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """x positions of a parameter's values, with the labels of its levels when it has levels.

    Numbers that vary freely (a search's ``interval``) are placed as they are. Categories, and
    numbers taken from a few levels that jobs share (a grid, a search's ``choice``), sit at evenly
    spaced levels with jobs of the same level spread a little, so that none hides another.
    """
    numbers = as_numbers(values)
    if numbers is not None and not is_grid(numbers):
        return numbers, None
    keys = list(numbers) if numbers is not None else list(values.astype(str))
    levels = sorted(set(keys))
    index = np.array([levels.index(key) for key in keys], dtype=float)
    spread = np.zeros_like(index)
    for value in np.unique(index):
        same = np.flatnonzero(index == value)
        if len(same) > 1:
            spread[same] = np.linspace(-CATEGORY_SPREAD, CATEGORY_SPREAD, len(same))
    return index + spread, [short(level) if numbers is None else f"{level:g}" for level in levels]


def is_grid(numbers: np.ndarray) -> bool:
    """Whether jobs share a few levels of the parameter rather than each taking its own value."""
    levels = len(np.unique(numbers))
    return levels <= GRID_LEVELS and levels < len(numbers)


def draw_parameter(axes, done: pd.DataFrame, key: str, best: np.ndarray, connect: bool) -> None:
    """One panel: the best value of every completed job against ``key``; the best job starred."""
    x, labels = positions(done[key])
    if labels is not None:
        axes.set_xticks(range(len(labels)), labels, rotation=30 if max(map(len, labels)) > 8 else 0)
    elif wants_log_scale(x, span=20):
        log_axis(axes)
    y = done["best_value"].to_numpy(dtype=float)
    if connect and labels is None:
        order = np.argsort(x)
        axes.plot(x[order], y[order], color=POINT_COLOR, linewidth=1, alpha=0.6)
    axes.scatter(x, y, color=POINT_COLOR, s=28, alpha=0.85, zorder=3)
    axes.scatter(x[best], y[best], marker="*", s=220, color=HIGHLIGHT, zorder=4)
    axes.margins(x=0.1, y=0.1)
    axes.ticklabel_format(axis="y", useOffset=False)
    axes.set_xlabel(key)


def log_axis(axes) -> None:
    """A log x axis labelled at 1, 2 and 5 times each power of ten in plain numbers, minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axes.set_xscale("log")
    axes.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.xaxis.set_minor_formatter(NullFormatter())


def scaled(values: pd.Series) -> tuple[np.ndarray, str, str]:
    """A parameter's values on [0, 1] for the parallel-coordinates view, with the labels of both ends."""
    numbers = as_numbers(values)
    if numbers is None:
        labels = sorted(values.astype(str).unique())
        index = values.astype(str).map(labels.index).to_numpy(dtype=float)
        return index / max(1, len(labels) - 1), labels[0], labels[-1]
    low, high = numbers.min(), numbers.max()
    scale = np.log10 if wants_log_scale(numbers, span=20) else (lambda v: v)
    span = scale(high) - scale(low)
    position = (scale(numbers) - scale(low)) / span if span else np.full_like(numbers, 0.5)
    return position, f"{low:.4g}", f"{high:.4g}"


def draw_parallel(axes, figure, done: pd.DataFrame, keys: list[str], best: np.ndarray, metric: str) -> None:
    """Every job as a line across one vertical axis per parameter, coloured by its best value."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    columns = [scaled(done[key]) for key in keys]
    y = np.column_stack([column[0] for column in columns])
    values = done["best_value"].to_numpy(dtype=float)
    norm = Normalize(values.min(), values.max())
    cmap = colormaps["viridis_r"]
    x = np.arange(len(keys))
    for row, value, is_best in zip(y, values, best):
        axes.plot(x, row, color=HIGHLIGHT if is_best else cmap(norm(value)), linewidth=2.6 if is_best else 1,
                  alpha=1 if is_best else 0.7, zorder=4 if is_best else 2)
    for i, (_, low, high) in enumerate(columns):
        axes.axvline(i, color="#555555", linewidth=0.8)
        axes.annotate(low, (i, 0), xytext=(0, -14), textcoords="offset points", ha="center", va="top", fontsize=8)
        axes.annotate(high, (i, 1), xytext=(0, 6), textcoords="offset points", ha="center", va="bottom", fontsize=8)
    axes.set_xticks(x, [key.rsplit(".", 1)[-1] for key in keys])
    axes.set_yticks([])
    axes.set_ylim(-0.08, 1.08)
    axes.grid(False)
    axes.set_title("all parameters at once (one line per job; low and high value at each axis)", fontsize=10)
    figure.colorbar(cmap_scalar(cmap, norm), ax=axes, label=f"best {metric}", pad=0.01)


def cmap_scalar(cmap, norm):
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=cmap)


def best_label(done: pd.DataFrame, best: np.ndarray, keys: list[str]) -> str:
    """``best: job 3 (beta=0.5, latent_dim=8) = 7.01``, wrapped to fit under the panels."""
    row = done[best].iloc[0]
    values = ", ".join(f"{key.rsplit('.', 1)[-1]}={short(row[key])}" for key in keys if key in row)
    return textwrap.fill(f"best: job {row['job']} ({values}) = {row['best_value']:.6g}", LABEL_WIDTH)


def short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def draw_sweep(table: pd.DataFrame, folder: Path, name: str) -> Path:
    """The picture of a results table (layout in the module docstring), saved as ``sweep_{metric}.png``."""
    figure, metric = sweep_figure(table, name)
    return save(figure, folder / f"sweep_{metric}.png")


def sweep_figure(table: pd.DataFrame, name: str):
    """The figure of a results table and its metric's name.

    One panel per swept parameter (two to a row), sharing one legend under them; with three or more
    parameters a parallel-coordinates view of all of them spans the bottom.
    """
    done = table[(table["status"] == COMPLETED) & np.isfinite(table["best_value"].astype(float))].reset_index(drop=True)
    known = table[table["metric"].notna() & (table["metric"].astype(str) != "")]
    metric = str(known["metric"].mode().iat[0]) if len(known) else "checkpoint.metric"
    mode = str(known["mode"].mode().iat[0]) if len(known) else "min"
    keys = swept_parameters(table) or ["job"]
    parallel = len(keys) >= 3 and len(done) > 1
    rows, cols = grid_shape(len(keys), 2)
    figure = new_figure(max(7.0, 5.4 * cols), 3.6 * (rows + parallel) + 1.6)
    grid = figure.add_gridspec(rows + parallel, cols)
    panels = [figure.add_subplot(grid[i // cols, i % cols]) for i in range(len(keys))]
    best_text = ""
    if len(done):
        values = done["best_value"].astype(float)
        best = (np.arange(len(done)) == (values.idxmin() if mode == "min" else values.idxmax()))
        for i, (axes, key) in enumerate(zip(panels, keys)):
            draw_parameter(axes, done, key, best, connect=len(keys) == 1)
            if i % cols == 0:
                axes.set_ylabel(f"best {metric} ({mode} is better)")
        if parallel:
            draw_parallel(figure.add_subplot(grid[rows, :]), figure, done, keys, best, metric)
        best_text = best_label(done, best, keys)
        figure.legend(handles=legend_handles(), labels=["a completed job", best_text], loc="outside lower center",
                      ncol=2, frameon=False)
    failed = len(table) - len(done)
    figure.suptitle(
        f"Sweep {name}\nbest {metric} of each job against the swept parameter{'s' if len(keys) > 1 else ''}\n"
        f"{len(done)} of {len(table)} jobs with a result" + (f" ({failed} without one, not shown)" if failed else "")
    )
    return figure, metric


def legend_handles() -> list:
    from matplotlib.lines import Line2D

    return [Line2D([], [], marker="o", linestyle="", color=POINT_COLOR),
            Line2D([], [], marker="*", linestyle="", markersize=14, color=HIGHLIGHT)]


def draw_sweep_figures(sweep_dir: Path, folder: Path) -> list[Path]:
    """Build the results table from the job folders, save it and its picture under ``folder``."""
    table = sweep_table(sweep_dir)
    folder.mkdir(parents=True, exist_ok=True)
    results = folder / RESULTS_FILE
    atomic_write_bytes(results, table.to_csv(index=False).encode())
    return [results, draw_sweep(read_sweep_results(results), folder, sweep_dir.name)]
