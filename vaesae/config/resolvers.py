"""OmegaConf resolvers used by the packaged configs."""
from __future__ import annotations

from typing import Callable

from omegaconf import OmegaConf

from vaesae.demo_data import demo_path


def register_resolvers(**more: Callable) -> None:
    """vaesae's resolvers, and ``more`` by name (packages above config add their own: output paths
    beside a run folder, the sweep's job and sweep folders)."""
    resolvers = {"vaesae_demo": demo_path, **more}
    for name, function in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)
