"""The training side of tracking: a Trainer callback, so the loop itself knows nothing of MLflow."""
from __future__ import annotations

from pathlib import Path

from vaesae.engine.callbacks import Callback, Metrics
from vaesae.engine.checkpoint_io import digest_path
from vaesae.engine.run_layout import model_checkpoint, run_result
from vaesae.report import figure_files
from vaesae.tracking.run import TrackedRun


class MlflowCallback(Callback):
    """Starts the run with training, logs every epoch's metrics (step = epoch), at the end the best value
    of ``checkpoint.metric`` and its epoch, and uploads the best checkpoint and the run's pictures.

    Placed after the checkpoint callback, so an epoch's checkpoint is on disk
    before anything is sent to the store. The run's id travels in every
    checkpoint, so training resumed from one continues the same run.
    """

    def __init__(self, run: TrackedRun, checkpoint_dir: Path, metric: str, mode: str):
        self.run, self.checkpoint_dir = run, checkpoint_dir
        self.metric, self.mode = metric, mode
        self.earlier_run_id: str | None = None

    def state_dict(self) -> dict[str, str | None]:
        return {"run_id": self.run.run_id, "store_uri": self.run.store_uri}

    def load_state_dict(self, state: dict[str, str | None]) -> None:
        if state.get("run_id") and state.get("store_uri") == self.run.store_uri:
            self.earlier_run_id = state["run_id"]

    def on_fit_start(self, trainer) -> None:
        self.run.start(self.earlier_run_id)

    def on_epoch_end(self, trainer, epoch: int, metrics: Metrics) -> None:
        self.run.log_metrics(metrics, step=epoch)

    def on_fit_end(self, trainer) -> None:
        try:
            self.log_best()
            self.upload_checkpoint()
            self.upload_figures()
        except BaseException as interruption:
            self.run.finish(interruption)
            raise
        self.run.finish(None)

    def on_exception(self, trainer, error: BaseException) -> None:
        self.run.finish(error)

    def log_best(self) -> None:
        """``best_<metric>`` and ``best_epoch``, so runs sort by their best epoch rather than their last."""
        result = run_result(self.checkpoint_dir.parent, self.metric, self.mode)
        if result.best is not None:
            self.run.log_metrics({f"best_{self.metric}": result.best, "best_epoch": result.best_epoch}, step=result.best_epoch)

    def upload_figures(self) -> None:
        """The pictures drawn at the end of training (the figures callback runs before this one)."""
        for path in figure_files(self.checkpoint_dir.parent):
            self.run.log_artifact(path, "figures")

    def upload_checkpoint(self) -> None:
        """The run's model: the best checkpoint, or the last one when ``save_strategy: last`` keeps no best."""
        path = model_checkpoint(self.checkpoint_dir)
        if path is not None:
            self.run.log_artifact(path, "checkpoints")
            self.run.log_artifact(digest_path(path), "checkpoints")
