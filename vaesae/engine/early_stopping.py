"""Early stopping, counted in validations as the documentation says."""
from __future__ import annotations

from typing import Any

from vaesae.engine.callbacks import Callback, Metrics
from vaesae.engine.improvement import is_improvement


class EarlyStopping(Callback):
    def __init__(self, metric: str, direction: str, patience: int):
        self.metric, self.direction, self.patience = metric, direction, patience
        self.best: float | None = None
        self.validations_without_improvement = 0

    def on_validation_end(self, trainer, epoch: int, metrics: Metrics) -> None:
        if is_improvement(metrics.get(self.metric), self.best, self.direction):
            self.best, self.validations_without_improvement = metrics[self.metric], 0
            return
        self.validations_without_improvement += 1
        if self.validations_without_improvement >= self.patience:
            trainer.state.should_stop = True
            trainer.state.stop_reason = (
                f"early stopping at epoch {epoch}: {self.metric} did not improve on {self.best} "
                f"for {self.patience} validation(s)"
            )

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "validations_without_improvement": self.validations_without_improvement}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.validations_without_improvement = state["best"], state["validations_without_improvement"]
