"""What every registered loss provides."""
from __future__ import annotations

from typing import Any, ClassVar

import torch

from vaesae.models.base import Batch


class VaesaeLoss:
    """A loss is built as ``cls(**loss.params)`` and called as ``loss(batch, output)``.

    It returns a dict of scalar tensors: ``loss`` (what is minimised) and its
    components. ``components`` declares those names so metric names in the config
    (``val_kl_loss``…) are checked before any training starts.
    """

    components: ClassVar[tuple[str, ...]] = ("loss",)

    def __call__(self, batch: Batch, output: dict[str, Any]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def set_epoch(self, epoch: int) -> None:
        """Called at the start of every training epoch (for schedules such as KL warm-up)."""
