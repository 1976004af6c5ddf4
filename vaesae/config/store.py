"""Registering the schema in Hydra's ConfigStore (group ``schema``, so ``model=`` never offers it)."""
from hydra.core.config_store import ConfigStore

from vaesae.config.schema import RootConfig


def _share_store_on_deepcopy(store: ConfigStore, memo: dict) -> ConfigStore:
    return store


def register_configs() -> None:
    """Store the schema, and keep the store a single shared object.

    Hydra deep-copies its config repository each time it lists a config group
    (about 80 times for ``--help``), and the repository holds the ConfigStore
    singleton, so every listing copied every registered config: 0.3 s of
    ``--help``. The store is only written by ``store()``, and ``load()`` already
    hands out copies of its nodes, so a deep copy may share it.
    """
    ConfigStore.__deepcopy__ = _share_store_on_deepcopy
    ConfigStore.instance().store(group="schema", name="config", node=RootConfig)
