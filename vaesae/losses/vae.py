"""``VAELoss``: reconstruction of every column plus a weighted KL term."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import Batch
from vaesae.models.vae import real_targets
from vaesae.registry import register_loss


@register_loss("VAELoss")
class VAELoss(VaesaeLoss):
    """``loss = reconstruction_weight * reconstruction + beta * warmup * kl``, averaged over rows.

    ``elbo = reconstruction + kl`` (the negative evidence lower bound per row)
    does not depend on ``beta``, so it compares runs trained with different betas.

    The reconstruction is the squared error summed over real-valued columns
    (``numerical_loss``) plus the cross-entropy summed over categorical columns
    (``categorical_loss``). With ``kl_warmup_epochs: N`` the KL weight rises
    linearly from 1/N to 1 over the first N epochs, a common remedy for
    posterior collapse.
    """

    components = ("loss", "reconstruction_loss", "numerical_loss", "categorical_loss", "kl_loss", "elbo")

    def __init__(self, beta: float = 1.0, reconstruction_weight: float = 1.0, kl_warmup_epochs: int = 0):
        self.beta = float(beta)
        self.reconstruction_weight = float(reconstruction_weight)
        self.kl_warmup_epochs = int(kl_warmup_epochs)
        self.warmup = 1.0

    def set_epoch(self, epoch: int) -> None:
        if self.kl_warmup_epochs > 0:
            self.warmup = min(1.0, epoch / self.kl_warmup_epochs)

    def __call__(self, batch: Batch, output: dict[str, Any]) -> dict[str, torch.Tensor]:
        mu, logvar = output["mu"], output["logvar"]
        rows = mu.shape[0]
        targets = real_targets(batch)
        numerical = ((output["real"] - targets) ** 2).sum() / rows if targets.numel() else mu.new_zeros(())
        categorical = mu.new_zeros(())
        for i, logits in enumerate(output["logits"]):
            categorical = categorical + F.cross_entropy(logits, batch["categorical"][:, i], reduction="sum") / rows
        reconstruction = numerical + categorical
        kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum() / rows
        total = self.reconstruction_weight * reconstruction + self.beta * self.warmup * kl
        return {
            "loss": total,
            "reconstruction_loss": reconstruction,
            "numerical_loss": numerical,
            "categorical_loss": categorical,
            "kl_loss": kl,
            "elbo": reconstruction + kl,
        }
