"""A custom model and loss for vaesae, registered by import.

Trained by config alone, from the repository root (``model/linear.yaml`` beside this file
imports this module through its ``plugins`` list):

    python -m vaesae --config-dir examples/custom_model model=linear
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from vaesae import register_loss, register_model
from vaesae.data.encoding import ColumnEncoding
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import VaesaeModel


@register_model("LinearAutoencoder")
class LinearAutoencoder(VaesaeModel):
    """A linear autoencoder over the numerical columns (PCA-like)."""

    def __init__(self, encoding: ColumnEncoding, code_dim: int = 2):
        super().__init__()
        width = len(encoding.numerical)
        self.code_dim = code_dim
        self.encoder, self.decoder = nn.Linear(width, code_dim), nn.Linear(code_dim, width)

    def hyperparameters(self) -> dict[str, Any]:
        return {"code_dim": self.code_dim}

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        return {"reconstruction": self.decoder(self.encoder(batch["numerical"]))}

    def encode(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.encoder(batch["numerical"])

    def reconstruct(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.forward(batch)["reconstruction"]


@register_loss("ReconstructionLoss")
class ReconstructionLoss(VaesaeLoss):
    """Mean squared error of the numerical columns."""

    components = ("loss",)

    def __call__(self, batch: dict[str, torch.Tensor], output: dict[str, Any]) -> dict[str, torch.Tensor]:
        return {"loss": ((output["reconstruction"] - batch["numerical"]) ** 2).sum(dim=1).mean()}
