"""From Hydra's composed config to a validated, typed config."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from vaesae.config.schema import RootConfig
from vaesae.config.validate import validate
from vaesae.errors import ConfigError
from vaesae.registry import import_plugins


def resolve(cfg: DictConfig) -> dict:
    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None) or "config"
        raise ConfigError(f"{key}: {exc.msg if hasattr(exc, 'msg') else exc}") from None


def load_config(cfg: DictConfig, plugin_folders: Sequence[Path] = ()) -> DictConfig:
    """Resolve interpolations, import plugins (looked up in ``plugin_folders`` first), validate everything,
    and apply the schema's types and defaults."""
    container = resolve(cfg)
    container.pop("hydra", None)
    plugins = container.get("plugins") or []
    if isinstance(plugins, list):
        import_plugins([str(p) for p in plugins], plugin_folders)
    validate(container)
    typed = OmegaConf.merge(OmegaConf.structured(RootConfig), container)
    OmegaConf.set_readonly(typed, True)
    return typed
