"""Drawing every picture of a run or sweep folder into its ``figures/`` folder.

Each family of pictures is drawn on its own: one that fails is reported as a
problem and the others are still drawn, so a training run that draws its
pictures at the end never fails because of them.
"""
from __future__ import annotations

import dataclasses
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vaesae.config.schema import ReportConfig
from vaesae.config.validate import color_by_problem
from vaesae.errors import VaesaeError
from vaesae.report.canvas import style
from vaesae.report.run_folder import CONFIG, METRICS, ReportError, RunFolder

log = logging.getLogger("vaesae")

FIGURES_DIR = "figures"
FIGURE_SUFFIXES = (".png", ".md", ".csv")


@dataclass
class Report:
    """What a report wrote, and what it could not draw (one message per failed family)."""

    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def attempt(self, family: str, draw: Callable[[], list[Path]]) -> None:
        try:
            self.files += draw()
        except Exception as exc:  # a picture must never take the run down with it
            message = f"{family}: {exc}" if isinstance(exc, VaesaeError) else f"{family}: {type(exc).__name__}: {exc}"
            self.problems.append(message)
            log.warning("could not draw %s", message)

    def extend(self, other: "Report") -> None:
        self.files += other.files
        self.problems += other.problems


def figure_files(folder: Path) -> list[Path]:
    """The pictures and tables under ``folder/figures`` (a run or sweep folder), e.g. to log as artifacts."""
    figures = folder / FIGURES_DIR
    return sorted(p for p in figures.iterdir() if p.is_file() and p.suffix in FIGURE_SUFFIXES) if figures.is_dir() else []


def is_run(folder: Path) -> bool:
    return (folder / CONFIG).is_file() and (folder / METRICS).is_file()


def checked(options: ReportConfig, run: RunFolder) -> ReportConfig:
    """``options`` once its colouring column is known to be one of the run's categorical columns."""
    problem = color_by_problem(options.color_by, ((run.config.get("data") or {}).get("columns") or {}).get("categorical") or [])
    if problem:
        raise ReportError(f"{run.path}: color_by: {problem}")
    return options


def picture_function(reference: str) -> Callable[..., list[Path]]:
    """The function a model names in its ``figures`` (``"module:function"``)."""
    module, _, name = reference.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ReportError(f"picture function {reference!r} cannot be found ({exc})") from None


def model_figures(run: RunFolder, options: ReportConfig, folder: Path) -> list[Path]:
    """The pictures the model names in its ``figures`` hook, drawn from its best checkpoint on the run's validation data."""
    from vaesae.report.model_view import ModelView

    view = ModelView.open(run)
    drawn: list[Path] = []
    for reference in type(view.model).figures:
        drawn += picture_function(reference)(view, options, folder)
    return drawn


def report_run(path: Path, **overrides) -> Report:
    """The pictures of one training run; ``overrides`` replace fields of the run's ``report`` settings."""
    from vaesae.report.curves import draw_loss_curves

    run = RunFolder.open(path)
    options = checked(dataclasses.replace(run.options, **{k: v for k, v in overrides.items() if v is not None}), run)
    folder, report = path / FIGURES_DIR, Report()
    with style():
        report.attempt("loss curves", lambda: draw_loss_curves(run, folder))
        report.attempt("model pictures", lambda: model_figures(run, options, folder))
    return report


def report_sweep(path: Path) -> Report:
    """The sweep picture (and its results table) of a sweep folder."""
    from vaesae.report.sweep import draw_sweep_figures

    report = Report()
    with style():
        report.attempt("sweep summary", lambda: draw_sweep_figures(path, path / FIGURES_DIR))
    return report


def build_report(path: Path, **overrides) -> Report:
    """Pictures of a run folder, or of a sweep folder and each of its jobs; ``overrides`` as in ``report_run``."""
    from vaesae.report.sweep import job_folders

    path = Path(path)
    jobs = job_folders(path)
    if not jobs and not is_run(path):
        raise ReportError(f"{path}: neither a training run folder ({CONFIG} and {METRICS}) nor a sweep folder")
    report = report_run(path, **overrides) if is_run(path) else Report()
    for job in jobs:
        if is_run(job):
            report.extend(report_run(job, **overrides))
    if jobs:
        report.extend(report_sweep(path))
    return report
