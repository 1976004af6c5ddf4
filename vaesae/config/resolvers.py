"""OmegaConf resolvers used by the packaged configs."""
from __future__ import annotations

from typing import Callable

from omegaconf import OmegaConf

from vaesae.demo_data import demo_path

OUTPUT_KIND = {"extract": "embeddings", "predict": "predictions"}


def default_output(task: str, split: str) -> str:
    """Where a split's output goes by default: ``embeddings/train_embeddings.npy``, ``predictions/test_predictions.npy``."""
    kind = OUTPUT_KIND.get(task, "embeddings")
    return f"{kind}/{split}_{kind}.npy"


def register_resolvers(**more: Callable) -> None:
    """vaesae's resolvers, and ``more`` by name (packages above config add their own, e.g. the sweep's job folder)."""
    resolvers = {"vaesae_demo": demo_path, "vaesae_output": default_output, **more}
    for name, function in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)
