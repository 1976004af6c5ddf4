"""The Hydra callback that draws a sweep's summary picture and its best job's pictures once all its jobs have returned."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("vaesae")


class SweepFigures(Callback):
    """After ``-m``: ``{sweep dir}/figures/`` gets the best metric of each job against the swept parameters.

    It runs in the launching process, whichever launcher ran the jobs. Like
    every picture, a failure is a warning and never changes the sweep's outcome.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not OmegaConf.select(config, "report.figures", default=True) or OmegaConf.select(config, "dry_run", default=False):
            return
        from vaesae.report.build import report_sweep
        from vaesae.report.sweep import job_folders

        sweep_dir = Path(config.hydra.sweep.dir)
        if job_folders(sweep_dir):
            report = report_sweep(sweep_dir)
            log.info("sweep pictures: %s", ", ".join(str(path) for path in report.files) or "none")
            draw_best_job(sweep_dir)


def draw_best_job(sweep_dir: Path) -> None:
    """The pictures of the sweep's best job, which its jobs leave to the sweep (``vaesae.sweep.job``)."""
    from vaesae.engine.run_layout import best_job
    from vaesae.report.build import FIGURES_DIR, report_run

    best = best_job(sweep_dir)
    if best is None or (best.folder / FIGURES_DIR).is_dir():
        return
    report = report_run(best.folder)
    log.info("pictures of the best job, %s: %d file(s) in %s", best.folder.name, len(report.files), best.folder / FIGURES_DIR)
