"""A warning at the start of a sweep whose ranking metric cannot compare its jobs.

``val_loss`` of a VAE includes ``beta * KL``: in a sweep over ``beta`` it always
favours the smallest beta, whatever the model learned. When a sweep varies a
loss parameter and ranks by the total loss, it says so and names a metric
that does not depend on the loss weights (``val_elbo`` for the VAE).
"""
from __future__ import annotations

import logging

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("vaesae")

LOSS_PARAMS = "train.loss.params."
TOTAL_LOSSES = ("val_loss", "train_loss")
WEIGHT_FREE_METRIC = {"VAELoss": "elbo"}


def swept_keys(config: DictConfig) -> list[str]:
    """Keys the sweep varies: comma lists and sweep functions on the command line, and a sweeper's ``params``."""
    try:
        parsed = OverridesParser.create().parse_overrides(list(config.hydra.overrides.task))
    except HydraException:
        parsed = []
    params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
    return [o.key_or_group for o in parsed if o.is_sweep_override()] + [str(key) for key in params]


def comparable_metric(config: DictConfig) -> str | None:
    """The metric to rank by instead of ``checkpoint.metric`` when that one weighs a swept loss parameter; else None."""
    metric = OmegaConf.select(config, "checkpoint.metric", default=None)
    weighted = [key for key in swept_keys(config) if key.startswith(LOSS_PARAMS)]
    if metric not in TOTAL_LOSSES or not weighted:
        return None
    loss = OmegaConf.select(config, "train.loss.class", default=None)
    return f"{metric.split('_')[0]}_{WEIGHT_FREE_METRIC.get(loss, 'reconstruction_loss')}"


def warn_if_incomparable(config: DictConfig) -> None:
    better = comparable_metric(config)
    if better:
        log.warning(
            "checkpoint.metric=%s includes the loss weights this sweep varies (%s), so it does not compare the jobs: "
            "rank them by a metric that does not depend on them, e.g. checkpoint.metric=%s",
            config.checkpoint.metric, ", ".join(k for k in swept_keys(config) if k.startswith(LOSS_PARAMS)), better,
        )
