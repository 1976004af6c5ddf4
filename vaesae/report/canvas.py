"""Figures drawn with matplotlib's Agg renderer, never through pyplot.

pyplot keeps global state and picks a backend for the whole process; figures
made here are plain ``Figure`` objects on an Agg canvas, so drawing needs no
display, leaves a caller's own pyplot session alone, and works in worker
processes of a sweep. matplotlib is imported on first use only, so commands
that draw nothing (``python -m vaesae --help``) do not pay for it.

A run's pictures place their panels with fixed margins, given in ems of the
base font (``Margins``), measuring only the few labels whose length varies
(column names, a legend); a layout engine would measure every label of
every panel, and draw the figure twice, which costs more than the drawing.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaesae.atomic_files import replacing

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 110
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titley": 1.0,  # a fixed title height: no panel has ticks on top, so matplotlib need not measure them
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 9,
    "legend.framealpha": 0.85,
}
PNG_COMPRESSION = 3  # zlib level: half the encoding time of the default 6, files a few percent larger
EM = STYLE["font.size"] / 72  # inches
MUTED = "#9a9a9a"
HIGHLIGHT = "#d62728"


@dataclass(frozen=True)
class Margins:
    """Space around a grid of panels and between them, in ems of the base font.

    ``left`` and ``wspace`` hold a panel's y tick labels and y label, ``top``
    the titles above the panels, ``bottom`` the x tick labels and x label (and
    a legend under the panels), ``hspace`` the x labels of one row and the
    titles of the next.
    """

    left: float = 6.0
    right: float = 1.5
    top: float = 3.0
    bottom: float = 3.5
    wspace: float = 6.5
    hspace: float = 5.5

    def gridspec(self, width: float, height: float, rows: int, cols: int) -> dict[str, float]:
        """The margins as fractions of a ``width`` x ``height`` inch figure, for ``subplots_adjust``."""
        panel_width = (width - (self.left + self.right + (cols - 1) * self.wspace) * EM) / cols
        panel_height = (height - (self.top + self.bottom + (rows - 1) * self.hspace) * EM) / rows
        return {
            "left": self.left * EM / width, "right": 1 - self.right * EM / width,
            "bottom": self.bottom * EM / height, "top": 1 - self.top * EM / height,
            "wspace": self.wspace * EM / panel_width, "hspace": self.hspace * EM / panel_height,
        }


def new_figure(width: float, height: float, layout: str | None = "constrained") -> "Figure":
    """An empty figure of ``width`` x ``height`` inches on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout=layout)
    FigureCanvasAgg(figure)
    return figure


def panel_grid(width: float, height: float, rows: int, cols: int, margins: Margins) -> tuple["Figure", Any]:
    """A figure with a ``rows`` x ``cols`` array of panels placed by ``margins`` (``figure.subplotpars``), without a layout engine."""
    figure = new_figure(width, height, layout=None)
    figure.subplots_adjust(**margins.gridspec(width, height, rows, cols))
    return figure, figure.subplots(rows, cols, squeeze=False)


def text_width(texts: list[str], size: float = STYLE["font.size"]) -> float:
    """The width of the widest of ``texts`` at ``size`` points, in ems of the base font."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer, font = RendererAgg(1, 1, 72), FontProperties(size=size)
    widest = max((renderer.get_text_width_height_descent(text, font, ismath=False)[0] for text in texts), default=0.0)
    return widest / STYLE["font.size"]


def under_panel(axes) -> dict[str, Any]:
    """Legend placement centred under ``axes`` at the bottom edge of its figure (``axes.legend(**under_panel(axes))``)."""
    from matplotlib.transforms import blended_transform_factory

    return {"loc": "lower center", "bbox_to_anchor": (0.5, 0.01),
            "bbox_transform": blended_transform_factory(axes.transAxes, axes.figure.transFigure)}


def style() -> Any:
    """A context in which the house style applies (``with style(): ...``)."""
    import matplotlib

    return matplotlib.rc_context(STYLE)


def warm_up() -> None:
    """Load what a process's first picture would wait for: the house font and the math-text parser (log-axis labels)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, 72)
    with style():
        for text, math in (("0.5", False), ("$10^{-2}$", True)):
            renderer.get_text_width_height_descent(text, FontProperties(), ismath=math)


def save(figure: "Figure", path: Path) -> Path:
    """Write ``figure`` as PNG; a temporary name first, so a reader never sees half an image."""
    with replacing(path) as temp:
        figure.savefig(temp, dpi=DPI, format="png", pil_kwargs={"compress_level": PNG_COMPRESSION})
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
