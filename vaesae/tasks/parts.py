"""Building the parts a task needs from the validated config."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import torch
from omegaconf import DictConfig, OmegaConf

from vaesae.data.base import BaseDataLoader
from vaesae.data.encoding import ColumnEncoding
from vaesae.config.validate import check_machine
from vaesae.errors import ConfigError, DataError, ProblemCollector
from vaesae.data.input_checks import parse_cardinalities, shared_codes
from vaesae.losses.base import VaesaeLoss
from vaesae.models.base import VaesaeModel
from vaesae.registry import DATALOADERS, LOSSES, MODELS
from vaesae.tasks.job import Job

log = logging.getLogger("vaesae")


def plain(node: Any) -> Any:
    """A config node as plain Python containers (lists, dicts, scalars)."""
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) or OmegaConf.is_list(node) else node


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def load_cardinalities(data: DictConfig) -> dict[str, dict[str, int]] | None:
    """The cardinalities JSON, checked to cover every categorical column with label -> integer code."""
    if not data.cardinalities_path:
        return None
    path = Path(data.cardinalities_path)
    if not path.is_file():
        raise DataError(f"data.cardinalities_path: file {path} not found")
    mapping = parse_cardinalities(path, path.read_text())
    problems = []
    for column in data.columns.categorical:
        labels = mapping.get(column) if isinstance(mapping, dict) else None
        if not isinstance(labels, dict) or not labels:
            problems.append(f"{path}: no mapping {{label: code}} for categorical column {column!r}")
        elif not all(isinstance(code, int) and code >= 0 for code in labels.values()):
            problems.append(f"{path}: column {column!r}: codes must be non-negative integers")
        elif shared := shared_codes(path, column, labels):
            problems.append(shared)
    if problems:
        raise DataError("\n".join(problems))
    return mapping


def build_loader(split: DictConfig, columns: Mapping[str, list[str]], cardinalities, seed: int, **overrides: Any) -> BaseDataLoader:
    """The split's registered loader; ``overrides`` replace loader params (e.g. ``shuffle=False``)."""
    params = {**plain(split.loader_params), **overrides}
    loader_cls = DATALOADERS.get(split.loader_class, "loader_class")
    return loader_cls(split.data_path, columns, seed=seed, cardinalities=cardinalities, **params)


def build_model(model_class: str, params: Mapping[str, Any], encoding: ColumnEncoding) -> VaesaeModel:
    model_cls = MODELS.get(model_class, "model.class")
    try:
        return model_cls(encoding=encoding, **params)
    except TypeError as exc:
        raise ConfigError(f"model.params: cannot build {model_class}: {exc}") from None


def params_of(node: DictConfig) -> dict[str, Any]:
    """The ``params`` of a ``{class, params}`` node; absent params mean none."""
    return plain(node.get("params")) or {}


def build_loss(loss: DictConfig, key: str) -> VaesaeLoss:
    loss_cls = LOSSES.get(loss["class"], f"{key}.class")
    try:
        return loss_cls(**params_of(loss))
    except TypeError as exc:
        raise ConfigError(f"{key}.params: cannot build {loss['class']}: {exc}") from None


# Optimizers whose fused kernels run on every device vaesae trains on (CPU, CUDA, MPS).
FUSED_BY_DEFAULT = ("Adam", "AdamW", "SGD")


def fused_default(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``fused=True`` for an optimizer in ``FUSED_BY_DEFAULT`` whose config chooses no implementation.

    torch's default on the CPU updates each parameter tensor with a string of
    small operations; the fused kernel updates them all in one pass, which for
    the packaged VAE's 20-odd tensors takes a fifth of the time (README,
    "Optimizer step"). ``fused``, ``foreach`` or ``differentiable`` in the
    config leave the choice to the user.
    """
    if name in FUSED_BY_DEFAULT and not {"fused", "foreach", "differentiable"} & options.keys():
        return {"fused": True}
    return {}


def build_optimizer(config: DictConfig, parameters) -> torch.optim.Optimizer:
    options = plain(config)
    name, learning_rate = options.pop("optimizer"), options.pop("learning_rate")
    try:
        return getattr(torch.optim, name)(parameters, lr=learning_rate, **fused_default(name, options), **options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"train.optimizer_config: cannot build {name}: {exc}") from None


def open_checked_tracking(job: Job) -> Any:
    """The tracking session (or None) of an inference task, after checking that this machine has the configured device.

    Both problems, when there are two, are reported together.
    """
    checks = ProblemCollector()
    checks.attempt(lambda: check_machine(job.cfg.experiment.device))
    tracking = checks.attempt(lambda: job.hooks.open_tracking(job))
    checks.raise_any()
    return tracking


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def inference_loader(cfg: DictConfig, split: str, encoding: ColumnEncoding) -> BaseDataLoader:
    """A split for extract/predict: every row once, in input order, with the checkpoint's encoding."""
    section = cfg[split]
    if section.loader_params.get("shuffle"):
        log.warning("%s.loader_params.shuffle is true; task=%s always keeps input order, so shuffle is off", split, cfg.task)
    if section.loader_params.get("num_batches_per_epoch") is not None:
        log.warning("%s.loader_params.num_batches_per_epoch is ignored by task=%s: every row is used", split, cfg.task)
    loader = build_loader(section, encoding.columns(), None, cfg.experiment.seed or 0, shuffle=False, num_batches_per_epoch=None)
    return loader.use_encoding(encoding)
