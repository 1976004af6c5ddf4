"""``VAELoss``: reconstruction of every column plus a weighted KL term, with remedies for posterior collapse."""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from vaesae.errors import ConfigError
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import Batch
from vaesae.models.global_batch import global_mean
from vaesae.models.vae import real_targets
from vaesae.registry import register_loss

HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
MIN_VARIANCE = 1e-4  # a standard deviation of 1% of the column's own


def numerical_term(squared_error: torch.Tensor, calibrated_variance: bool) -> torch.Tensor:
    """Summed over real-valued columns, from each column's mean squared error over the batch.

    With ``calibrated_variance`` it is the Gaussian negative log-likelihood in
    nats, comparable to a cross-entropy, with each column's variance set to the
    value that maximises the likelihood of the batch: its mean squared error,
    at least ``MIN_VARIANCE``. It then equals ``0.5 * log(mse) + 0.5 * (1 + log 2 pi)``
    per column, so a column's error weighs by the inverse of its own size and a
    column the data determine is pushed to be exact. Otherwise it is the squared
    error of the standardised values (an implicit, fixed variance).
    """
    if not calibrated_variance:
        return squared_error.sum()
    return (0.5 * squared_error.clamp_min(MIN_VARIANCE).log() + 0.5 + HALF_LOG_TWO_PI).sum()


def kl_per_row(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) of each latent dimension, for each row."""
    return -0.5 * (1 + logvar - mu**2 - logvar.exp())


def batch_means(batch: Batch, output: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Means over the whole batch of the squared error per real column, cross-entropy per categorical
    column and KL per latent dimension, in one reduction (see ``vaesae.models.global_batch``)."""
    mu = output["mu"]
    squared = (output["real"] - real_targets(batch)) ** 2
    entropies = [F.cross_entropy(logits, batch["categorical"][:, i], reduction="none")[:, None]
                 for i, logits in enumerate(output["logits"])]
    per_row = torch.cat([squared, *entropies, kl_per_row(mu, output["logvar"])], dim=1)
    return global_mean(per_row).split([squared.shape[1], len(entropies), mu.shape[1]])


@register_loss("VAELoss")
class VAELoss(VaesaeLoss):
    """``loss = reconstruction_weight * reconstruction + beta * max(kl_d, free_bits)`` summed over latent dims.

    Its gradient is taken with the KL weight ``beta * warmup`` (see ``kl_warmup_epochs``).

    ``reconstruction`` (``reconstruction_loss``) is ``numerical_loss`` (see
    ``numerical_term``; ``calibrated_variance: true`` by default makes it a
    Gaussian log-likelihood) plus the cross-entropy summed over categorical
    columns (``categorical_loss``), averaged over rows. Two remedies for
    posterior collapse, both on by default:

    * ``kl_warmup_epochs: N``: the KL weight rises linearly from 1/N to 1 over the
      first N training epochs, so the decoder learns to use the code before the
      KL term pushes the code towards the prior. Only the gradient is warmed up:
      the reported ``loss`` is always the objective at the full KL weight, so a
      warm-up epoch's ``train_loss`` compares with later epochs' and with
      ``val_loss`` (a best checkpoint by ``train_loss`` is not an early warm-up epoch);
    * ``free_bits: λ``: each latent dimension's KL (averaged over the batch) below
      λ nats costs nothing, so using a dimension is free up to λ nats.

    ``kl_loss`` is the plain KL and ``elbo`` the negative evidence lower bound
    ``reconstruction + kl``: neither depends on beta, warm-up or free bits, so
    runs with different settings can be compared on them.
    """

    components = ("loss", "reconstruction_loss", "numerical_loss", "categorical_loss", "kl_loss", "elbo")

    def __init__(
        self,
        beta: float = 1.0,
        reconstruction_weight: float = 1.0,
        kl_warmup_epochs: int = 5,
        free_bits: float = 0.5,
        calibrated_variance: bool = True,
    ):
        self.beta = float(beta)
        self.reconstruction_weight = float(reconstruction_weight)
        self.kl_warmup_epochs = int(kl_warmup_epochs)
        self.free_bits = float(free_bits)
        self.calibrated_variance = bool(calibrated_variance)
        if self.kl_warmup_epochs < 0 or self.free_bits < 0:
            raise ConfigError(
                f"loss.params: kl_warmup_epochs ({self.kl_warmup_epochs}) and free_bits ({self.free_bits}) "
                "must not be negative"
            )
        self.warmup = 1.0

    def set_epoch(self, epoch: int) -> None:
        if self.kl_warmup_epochs > 0:
            self.warmup = min(1.0, epoch / self.kl_warmup_epochs)

    def __call__(self, batch: Batch, output: dict[str, Any]) -> dict[str, torch.Tensor]:
        squared_error, entropies, kl_dims = batch_means(batch, output)
        numerical = numerical_term(squared_error, self.calibrated_variance)
        categorical = entropies.sum()
        reconstruction = numerical + categorical
        kl = kl_dims.sum()
        penalty = kl_dims.clamp_min(self.free_bits).sum()
        total = self.reconstruction_weight * reconstruction + self.beta * penalty
        total = total - self.beta * (1.0 - self.warmup) * (penalty - penalty.detach())  # zero, with a gradient
        return {
            "loss": total,
            "reconstruction_loss": reconstruction,
            "numerical_loss": numerical,
            "categorical_loss": categorical,
            "kl_loss": kl,
            "elbo": reconstruction + kl,
        }
