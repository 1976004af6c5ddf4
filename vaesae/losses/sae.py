"""``SAELoss``: squared reconstruction error, a weighted L1 penalty, and an auxiliary loss for dead features."""
from __future__ import annotations

from typing import Any

import torch

from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import Batch
from vaesae.registry import register_loss


@register_loss("SAELoss")
class SAELoss(VaesaeLoss):
    """``loss = reconstruction_loss + sparsity_weight * sparsity_loss + aux_weight * aux_loss``, averaged over rows.

    ``reconstruction_loss`` is the squared error summed over dimensions;
    ``sparsity_loss`` is the L1 norm of the feature vector. The L1 norm only
    measures sparsity because ``SAE`` keeps its decoder columns at unit norm:
    otherwise features could shrink while their directions grow. With
    ``activation: topk`` sparsity is built into the model, so ``sparsity_weight``
    is usually 0 there; ``sparsity_loss`` is reported either way.

    ``aux_loss`` is the squared error between the residual the features leave
    (held fixed) and the model's ``aux_reconstruction`` from dead features, when
    there are any (0 otherwise): it pulls dead features towards what the live
    ones miss, so they come back to life.
    """

    components = ("loss", "reconstruction_loss", "sparsity_loss", "aux_loss")

    def __init__(self, sparsity_weight: float = 0.01, aux_weight: float = 0.03125):
        self.sparsity_weight = float(sparsity_weight)
        self.aux_weight = float(aux_weight)

    def __call__(self, batch: Batch, output: dict[str, Any]) -> dict[str, torch.Tensor]:
        x = batch["embeddings"]
        reconstruction = ((output["reconstruction"] - x) ** 2).sum(dim=1).mean()
        sparsity = output["features"].abs().sum(dim=1).mean()
        aux = reconstruction.new_zeros(())
        if "aux_reconstruction" in output:
            residual = (x - output["reconstruction"]).detach()
            aux = ((output["aux_reconstruction"] - residual) ** 2).sum(dim=1).mean()
        return {
            "loss": reconstruction + self.sparsity_weight * sparsity + self.aux_weight * aux,
            "reconstruction_loss": reconstruction,
            "sparsity_loss": sparsity,
            "aux_loss": aux,
        }
