"""Drawing a run's pictures when its training ends."""
from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path

from vaesae.engine.callbacks import Callback

log = logging.getLogger("vaesae")

# What drawing a run's pictures imports: matplotlib, its font list and its math-text parser are a large part of the drawing time.
DRAWING_MODULES = (
    "matplotlib.figure", "matplotlib.backends.backend_agg", "vaesae.report.build", "vaesae.report.curves",
    "vaesae.report.model_view", "vaesae.report.latent", "vaesae.report.features", "vaesae.report.cards",
)


def prepare_drawing() -> None:
    """Import the drawing code and load its font and math-text parser (what fails here fails again, reported, when drawing)."""
    try:
        for name in DRAWING_MODULES:
            importlib.import_module(name)
        importlib.import_module("vaesae.report.canvas").warm_up()
    except Exception:
        return


class DrawFigures(Callback):
    """Draws ``{run_dir}/figures/`` at the end of training, after the last checkpoint and metrics line.

    The pictures are a by-product: any failure is logged as a warning and the
    run still succeeds. Callbacks after this one in the list (experiment
    tracking) find the finished files through ``vaesae.report.figure_files``.
    """

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.preload: threading.Thread | None = None

    def on_fit_start(self, trainer) -> None:
        """Prepare the drawing code beside the first epochs, so drawing at the end starts at once."""
        self.preload = threading.Thread(target=prepare_drawing, name="vaesae-import-drawing", daemon=True)
        self.preload.start()

    def on_fit_end(self, trainer) -> None:
        if self.preload is not None:
            self.preload.join()
        try:
            from vaesae.report.build import FIGURES_DIR, report_run

            report = report_run(self.run_dir)
        except Exception as exc:  # pictures never fail a training run
            log.warning("could not draw the pictures of %s: %s: %s", self.run_dir, type(exc).__name__, exc)
            return
        log.info("pictures: %d file(s) in %s", len(report.files), self.run_dir / FIGURES_DIR)
