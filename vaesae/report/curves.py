"""Loss curves: every loss component, train and validation, against epoch."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vaesae.report.canvas import HIGHLIGHT, MUTED, Margins, grid_shape, panel_grid, save, wants_log_scale
from vaesae.report.run_folder import Row, RunFolder

FILE = "loss_curves.png"
TRAIN_COLOR, VAL_COLOR, BEST_COLOR = "#1f77b4", "#ff7f0e", "#2ca02c"
MARGINS = Margins(top=4.0, bottom=6.0)  # the suptitle above the titles, the legend under the x labels


def loss_components(metrics: list[Row]) -> list[str]:
    """Loss component names in logged order: what the training split reports (``train_X``)."""
    names: list[str] = []
    for row in metrics:
        names += [key[len("train_"):] for key in row if key.startswith("train_") and key[len("train_"):] not in names]
    return sorted(names, key=lambda name: name != "loss")


def series(metrics: list[Row], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and values of ``key`` over the epochs that logged it."""
    points = [(row["epoch"], row[key]) for row in metrics if key in row]
    if not points:
        return np.empty(0), np.empty(0)
    epochs, values = zip(*points)
    return np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)


def draw_panel(axes, run: RunFolder, component: str, best: Row | None, stop: int | None) -> None:
    plotted = []
    for split, color, style in (("train", TRAIN_COLOR, "-"), ("val", VAL_COLOR, "--")):
        epochs, values = series(run.metrics, f"{split}_{component}")
        if epochs.size:
            axes.plot(epochs, values, style, color=color, marker="o", markersize=3, label=split)
            plotted.append(values)
    if best is not None:
        axes.axvline(best["epoch"], color=BEST_COLOR, linewidth=1.2, label=f"best epoch {int(best['epoch'])}")
    if stop is not None:
        axes.axvline(stop, color=HIGHLIGHT, linestyle=":", linewidth=1.5, label=f"early stop (epoch {stop})")
    if plotted and wants_log_scale(np.concatenate(plotted)):
        axes.set_yscale("log")
    else:
        axes.ticklabel_format(axis="y", scilimits=(-3, 4))  # short tick labels, which the fixed left margin holds
    axes.set_title(component)
    axes.set_xlabel("epoch")
    axes.set_ylabel("mean per row (log scale)" if axes.get_yscale() == "log" else "mean per row")
    axes.xaxis.get_major_locator().set_params(integer=True)


def draw_loss_curves(run: RunFolder, folder: Path) -> list[Path]:
    components = loss_components(run.metrics)
    if not components:
        return []
    rows, cols = grid_shape(len(components), 3)
    figure, panels = panel_grid(4.2 * cols, 3.3 * rows + 0.5, rows, cols, MARGINS)
    panels = panels.ravel()
    best, stop = run.best(), run.early_stop()
    for axes, component in zip(panels, components):
        draw_panel(axes, run, component, best, stop)
    for axes in panels[len(components):]:
        axes.set_visible(False)
    figure.legend(handles=panels[0].get_legend_handles_labels()[0], loc="lower center", bbox_to_anchor=(0.5, 0.01), ncols=4)
    model = (run.config.get("model") or {}).get("class", "model")
    outcome = f"best {run.metric} = {best[run.metric]:.4g} at epoch {int(best['epoch'])}" if best else f"no finite {run.metric}"
    figure.suptitle(f"{model} loss curves, {run.label}: {outcome}", color="black" if best else MUTED)
    return [save(figure, folder / FILE)]
