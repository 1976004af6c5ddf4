"""Drawing a run's pictures when its training ends."""
from __future__ import annotations

import logging
from pathlib import Path

from vaesae.engine.callbacks import Callback

log = logging.getLogger("vaesae")


class DrawFigures(Callback):
    """Draws ``{run_dir}/figures/`` at the end of training, after the last checkpoint and metrics line.

    The pictures are a by-product: any failure is logged as a warning and the
    run still succeeds. Callbacks after this one in the list (experiment
    tracking) find the finished files through ``vaesae.report.figure_files``.
    """

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir

    def on_fit_end(self, trainer) -> None:
        try:
            from vaesae.report.build import FIGURES_DIR, report_run

            report = report_run(self.run_dir)
        except Exception as exc:  # pictures never fail a training run
            log.warning("could not draw the pictures of %s: %s: %s", self.run_dir, type(exc).__name__, exc)
            return
        log.info("pictures: %d file(s) in %s", len(report.files), self.run_dir / FIGURES_DIR)
