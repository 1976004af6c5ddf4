"""The pieces ``task=train`` builds, made the same way for every side of a comparison.

Model, loss, optimizer and their settings come from the packaged config
(``conf/model/vae.yaml``, ``conf/config.yaml``), so the benchmark follows the defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import OmegaConf

import vaesae
from vaesae.data.encoding import ColumnEncoding
from vaesae.data.tabular import TabularDataLoader
from vaesae.losses.vae import VAELoss
from vaesae.models.vae import VAE
from vaesae.tasks.parts import build_optimizer

from benchmarks.datasets import COLUMNS, DemoSplits

CONF = Path(vaesae.__file__).resolve().parent / "conf"
MODEL_SEED = 7
VAL_BATCH_SIZE = 1024


def _defaults() -> tuple[dict, dict, dict, int]:
    model = OmegaConf.load(CONF / "model" / "vae.yaml")
    root = OmegaConf.load(CONF / "config.yaml")
    return (
        OmegaConf.to_container(model.model.params),
        OmegaConf.to_container(model.train.loss.params),
        OmegaConf.to_container(root.train.optimizer_config),
        int(root.val.early_stopping.patience),
    )


MODEL_PARAMS, LOSS_PARAMS, OPTIMIZER, PATIENCE = _defaults()


@dataclass
class Loaders:
    train: TabularDataLoader
    val: TabularDataLoader
    encoding: ColumnEncoding


def loaders(data: DemoSplits, batch_size: int) -> Loaders:
    """The train loader (shuffled, fitted encoding) and the val loader, as ``task=train`` makes them."""
    train = TabularDataLoader(data.train, COLUMNS, batch_size=batch_size, shuffle=True, seed=0,
                              cardinalities=data.cardinalities)
    encoding = train.fit_encoding()
    train.use_encoding(encoding)
    val = TabularDataLoader(data.val, COLUMNS, batch_size=VAL_BATCH_SIZE, shuffle=False, seed=0,
                            cardinalities=data.cardinalities).use_encoding(encoding)
    return Loaders(train, val, encoding)


def fresh_model(encoding: ColumnEncoding, as_vaesae_builds_it: bool = False) -> tuple[VAE, VAELoss, torch.optim.Optimizer]:
    """The same initial weights on every call, with the configured loss and optimizer.

    The optimizer is built as ``task=train`` builds it (``as_vaesae_builds_it``, with
    vaesae's default implementation choice) or as a user writes it by hand, with torch's defaults.
    """
    torch.manual_seed(MODEL_SEED)
    model = VAE(encoding=encoding, **MODEL_PARAMS)
    if as_vaesae_builds_it:
        return model, VAELoss(**LOSS_PARAMS), build_optimizer(OmegaConf.create(OPTIMIZER), model.parameters())
    options = dict(OPTIMIZER)
    optimizer_cls = getattr(torch.optim, options.pop("optimizer"))
    optimizer = optimizer_cls(model.parameters(), lr=options.pop("learning_rate"), **options)
    return model, VAELoss(**LOSS_PARAMS), optimizer
