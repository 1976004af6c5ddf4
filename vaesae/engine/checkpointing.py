"""The checkpoint callback: which files to keep, as ``checkpoint.save_strategy`` says.

``checkpoints/`` holds exactly the files of the documented table (``best``:
``best_model.pt``; ``last``: ``last_model.pt``; ``all``: both and ``epoch_N.pt``).
Whatever the strategy, ``resume_state.pt`` in the run folder is written at the end
of every epoch, after the epoch's other files: it is the state a run resumes
from after a crash, so a kill never costs more than the epoch in progress, and
when it says epoch N, every file due for epoch N exists. On SIGINT / SIGTERM
``last_model.pt`` and ``resume_state.pt`` are written once more, with the exact
position inside the interrupted epoch. ``epoch_N.pt`` is written before
``best_model.pt``: a kill between the two leaves ``epoch_N.pt``, which a resume
then starts from, so it is never skipped. Files are only ever replaced
atomically, never deleted, so neither the best model nor the file a run was
resumed from can be lost; only the temporary files and digests without a
checkpoint that a killed save left behind are removed when training starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaesae.atomic_files import remove_stale_temp_files
from vaesae.engine.callbacks import Callback, Metrics
from vaesae.engine.checkpoint_io import remove_orphan_digests, save_checkpoint
from vaesae.engine.improvement import is_improvement
from vaesae.errors import TrainingInterrupted

BEST, LAST = "best_model.pt", "last_model.pt"
RESUME_STATE = "resume_state.pt"


def resume_state_path(checkpoint_dir: Path) -> Path:
    """Where a run whose checkpoints are in ``checkpoint_dir`` keeps its resume state."""
    return checkpoint_dir.parent / RESUME_STATE


def epoch_file(epoch: int) -> str:
    return f"epoch_{epoch}.pt"


@dataclass
class RunIdentity:
    """What a checkpoint needs besides weights to rebuild and explain the run."""

    model_class: str
    model_params: dict[str, Any]
    loss_class: str
    encoding: dict[str, Any]
    config: dict[str, Any]


class Checkpointing(Callback):
    """Saves ``best`` / ``last`` / ``all`` under ``folder``, and the resume state beside it.

    The best value is judged on ``metric`` whenever that metric was computed in
    the epoch (a ``val_*`` metric only on validation epochs); NaN never counts.
    """

    def __init__(self, folder: Path, identity: RunIdentity, metric: str, mode: str, save_strategy: str):
        self.folder, self.identity = folder, identity
        self.metric, self.mode, self.save_strategy = metric, mode, save_strategy
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.saved_on_interrupt: Path | None = None

    def on_fit_start(self, trainer) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.folder)
        remove_orphan_digests(self.folder)

    def on_epoch_end(self, trainer, epoch: int, metrics: Metrics) -> None:
        improved = is_improvement(metrics.get(self.metric), self.best_value, self.mode)
        if improved:
            self.best_value, self.best_epoch = metrics[self.metric], epoch
        payload = self.payload(trainer)
        if self.save_strategy == "all":
            save_checkpoint(self.folder / epoch_file(epoch), payload)
        if self.save_strategy in ("best", "all") and improved:
            save_checkpoint(self.folder / BEST, payload)
        if self.save_strategy in ("last", "all"):
            save_checkpoint(self.folder / LAST, payload)
        save_checkpoint(resume_state_path(self.folder), payload)

    def on_exception(self, trainer, error: BaseException) -> None:
        """An interrupted run saves where it stands; other failures keep the last good files."""
        if isinstance(error, TrainingInterrupted):
            payload = self.payload(trainer)
            save_checkpoint(self.folder / LAST, payload)
            save_checkpoint(resume_state_path(self.folder), payload)
            self.saved_on_interrupt = self.folder / LAST

    def payload(self, trainer) -> dict[str, Any]:
        return {
            "model_class": self.identity.model_class,
            "model_params": self.identity.model_params,
            "loss_class": self.identity.loss_class,
            "encoding": self.identity.encoding,
            "config": self.identity.config,
            **trainer.state_dict(),
        }

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]
