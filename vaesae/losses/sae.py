"""``SAELoss``: squared reconstruction error plus a weighted L1 penalty on the features."""
from __future__ import annotations

from typing import Any

import torch

from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import Batch
from vaesae.registry import register_loss


@register_loss("SAELoss")
class SAELoss(VaesaeLoss):
    """``loss = reconstruction_loss + sparsity_weight * sparsity_loss``, averaged over rows.

    ``reconstruction_loss`` is the squared error summed over dimensions;
    ``sparsity_loss`` is the L1 norm of the feature vector. The L1 norm only
    measures sparsity because ``SAE`` keeps its decoder columns at unit norm:
    otherwise features could shrink while their directions grow. With
    ``activation: topk`` sparsity is built into the model, so ``sparsity_weight``
    is usually 0 there; ``sparsity_loss`` is reported either way.
    """

    components = ("loss", "reconstruction_loss", "sparsity_loss")

    def __init__(self, sparsity_weight: float = 0.01):
        self.sparsity_weight = float(sparsity_weight)

    def __call__(self, batch: Batch, output: dict[str, Any]) -> dict[str, torch.Tensor]:
        reconstruction = ((output["reconstruction"] - batch["embeddings"]) ** 2).sum(dim=1).mean()
        sparsity = output["features"].abs().sum(dim=1).mean()
        return {
            "loss": reconstruction + self.sparsity_weight * sparsity,
            "reconstruction_loss": reconstruction,
            "sparsity_loss": sparsity,
        }
