"""Finding and loading the checkpoint that extract and predict work from."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from vaesae.data.encoding import ColumnEncoding
from vaesae.engine.checkpoint_io import MODEL_KEYS, load_checkpoint, require_keys
from vaesae.engine.run_layout import best_job, is_sweep, strategy_checkpoint
from vaesae.errors import CheckpointError, ConfigError, one_line
from vaesae.models.base import VaesaeModel
from vaesae.tasks.parts import build_model

log = logging.getLogger("vaesae")


@dataclass
class Restored:
    model: VaesaeModel
    encoding: ColumnEncoding
    path: Path
    payload: dict[str, Any]


def checkpoint_file(path: Path, load_strategy: str) -> Path:
    """``path`` may be a checkpoint file, a ``checkpoints/`` folder, a run folder or a sweep folder (its best job)."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise CheckpointError(f"checkpoint.path: {path} does not exist")
    return strategy_checkpoint(best_job_folder(path) if is_sweep(path) else path, load_strategy)


def best_job_folder(sweep_dir: Path) -> Path:
    """A sweep folder stands for its best job; say which."""
    best = best_job(sweep_dir)
    if best is None:
        raise CheckpointError(f"checkpoint.path: the sweep {sweep_dir} has no completed job with a value of its metric yet")
    log.info("checkpoint.path: sweep %s -> its best job %s (best %s = %.6g)",
             sweep_dir, best.folder.name, best.status.metric, best.result.best)
    return best.folder


def warn_on_column_differences(encoding: ColumnEncoding, data: DictConfig, path: Path) -> None:
    """The checkpoint's columns are used whatever the config lists; say so where they differ."""
    for kind in ("numerical", "categorical", "embeddings"):
        configured, trained = list(data.columns[kind]), getattr(encoding, kind)
        if configured != trained:
            log.warning(
                "data.columns.%s lists %s but the checkpoint %s was trained on %s; using the checkpoint's columns",
                kind, configured, path, trained,
            )


def rebuild_model(path: Path, payload: dict[str, Any], device: torch.device) -> Restored:
    """The model stored in the checkpoint ``payload`` (read from ``path``): class, params, weights and encoding."""
    require_keys(path, payload, MODEL_KEYS, "load a model from it")
    stored_class = payload["model_class"]
    encoding = ColumnEncoding.from_state(payload["encoding"])
    model = build_model(stored_class, payload["model_params"], encoding)
    try:
        model.load_state_dict(payload["model_state"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit {stored_class}: {one_line(exc)}") from None
    return Restored(model.to(device).eval(), encoding, path, payload)


def restore_model(cfg: DictConfig, device: torch.device) -> Restored:
    """The model named by ``checkpoint.path``, checked against the configured model class and columns."""
    path = checkpoint_file(Path(cfg.checkpoint.path), cfg.checkpoint.load_strategy)
    payload = load_checkpoint(path)
    require_keys(path, payload, MODEL_KEYS, "load a model from it")
    stored_class = payload["model_class"]
    if cfg.model["class"] != stored_class:
        raise ConfigError(f"model.class: {cfg.model['class']!r} but the checkpoint {path} holds a {stored_class!r} model")
    warn_on_column_differences(ColumnEncoding.from_state(payload["encoding"]), cfg.data, path)
    return rebuild_model(path, payload, device)
