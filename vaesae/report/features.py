"""SAE pictures: how often each feature fires, and how many fire per row."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaesae.report.canvas import HIGHLIGHT, MUTED, new_figure, save
from vaesae.report.model_view import ModelView

DENSITY_FILE, L0_FILE = "sae_feature_density.png", "sae_l0.png"
DENSE_THRESHOLD = 0.1
MAX_KEPT_VALUES = 50_000_000
BAR_COLOR = "#1f77b4"


@dataclass
class Activations:
    """Feature statistics over every row of the split, and the activations themselves for ``kept`` rows.

    Counts and L0 cover all rows; the activation matrix is kept for at most
    ``MAX_KEPT_VALUES`` values (a fixed random subset of rows beyond that), which
    is what the feature cards rank rows on.
    """

    counts: np.ndarray
    totals: np.ndarray
    l0: np.ndarray
    kept: np.ndarray
    values: np.ndarray

    @property
    def rows(self) -> int:
        return self.l0.size

    @property
    def density(self) -> np.ndarray:
        """Fraction of rows on which each feature is non-zero."""
        return self.counts / max(self.rows, 1)

    @property
    def dead(self) -> int:
        return int((self.counts == 0).sum())

    @property
    def dense(self) -> int:
        return int((self.density > DENSE_THRESHOLD).sum())


def kept_rows(rows: int, width: int) -> np.ndarray:
    limit = max(1, MAX_KEPT_VALUES // max(width, 1))
    return np.arange(rows) if rows <= limit else np.sort(np.random.default_rng(0).choice(rows, limit, replace=False))


def collect_activations(view: ModelView) -> Activations:
    counts = totals = kept = None
    l0, values, start = [], [], 0
    for batch_values in view.outputs(lambda batch, output: output["features"].float().cpu().numpy()):
        if counts is None:
            counts, totals = np.zeros(batch_values.shape[1], np.int64), np.zeros(batch_values.shape[1])
            kept = kept_rows(view.rows, batch_values.shape[1])
        active = batch_values != 0
        counts += active.sum(axis=0)
        totals += batch_values.sum(axis=0, dtype=np.float64)
        l0.append(active.sum(axis=1))
        lo, hi = np.searchsorted(kept, [start, start + len(batch_values)])
        values.append(batch_values[kept[lo:hi] - start])
        start += len(batch_values)
    return Activations(counts, totals, np.concatenate(l0), kept, np.concatenate(values))


def draw_density(activations: Activations, view: ModelView, folder: Path) -> Path:
    density = activations.density
    live = density[density > 0]
    figure = new_figure(7.5, 4.2)
    axes = figure.subplots()
    lowest = min(DENSE_THRESHOLD / 10, live.min() if live.size else 1.0)
    bins = np.logspace(np.log10(lowest) - 0.05, 0.0, 31)
    axes.hist(live, bins=bins, color=BAR_COLOR, edgecolor="white", label=f"live features: {live.size}")
    axes.axvline(DENSE_THRESHOLD, color=HIGHLIGHT, linestyle="--",
                 label=f"dense (active on > {DENSE_THRESHOLD:.0%} of rows): {activations.dense}")
    axes.plot([], [], linestyle="", label=f"dead (never active, not on the axis): {activations.dead}")
    axes.set_xscale("log")
    axes.set_xlabel("feature density: fraction of rows on which the feature is active (log scale)")
    axes.set_ylabel("number of features")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="upper left")
    figure.suptitle(f"SAE feature density, {density.size} features ({view.describe()})")
    return save(figure, folder / DENSITY_FILE)


def draw_l0(activations: Activations, view: ModelView, folder: Path) -> Path:
    l0 = activations.l0
    figure = new_figure(7.5, 4.2)
    axes = figure.subplots()
    edges = np.arange(int(l0.max()) + 2) - 0.5
    axes.hist(l0, bins=edges, color=BAR_COLOR, edgecolor="white")
    axes.axvline(l0.mean(), color=HIGHLIGHT, linestyle="--", label=f"mean {l0.mean():.2f}")
    axes.axvline(np.median(l0), color=MUTED, linestyle=":", label=f"median {np.median(l0):g}")
    axes.set_xlabel(f"active features per row (L0, of {activations.counts.size})")
    axes.set_ylabel("rows")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(loc="best")
    figure.suptitle(f"SAE sparsity: L0 per row ({view.describe()})")
    return save(figure, folder / L0_FILE)
