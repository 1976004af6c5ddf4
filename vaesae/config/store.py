"""Registering the schema in Hydra's ConfigStore (group ``schema``, so ``model=`` never offers it)."""
from hydra.core.config_store import ConfigStore

from vaesae.config.schema import RootConfig


def register_configs() -> None:
    ConfigStore.instance().store(group="schema", name="config", node=RootConfig)
