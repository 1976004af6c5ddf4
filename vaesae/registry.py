"""Name -> class registries for models, losses and data loaders.

Configs name parts by string (``model.class: VAE``); the registries turn those
names into classes and, for an unknown name, list what is registered.
"""
from __future__ import annotations

import difflib
import importlib
import sys
from pathlib import Path
from typing import Callable, Generic, Sequence, TypeVar

from vaesae.errors import ConfigError

T = TypeVar("T")

ENTRY_POINT_GROUP = "vaesae.plugins"


def did_you_mean(name: str, candidates) -> str:
    """A ' (did you mean X?)' hint, or an empty string when nothing is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Registry(Generic[T]):
    """A named collection of classes of one kind (model, loss, data loader)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict[str, type[T]] = {}

    def register(self, name: str | None = None) -> Callable[[type[T]], type[T]]:
        def decorator(cls: type[T]) -> type[T]:
            self._classes[name or cls.__name__] = cls
            return cls

        return decorator

    def names(self) -> list[str]:
        load_builtins()
        return sorted(self._classes)

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def get(self, name: str, key: str = "") -> type[T]:
        """The class registered as ``name``; ``key`` names the config key for errors."""
        load_builtins()
        if name in self._classes:
            return self._classes[name]
        where = f"{key}: " if key else ""
        raise ConfigError(
            f"{where}unknown {self.kind} {name!r}{did_you_mean(name, self._classes)}; "
            f"registered: {', '.join(sorted(self._classes))}"
        )


MODELS: Registry = Registry("model")
LOSSES: Registry = Registry("loss")
DATALOADERS: Registry = Registry("data loader")


def register_model(name: str | None = None):
    """Register a model class under ``name`` (default: the class name)."""
    return MODELS.register(name)


def register_loss(name: str | None = None):
    """Register a loss class under ``name`` (default: the class name)."""
    return LOSSES.register(name)


def register_dataloader(name: str | None = None):
    """Register a data loader class under ``name`` (default: the class name)."""
    return DATALOADERS.register(name)


_builtins_loaded = False


def load_builtins() -> None:
    """Import the built-in parts and installed plugins (entry point group ``vaesae.plugins``)."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    for module in ("vaesae.models", "vaesae.losses", "vaesae.data"):
        importlib.import_module(module)
    from importlib.metadata import entry_points  # 30 ms, which `--help` does not need

    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        entry_point.load()


def import_plugins(modules: list[str], folders: Sequence[Path] = ()) -> None:
    """Import user modules named in the config's ``plugins`` list so they can register parts.

    ``folders`` (the user's config folders) are searched first, so a module
    kept beside the config is found whatever the entry point (the ``vaesae``
    script, ``python -m vaesae``) and whatever the current folder.
    """
    for folder in reversed([str(Path(f).resolve()) for f in folders]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    problems = []
    for index, module in enumerate(modules):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            problems.append(f"plugins[{index}]: cannot import module {module!r}: {exc}")
    if problems:
        raise ConfigError(problems)
