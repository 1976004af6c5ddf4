"""Figures drawn with matplotlib's Agg renderer, never through pyplot.

pyplot keeps global state and picks a backend for the whole process; figures
made here are plain ``Figure`` objects on an Agg canvas, so drawing needs no
display, leaves a caller's own pyplot session alone, and works in worker
processes of a sweep. matplotlib is imported on first use only, so commands
that draw nothing (``python -m vaesae --help``) do not pay for it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaesae.atomic_files import replacing

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 9,
    "legend.framealpha": 0.85,
}
MUTED = "#9a9a9a"
HIGHLIGHT = "#d62728"


def new_figure(width: float, height: float) -> "Figure":
    """An empty figure of ``width`` x ``height`` inches on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def style() -> Any:
    """A context in which the house style applies (``with style(): ...``)."""
    import matplotlib

    return matplotlib.rc_context(STYLE)


def save(figure: "Figure", path: Path) -> Path:
    """Write ``figure`` as PNG; a temporary name first, so a reader never sees half an image."""
    with replacing(path) as temp:
        figure.savefig(temp, dpi=DPI, format="png")
    return path


def grid_shape(panels: int, columns: int) -> tuple[int, int]:
    """Rows and columns of a grid holding ``panels`` panels, at most ``columns`` wide."""
    cols = max(1, min(columns, panels))
    return -(-panels // cols), cols


def wants_log_scale(values: Any, span: float = 30.0) -> bool:
    """Whether positive ``values`` spread over more than ``span``-fold and read better on a log axis."""
    import numpy as np

    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return finite.size > 1 and bool((finite > 0).all()) and finite.max() / finite.min() > span
