"""Keeping secrets out of everything vaesae writes.

Two layers. Files vaesae writes itself (``config.yaml``, checkpoints, MLflow
params and tags) get a redacted copy of the config. Files Hydra writes before
any vaesae code runs (``.hydra/*.yaml``, ``multirun.yaml``) and the command
lines Hydra logs never see the secret at all: a literal password, from the
command line or a config file, is moved into this process's environment and
replaced by an ``${oc.env:…}`` reference, which the job resolves in memory.
Child processes (sweep workers) inherit the environment, not a file.
"""
from __future__ import annotations

import copy
import os
from typing import Any

from omegaconf import DictConfig, OmegaConf, read_write

MASK = "***"
SECRET_PATHS = (("mlflow", "credentials", "password"),)
SECRET_KEYS = tuple(".".join(path) for path in SECRET_PATHS)


def redacted(container: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a plain config with every secret replaced by ``***``."""
    clean = copy.deepcopy(container)
    for path in SECRET_PATHS:
        node = clean
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(path[-1]) is not None:
            node[path[-1]] = MASK
    return clean


def hidden_env(key: str) -> str:
    """The environment variable that holds the secret at dotted ``key`` while vaesae runs."""
    return "VAESAE_SECRET_" + key.replace(".", "_").upper()


def reference(key: str) -> str:
    return "${oc.env:" + hidden_env(key) + "}"


def _split_override(override: str) -> tuple[str, str, str] | None:
    """``(prefix, key, value)`` of a ``[+|++]key=value`` override, None for anything else."""
    if "=" not in override or override.startswith(("-", "~")):
        return None
    head, value = override.split("=", 1)
    key = head.lstrip("+")
    return head[: len(head) - len(key)], key, value


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${")


def hide(key: str, value: str) -> str:
    """Put the secret ``value`` of ``key`` into the environment and return the reference to it."""
    os.environ[hidden_env(key)] = value
    return reference(key)


def conceal_overrides(args: list[str]) -> list[str]:
    """Command-line arguments with every secret value replaced by a reference to the environment."""
    concealed = []
    for arg in args:
        parts = _split_override(arg)
        if parts is not None and parts[1] in SECRET_KEYS and not _is_reference(parts[2]):
            prefix, key, value = parts
            arg = f"{prefix}{key}={hide(key, _unquoted(value))}"
        concealed.append(arg)
    return concealed


def conceal_config(cfg: DictConfig) -> list[str]:
    """Replace literal secrets in a composed config by references; return overrides that do the same.

    The overrides are for configs Hydra composes again from the files, as it does
    for every job of a sweep.
    """
    overrides = []
    for key in SECRET_KEYS:
        parent_key, name = key.rsplit(".", 1)
        parent = OmegaConf.select(cfg, parent_key, default=None)
        if not isinstance(parent, DictConfig) or OmegaConf.is_interpolation(parent, name):
            continue
        value = parent.get(name)
        if value is None:
            continue
        with read_write(parent):
            parent[name] = hide(key, str(value))
        overrides.append(f"{key}={reference(key)}")
    return overrides


def redacted_overrides(overrides: list[str]) -> list[str]:
    """Command-line overrides as they may be shown or stored: secret values masked."""
    shown = []
    for override in overrides:
        parts = _split_override(override)
        if parts is not None and parts[1] in SECRET_KEYS:
            override = f"{parts[0]}{parts[1]}={MASK}"
        shown.append(override)
    return shown
