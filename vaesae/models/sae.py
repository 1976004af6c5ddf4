"""``SAE``: a sparse autoencoder that splits embeddings into many sparse features.

Each row of ``batch["embeddings"]`` is written as a sparse, non-negative
combination of learned dictionary directions (the decoder columns) plus a
learned offset ``b_dec``. Two sparsity mechanisms are available: ``relu``
(ReLU features, sparsity comes from the L1 term of ``SAELoss``) and ``topk``
(only the ``k`` largest pre-activations of a row survive, so sparsity is fixed
by construction and the L1 weight is usually 0).

The decoder columns are constrained to unit L2 norm. Without the constraint the
L1 penalty can be dodged by shrinking features and growing the matching decoder
columns, and feature magnitudes would not be comparable across features.

Defaults sized to the input width ``d``: ``hidden_dim`` is ``4 d`` (a dictionary
several times wider than the input, so features in superposition can separate)
and, for ``topk``, ``k`` is ``round(sqrt(d))`` kept within 4..8 (at most ``d``).

With ``topk``, dead features (no activation on any of the last
``DEAD_AFTER_ROWS`` training rows) get a training signal of their own: the forward pass also returns
``aux_reconstruction``, what the largest pre-activations of the dead features
alone reconstruct, and ``SAELoss`` asks it to explain the residual the live
features left (the auxiliary loss of Gao et al., 2024).
"""
from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from vaesae.data.base import BaseDataLoader
from vaesae.data.encoding import ColumnEncoding
from vaesae.errors import ConfigError
from vaesae.models.base import Batch, MetricAccumulator, VaesaeModel, check_input_dim
from vaesae.models.global_batch import global_sum
from vaesae.registry import register_model

log = logging.getLogger(__name__)

ACTIVATIONS = ("relu", "topk")
DICTIONARY_MULTIPLE = 4
DEAD_AFTER_ROWS = 10_000


def default_k(input_dim: int) -> int:
    """TopK's ``k`` when none is given: ``round(sqrt(input_dim))`` kept within 4..8, and at most ``input_dim``."""
    return int(min(input_dim, 8, max(4, round(input_dim**0.5))))


class UnitNormColumns(nn.Module):
    """Parametrization that divides every column of a weight matrix by its L2 norm.

    Registered on the decoder weight, it makes the effective dictionary unit-norm
    at every step, whoever runs the training loop, and the gradient reaching the
    raw weight has no component along each column (it cannot change the norm).
    """

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight / weight.norm(dim=0, keepdim=True).clamp_min(1e-12)


@register_model("SAE")
class SAE(VaesaeModel):
    """``features = act(W_enc (x - b_dec) + b_enc)``, ``reconstruction = W_dec features + b_dec``.

    ``b_dec`` is subtracted before encoding so the encoder sees centred inputs
    once ``initialize_from_data`` has set it; it starts at zero. The encoder
    weight starts as the transpose of the (unit-norm) decoder weight, so each
    feature initially reads the same direction it writes, a start that is known
    to reduce dead features.

    ``hidden_dim`` below ``input_dim`` is allowed but warned about: a dictionary
    with fewer directions than dimensions cannot hold more features than a plain
    change of basis, so features in superposition cannot be pulled apart, which
    is what an SAE is for.

    ``sparsity_weight`` is accepted and recorded with the checkpoint so configs
    may keep it next to the model params; the loss reads its own
    ``loss.params.sparsity_weight``. Left out, it is recorded as None (the
    packaged ``model=sae`` fills it from the loss, so the two always agree).
    """

    figures = ("vaesae.report.sae_figures:draw_sae_figures",)
    input_kinds = ("embeddings",)

    def __init__(
        self,
        encoding: ColumnEncoding,
        hidden_dim: int | None = None,
        input_dim: int | None = None,
        sparsity_weight: float | None = None,
        activation: str = "relu",
        k: int | None = None,
    ):
        super().__init__()
        self.input_dim = check_input_dim(input_dim, encoding)
        self.hidden_dim = DICTIONARY_MULTIPLE * self.input_dim if hidden_dim is None else int(hidden_dim)
        self.sparsity_weight = None if sparsity_weight is None else float(sparsity_weight)
        self.activation = activation
        if k is None and activation == "topk":
            k = min(default_k(self.input_dim), self.hidden_dim)
        self.k = None if k is None else int(k)
        self._check_params()
        if self.hidden_dim < self.input_dim:
            log.warning(
                "model.params.hidden_dim (%d) is smaller than the input width (%d): an undercomplete SAE "
                "cannot separate more features than dimensions",
                self.hidden_dim,
                self.input_dim,
            )
        self.b_dec = nn.Parameter(torch.zeros(self.input_dim))
        self.encoder = nn.Linear(self.input_dim, self.hidden_dim)
        self.decoder = nn.Linear(self.hidden_dim, self.input_dim, bias=False)
        parametrize.register_parametrization(self.decoder, "weight", UnitNormColumns())
        with torch.no_grad():
            self.encoder.weight.copy_(self.decoder.weight.T)
            self.encoder.bias.zero_()
        self.register_buffer("rows_since_active", torch.zeros(self.hidden_dim, dtype=torch.long))

    def _check_params(self) -> None:
        if self.hidden_dim < 1:
            raise ConfigError(f"model.params.hidden_dim: must be at least 1, got {self.hidden_dim}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"model.params.activation: unknown activation {self.activation!r}; accepted: {', '.join(ACTIVATIONS)}"
            )
        if self.activation == "topk" and (self.k is None or not 1 <= self.k <= self.hidden_dim):
            raise ConfigError(
                f"model.params.k: activation 'topk' needs an integer k with 1 <= k <= hidden_dim "
                f"({self.hidden_dim}), got {self.k}"
            )

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "hidden_dim": self.hidden_dim,
            "sparsity_weight": self.sparsity_weight,
            "activation": self.activation,
            "k": self.k,
        }

    @classmethod
    def metric_names(cls, columns: dict[str, list[str]]) -> list[str]:
        return ["l0", "fvu", "dead_fraction"]

    @torch.no_grad()
    def initialize_from_data(self, loader: BaseDataLoader) -> None:
        """Set ``b_dec`` to the mean of the training embeddings, so the encoder starts on centred data.

        The loader computes the mean in float64 (a streaming loader in one pass, never holding the split)."""
        self.b_dec.copy_(loader.mean("embeddings").to(self.b_dec))

    def after_optimizer_step(self) -> None:
        self.normalize_decoder()

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        """Rescale the raw decoder weight to the unit-norm columns it already stands for.

        The model's function does not change (the parametrization normalises anyway),
        but gradients orthogonal to a column make its raw norm grow, which shrinks the
        effective step size; calling this after each optimizer step keeps it constant.
        """
        original = self.decoder.parametrizations.weight.original
        original.copy_(self.decoder.weight)

    def _activate(self, pre_activations: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return torch.relu(pre_activations)
        values, indices = pre_activations.topk(self.k, dim=1)
        return torch.zeros_like(pre_activations).scatter(1, indices, torch.relu(values))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Checkpoints written before dead features were tracked load as if every feature had just fired."""
        state_dict.setdefault(prefix + "rows_since_active", torch.zeros_like(self.rows_since_active))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @torch.no_grad()
    def _track_dead(self, features: torch.Tensor) -> torch.Tensor:
        """Count rows since each feature last fired; returns the mask of dead features.

        Under data-parallel training the count is over the whole global batch (summed
        over the ranks), so every rank agrees on which features are dead, as one
        process seeing the whole batch would."""
        counts = global_sum(torch.cat([(features != 0).any(dim=0).long(), features.new_tensor([features.shape[0]], dtype=torch.long)]))
        self.rows_since_active += counts[-1]
        self.rows_since_active[counts[:-1] > 0] = 0
        return self.rows_since_active > DEAD_AFTER_ROWS

    def _aux_reconstruction(self, pre_activations: torch.Tensor, dead: torch.Tensor) -> torch.Tensor:
        """What the top pre-activations among dead features alone reconstruct (no ``b_dec``)."""
        aux_k = min(int(dead.sum()), max(1, self.input_dim // 2))
        masked = pre_activations.masked_fill(~dead, float("-inf"))
        values, indices = masked.topk(aux_k, dim=1)
        return self.decoder(torch.zeros_like(pre_activations).scatter(1, indices, torch.relu(values)))

    def forward(self, batch: Batch) -> dict[str, Any]:
        pre_activations = self.encoder(batch["embeddings"] - self.b_dec)
        features = self._activate(pre_activations)
        output = {
            "reconstruction": self.decoder(features) + self.b_dec,
            "features": features,
            "pre_activations": pre_activations,
        }
        if self.training and self.activation == "topk":
            dead = self._track_dead(features)
            if dead.any():
                output["aux_reconstruction"] = self._aux_reconstruction(pre_activations, dead)
        return output

    def encode(self, batch: Batch) -> torch.Tensor:
        return self._activate(self.encoder(batch["embeddings"] - self.b_dec))

    def reconstruct(self, batch: Batch) -> torch.Tensor:
        return self.forward(batch)["reconstruction"]

    def metric_accumulator(self) -> MetricAccumulator:
        return SAEQuality(self.input_dim, self.hidden_dim)


class SAEQuality(MetricAccumulator):
    """L0, fraction of variance unexplained and fraction of dead features over a split.

    ``fvu = sum ||x - x_hat||^2 / sum ||x - mean(x)||^2`` with the split's own mean;
    the denominator comes from float64 running sums (``sum x``, ``sum ||x||^2``) so
    batches can arrive one at a time. A feature is dead when it is zero on every
    row of the split. On a split with no variance ``fvu`` is NaN.
    """

    def __init__(self, input_dim: int, hidden_dim: int):
        self.counts = torch.zeros(4, dtype=torch.float64)  # rows, active features, sum ||x||^2, squared error
        self.active_rows = torch.zeros(hidden_dim, dtype=torch.float64)
        self.x_sum = torch.zeros(input_dim, dtype=torch.float64)

    def update(self, batch: Batch, output: dict[str, Any]) -> None:
        x = batch["embeddings"].double().cpu()
        active = (output["features"].detach().cpu() != 0).double()
        error = (output["reconstruction"].detach().double().cpu() - x) ** 2
        self.counts += torch.stack([x.new_tensor(x.shape[0]), active.sum(), (x**2).sum(), error.sum()])
        self.active_rows += active.sum(dim=0)
        self.x_sum += x.sum(dim=0)

    def sums(self) -> list[torch.Tensor]:
        return [self.counts, self.active_rows, self.x_sum]

    def compute(self) -> dict[str, float]:
        rows, active_count, x_sq_sum, squared_error = self.counts.tolist()
        rows = max(rows, 1.0)
        variance = x_sq_sum - float((self.x_sum**2).sum()) / rows
        return {
            "l0": active_count / rows,
            "fvu": squared_error / variance if variance > 0 else float("nan"),
            "dead_fraction": float((self.active_rows == 0).double().mean()),
        }
