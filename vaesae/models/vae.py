"""``VAE``: a variational autoencoder for mixed numerical and categorical columns.

Categorical codes go in through learned embeddings and come out through the
same embeddings: the decoder places each row at a point of a column's embedding
space and scores every label by its dot product with that label's embedding,
plus a bias per label (tied input and output embeddings). A column with many
labels thus costs its embedding width per label rather than the decoder's
width, and labels the encoder finds alike are decoded alike. Numerical columns
(standardised by the encoding) and embedding columns come out as real values.
``encode`` returns the posterior mean, which is deterministic and what
``task=extract`` writes.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from vaesae.data.encoding import ColumnEncoding
from vaesae.errors import ConfigError
from vaesae.models.base import Batch, MetricAccumulator, VaesaeModel, check_input_dim
from vaesae.models.global_batch import standard_normal_like
from vaesae.registry import register_model

ACTIVE_UNIT_THRESHOLD = 0.01


def embedding_width(cardinality: int) -> int:
    """A common rule of thumb for categorical embedding size: grows sub-linearly, capped at 16."""
    return int(min(16, max(2, round(1.6 * cardinality**0.56))))


def mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size_in, size_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(size_in, size_out), nn.SiLU()]
    return nn.Sequential(*layers)


@register_model("VAE")
class VAE(VaesaeModel):
    figures = ("vaesae.report.latent:draw_latent_figures",)

    def __init__(
        self,
        encoding: ColumnEncoding,
        latent_dim: int = 16,
        hidden_dims: Sequence[int] = (128, 64),
        input_dim: int | None = None,
    ):
        super().__init__()
        check_input_dim(input_dim, encoding)
        if int(latent_dim) < 1 or any(int(h) < 1 for h in hidden_dims):
            raise ConfigError(
                f"model.params: latent_dim ({latent_dim}) and every hidden_dims entry ({list(hidden_dims)}) must be at least 1"
            )
        self.latent_dim, self.hidden_dims = int(latent_dim), [int(h) for h in hidden_dims]
        self.encoding = encoding
        self.num_real = len(encoding.numerical) + encoding.embedding_dim
        self.cardinalities = encoding.cardinalities
        self.embedders = nn.ModuleList(nn.Embedding(c, embedding_width(c)) for c in self.cardinalities)
        encoder_in = self.num_real + sum(e.embedding_dim for e in self.embedders)
        self.encoder = mlp([encoder_in, *self.hidden_dims])
        last_hidden = self.hidden_dims[-1] if self.hidden_dims else encoder_in
        self.to_mu = nn.Linear(last_hidden, self.latent_dim)
        self.to_logvar = nn.Linear(last_hidden, self.latent_dim)
        self.decoder = mlp([self.latent_dim, *reversed(self.hidden_dims)])
        decoder_out = self.hidden_dims[0] if self.hidden_dims else self.latent_dim
        self.real_head = nn.Linear(decoder_out, self.num_real)
        self.label_widths = [e.embedding_dim for e in self.embedders]
        self.label_space_head = nn.Linear(decoder_out, sum(self.label_widths))
        self.label_bias = nn.Parameter(torch.zeros(sum(self.cardinalities)))

    def hyperparameters(self) -> dict[str, Any]:
        return {"latent_dim": self.latent_dim, "hidden_dims": self.hidden_dims}

    @classmethod
    def metric_names(cls, columns: dict[str, list[str]]) -> list[str]:
        return (
            [f"rmse_{c}" for c in columns.get("numerical", [])]
            + [f"accuracy_{c}" for c in columns.get("categorical", [])]
            + ["active_units"]
        )

    def _inputs(self, batch: Batch) -> torch.Tensor:
        parts = [batch[k] for k in ("numerical", "embeddings") if k in batch]
        if "categorical" in batch:
            parts += [embed(batch["categorical"][:, i]) for i, embed in enumerate(self.embedders)]
        return torch.cat(parts, dim=1)

    def posterior(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(self._inputs(batch))
        return self.to_mu(hidden), self.to_logvar(hidden).clamp(-30.0, 20.0)

    def decode(self, z: torch.Tensor) -> dict[str, Any]:
        hidden = self.decoder(z)
        return {"real": self.real_head(hidden), "logits": self.label_logits(hidden)}

    def label_logits(self, hidden: torch.Tensor) -> list[torch.Tensor]:
        """Each categorical column's logits: the decoded point in its embedding space against every label's embedding."""
        points = self.label_space_head(hidden).split(self.label_widths, dim=1)
        biases = self.label_bias.split(self.cardinalities)
        return [torch.addmm(bias, point, embed.weight.T) for point, embed, bias in zip(points, self.embedders, biases)]

    def forward(self, batch: Batch) -> dict[str, Any]:
        mu, logvar = self.posterior(batch)
        z = mu + standard_normal_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return {**self.decode(z), "mu": mu, "logvar": logvar}

    def encode(self, batch: Batch) -> torch.Tensor:
        return self.posterior(batch)[0]

    def reconstruct(self, batch: Batch) -> torch.Tensor:
        """Columns in config order: numerical (scaled), categorical codes, embedding dimensions."""
        out = self.decode(self.encode(batch))
        n_num = len(self.encoding.numerical)
        codes = [logit.argmax(dim=1, keepdim=True).float() for logit in out["logits"]]
        return torch.cat([out["real"][:, :n_num], *codes, out["real"][:, n_num:]], dim=1)

    def metric_accumulator(self) -> MetricAccumulator:
        return VAEQuality(self.encoding, self.latent_dim)


def real_targets(batch: Batch) -> torch.Tensor:
    parts = [batch[k] for k in ("numerical", "embeddings") if k in batch]
    return torch.cat(parts, dim=1) if parts else torch.zeros(0)


class VAEQuality(MetricAccumulator):
    """RMSE per numerical column (original units), accuracy per categorical column, active units.

    A latent unit is active when the variance of its posterior mean over the split
    exceeds 0.01 (Burda et al., 2016): inactive units carry no information.
    """

    def __init__(self, encoding: ColumnEncoding, latent_dim: int):
        self.encoding = encoding
        n_num = len(encoding.numerical)
        self.squared_error = torch.zeros(n_num, dtype=torch.float64)
        self.correct = torch.zeros(len(encoding.categorical), dtype=torch.float64)
        self.mu_sum = torch.zeros(latent_dim, dtype=torch.float64)
        self.mu_sq_sum = torch.zeros(latent_dim, dtype=torch.float64)
        self.rows = torch.zeros((), dtype=torch.float64)

    def update(self, batch: Batch, output: dict[str, Any]) -> None:
        n_num = len(self.encoding.numerical)
        if n_num:
            error = (output["real"][:, :n_num] - batch["numerical"]).double().cpu()
            self.squared_error += (error**2).sum(dim=0)
        for i, logits in enumerate(output["logits"]):
            self.correct[i] += (logits.argmax(dim=1) == batch["categorical"][:, i]).sum().item()
        mu = output["mu"].double().cpu()
        self.mu_sum += mu.sum(dim=0)
        self.mu_sq_sum += (mu**2).sum(dim=0)
        self.rows += mu.shape[0]

    def sums(self) -> list[torch.Tensor]:
        return [self.squared_error, self.correct, self.mu_sum, self.mu_sq_sum, self.rows]

    def compute(self) -> dict[str, float]:
        rows = max(float(self.rows), 1.0)
        stds = torch.tensor(self.encoding.stds, dtype=torch.float64)
        rmse = (self.squared_error / rows).sqrt() * stds
        metrics = {f"rmse_{c}": float(v) for c, v in zip(self.encoding.numerical, rmse)}
        metrics.update({f"accuracy_{c}": float(v) / rows for c, v in zip(self.encoding.categorical, self.correct)})
        variance = self.mu_sq_sum / rows - (self.mu_sum / rows) ** 2
        metrics["active_units"] = float((variance > ACTIVE_UNIT_THRESHOLD).sum())
        return metrics
