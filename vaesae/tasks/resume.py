"""Continuing a training run: which checkpoint to start from, and whether it still fits the config.

``checkpoint.resume`` is ``auto`` (this run folder's newest checkpoint, or a new
run when there is none yet, so a requeued job can always pass it) or a path to
a checkpoint file, a ``checkpoints/`` folder or a run folder. A checkpoint is
only continued with the config it was trained with; the keys in ``MAY_CHANGE``
do not alter what is computed and may differ, anything else must be forced
with ``checkpoint.resume_force=true``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from vaesae.engine.checkpoint_io import load_checkpoint
from vaesae.engine.run_layout import CHECKPOINTS, resume_checkpoint
from vaesae.engine.trainer import Trainer
from vaesae.errors import CheckpointError, ConfigError, one_line

log = logging.getLogger("vaesae")

AUTO = "auto"
MAY_CHANGE = (
    "task", "dry_run", "experiment.name", "experiment.output_dir", "experiment.device", "train.epochs",
    "train.output", "val.output", "train.loader_params.num_workers", "val.loader_params.num_workers", "test",
    "checkpoint.path", "checkpoint.load_strategy", "checkpoint.resume", "checkpoint.resume_force", "mlflow",
)
NEEDED = ("config", "encoding", "model_state", "optimizer_state", "trainer", "callbacks", "rng")


@dataclass
class ResumePoint:
    path: Path
    payload: dict[str, Any]

    def describe(self) -> str:
        state = self.payload["trainer"]
        inside = f" and {state['batch']} batch(es) of epoch {state['epoch'] + 1}" if state["batch"] else ""
        return f"{self.path} (after epoch {state['epoch']}{inside})"


def _resume_file(option: str, run_dir: Path) -> Path | None:
    if option == AUTO:
        return resume_checkpoint(run_dir / CHECKPOINTS)
    path = Path(option)
    if path.is_dir():
        found = resume_checkpoint(path)
        if found is None:
            raise CheckpointError(f"checkpoint.resume: {path} holds no checkpoint to resume from")
        return found
    if not path.is_file():
        raise CheckpointError(f"checkpoint.resume: {path} does not exist")
    return path


def find_resume_point(option: str | None, run_dir: Path) -> ResumePoint | None:
    """The checkpoint ``checkpoint.resume`` names, loaded and checked; None for a new run."""
    if option is None:
        return None
    path = _resume_file(option, run_dir)
    if path is None:
        log.info("checkpoint.resume=auto: no checkpoint in %s yet; starting a new run", run_dir / "checkpoints")
        return None
    payload = load_checkpoint(path)
    missing = [key for key in NEEDED if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: cannot resume from it: it lacks {', '.join(missing)}")
    return ResumePoint(path, payload)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; lists and empty mappings are values."""
    if not isinstance(tree, Mapping) or not tree:
        return {prefix: tree}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def may_change(key: str) -> bool:
    return any(key == allowed or key.startswith(allowed + ".") for allowed in MAY_CHANGE)


def config_differences(stored: Mapping, current: Mapping) -> list[str]:
    """``key: stored in the checkpoint, current now`` for every key that matters and differs."""
    old, new = flatten(stored), flatten(current)
    absent = "<absent>"
    keys = sorted(k for k in old.keys() | new.keys() if not may_change(k) and old.get(k, absent) != new.get(k, absent))
    return [f"{k}: {old.get(k, absent)!r} in the checkpoint, {new.get(k, absent)!r} now" for k in keys]


def check_compatible(point: ResumePoint, differences: list[str], force: bool) -> None:
    """Refuse to continue a checkpoint under other settings, unless ``force`` (then warn)."""
    if not differences:
        return
    if force:
        log.warning("resuming %s with changed settings (checkpoint.resume_force=true):\n%s",
                    point.path, "\n".join(f"  - {d}" for d in differences))
        return
    raise ConfigError([
        f"checkpoint.resume: these settings differ from the ones {point.path} was trained with; use the same values, "
        "or add checkpoint.resume_force=true to continue anyway",
        *differences,
    ])


def encoding_differences(point: ResumePoint, encoding: Mapping[str, Any]) -> list[str]:
    """The training data must encode as it did: same category codes, same numeric scaling."""
    if point.payload["encoding"] == dict(encoding):
        return []
    return ["train.data_path: the training data encodes differently (category codes or numeric means / standard "
            "deviations) from the data the checkpoint was trained on"]


def restore_trainer(trainer: Trainer, point: ResumePoint) -> None:
    """Load the checkpoint into the freshly built trainer; a state that does not fit is a ``CheckpointError``."""
    try:
        trainer.load_state_dict(point.payload)
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{point.path}: cannot continue from it with this config ({one_line(exc)})") from None
    log.info("resuming from %s", point.describe())
