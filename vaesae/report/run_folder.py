"""Reading what a finished training run left behind, to draw it without retraining.

Paths inside a run's ``config.yaml`` are relative to where the run was started,
which need not be where the report is drawn; ``locate`` tries the current
folder first and then each folder above the run folder.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from vaesae.config.schema import ReportConfig
from vaesae.engine.early_stopping import EarlyStopping
from vaesae.engine.improvement import best_row
from vaesae.engine.run_layout import CONFIG, METRICS, model_checkpoint, run_metrics
from vaesae.engine.trainer import TrainState
from vaesae.errors import VaesaeError

Row = dict[str, Any]


class ReportError(VaesaeError):
    """A folder that cannot be reported on, with what it lacks."""


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ReportError(f"{path}: cannot read ({exc})") from None
    if not isinstance(content, dict):
        raise ReportError(f"{path}: not a vaesae config (expected a mapping)")
    return content


def locate(text: str, anchor: Path) -> Path:
    """``text`` as an existing path: absolute, or relative to the current folder or a folder above ``anchor``."""
    path = Path(text)
    if path.is_absolute():
        return path
    for base in (Path.cwd(), *anchor.resolve().parents):
        if (base / path).exists():
            return base / path
    return path


def early_stop_epoch(metrics: list[Row], config: dict[str, Any]) -> int | None:
    """The epoch at which early stopping ended the run, replayed with the training rule, or None."""
    settings = (config.get("val") or {}).get("early_stopping")
    if not settings or not metrics:
        return None
    rule = EarlyStopping(settings["metric"], settings["direction"], settings["patience"])
    holder = SimpleNamespace(state=TrainState())
    for row in metrics:
        if settings["metric"] in row:
            rule.on_validation_end(holder, int(row["epoch"]), row)
        if holder.state.should_stop:
            return int(row["epoch"]) if row is metrics[-1] else None
    return None


@dataclass
class RunFolder:
    """A training run's folder: its resolved config, its metrics per epoch and its checkpoints."""

    path: Path
    config: dict[str, Any]
    metrics: list[Row]

    @classmethod
    def open(cls, path: Path) -> "RunFolder":
        config_path, metrics_path = path / CONFIG, path / METRICS
        missing = [p.name for p in (config_path, metrics_path) if not p.is_file()]
        if missing:
            raise ReportError(f"{path}: not a finished training run folder (missing {', '.join(missing)})")
        config = read_yaml(config_path)
        metrics = [{k: (math.nan if v is None else v) for k, v in row.items()} for row in run_metrics(path)]
        return cls(path, config, metrics)

    @property
    def label(self) -> str:
        """The run's name for titles; a sweep job (a numbered folder) also names its sweep."""
        return f"{self.path.parent.name}/{self.path.name}" if self.path.name.isdigit() else self.path.name

    def locate(self, text: str) -> Path:
        return locate(text, self.path)

    @property
    def options(self) -> ReportConfig:
        return ReportConfig(**(self.config.get("report") or {}))

    @property
    def metric(self) -> str:
        return (self.config.get("checkpoint") or {}).get("metric") or "val_loss"

    @property
    def mode(self) -> str:
        return (self.config.get("checkpoint") or {}).get("mode") or "min"

    def best(self) -> Row | None:
        return best_row(self.metrics, self.metric, self.mode)

    def early_stop(self) -> int | None:
        return early_stop_epoch(self.metrics, self.config)

    def checkpoint(self) -> Path:
        found = model_checkpoint(self.path)
        if found is None:
            raise ReportError(f"{self.path}: no checkpoint under checkpoints/")
        return found

    def split(self) -> str:
        """The split the pictures describe: validation when configured, else test, else train."""
        for name in ("val", "test", "train"):
            if self.config.get(name):
                return name
        raise ReportError(f"{self.path / CONFIG}: no data split configured")
