"""``SAELoss``: squared reconstruction error, a weighted L1 penalty, and an auxiliary loss for dead features."""
from __future__ import annotations

from typing import Any

import torch

from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import Batch
from vaesae.models.global_batch import global_mean
from vaesae.registry import register_loss


@register_loss("SAELoss")
class SAELoss(VaesaeLoss):
    """``loss = reconstruction_loss + sparsity_weight * sparsity_loss + aux_weight * aux_loss``, averaged over rows.

    The rows are those of the whole batch, also under data-parallel training
    (see ``vaesae.models.global_batch``).

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
        per_row = [((output["reconstruction"] - x) ** 2).sum(dim=1), output["features"].abs().sum(dim=1)]
        if "aux_reconstruction" in output:
            residual = (x - output["reconstruction"]).detach()
            per_row.append(((output["aux_reconstruction"] - residual) ** 2).sum(dim=1))
        reconstruction, sparsity, *aux = global_mean(torch.stack(per_row, dim=1))
        aux = aux[0] if aux else reconstruction.new_zeros(())
        return {
            "loss": reconstruction + self.sparsity_weight * sparsity + self.aux_weight * aux,
            "reconstruction_loss": reconstruction,
            "sparsity_loss": sparsity,
            "aux_loss": aux,
        }
