"""The callback protocol: everything around the loop plugs in here."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaesae.engine.trainer import Trainer

Metrics = dict[str, float]


class Callback:
    """Hooks called by ``Trainer.fit``; each default does nothing.

    ``on_validation_end`` runs before ``on_epoch_end`` of the same epoch, so a
    checkpoint written at epoch end already sees the early-stopping decision.
    ``state_dict``/``load_state_dict`` let a callback's state travel in checkpoints.
    """

    def on_fit_start(self, trainer: "Trainer") -> None: ...

    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None: ...

    def on_batch_end(self, trainer: "Trainer", epoch: int, batch_index: int, total_batches: int) -> None: ...

    def on_validation_end(self, trainer: "Trainer", epoch: int, metrics: Metrics) -> None: ...

    def on_epoch_end(self, trainer: "Trainer", epoch: int, metrics: Metrics) -> None: ...

    def on_fit_end(self, trainer: "Trainer") -> None: ...

    def on_exception(self, trainer: "Trainer", error: BaseException) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...
