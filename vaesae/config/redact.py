"""Keeping secrets out of everything vaesae writes.

Two layers. Files vaesae writes itself (``config.yaml``, checkpoints, MLflow
params and tags) get a redacted copy of the config. Files Hydra writes before
any vaesae code runs (``.hydra/*.yaml``, ``multirun.yaml``) and the command
lines Hydra logs never see the secret at all: a literal password, from the
command line or a config file, is moved into this process's environment and
replaced by an ``${oc.env:…}`` reference, which the job resolves in memory.
Child processes (sweep workers) inherit the environment, not a file. This
holds for every form a secret can take on the command line: the key itself
(``mlflow.credentials.password=…``), or a whole mapping that holds it
(``+mlflow={…,credentials:{…,password:…}}``), which is parsed with Hydra's own
override grammar and written back with the reference in place of the secret.
"""
from __future__ import annotations

import copy
import os
import re
from typing import Any, Callable

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
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


def _quoted(text: str) -> str:
    """``text`` as a single-quoted string of Hydra's override grammar."""
    body = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", text)
    return "'" + re.sub(r"(\\+)$", lambda m: m.group(1) * 2, body) + "'"


def override_value_text(value: Any) -> str:
    """A parsed override value written back in Hydra's override grammar (references stay references)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{override_value_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(override_value_text(item) for item in value) + "]"
    if isinstance(value, str):
        return value if re.fullmatch(r"\$\{[^{}]*\}", value) else _quoted(value)
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    return repr(value)


def _holds_secrets(key: str) -> bool:
    return any(secret.startswith(key + ".") for secret in SECRET_KEYS)


def _replace_in_mapping(
    key: str, value_text: str, replace: Callable[[str, str], str], unreadable: str | None
) -> str | None:
    """The mapping ``value_text`` given for ``key`` with ``replace(secret_key, secret)`` applied to the
    secrets inside it; None when it holds none, ``unreadable`` when it cannot be parsed."""
    try:
        value = OverridesParser.create().parse_override(f"{key}={value_text}").value()
    except HydraException:
        return unreadable
    found = False
    for secret in SECRET_KEYS:
        parent_path, name = secret[len(key) + 1:].rpartition(".")[::2]
        parent = value
        for part in filter(None, parent_path.split(".")):
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and isinstance(parent.get(name), str):
            parent[name] = replace(secret, parent[name])
            found = True
    return override_value_text(value) if found else None


def _replace_secrets(overrides: list[str], replace: Callable[[str, str], str], unreadable: str | None) -> list[str]:
    """``overrides`` with ``replace(secret_key, secret)`` in place of every secret, whether given by its
    key or inside a mapping (``+mlflow={…}``); a mapping Hydra cannot parse becomes ``unreadable``
    (None: left as it is, for Hydra to report)."""
    replaced = []
    for override in overrides:
        parts = _split_override(override)
        if parts is not None and parts[1] in SECRET_KEYS:
            override = f"{parts[0]}{parts[1]}={replace(parts[1], _unquoted(parts[2]))}"
        elif parts is not None and _holds_secrets(parts[1]) and "{" in parts[2]:
            inner = _replace_in_mapping(parts[1], parts[2], replace, unreadable)
            override = override if inner is None else f"{parts[0]}{parts[1]}={inner}"
        replaced.append(override)
    return replaced


def conceal_overrides(args: list[str]) -> list[str]:
    """Command-line arguments with every secret value replaced by a reference to the environment."""
    return _replace_secrets(args, lambda key, value: value if _is_reference(value) else hide(key, value), None)


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
    return _replace_secrets(overrides, lambda key, value: MASK, MASK)


def secret_assignments(overrides: list[str]) -> str:
    """Shell assignments a printed command needs before it: the variables its secret references name.

    A password moved into the environment by ``hide`` exists only in the process
    that moved it, so a command printed for later use says explicitly that the
    variable must be set again (with a placeholder, never the secret).
    """
    needed = [key for key in SECRET_KEYS if any(reference(key) in override for override in overrides)]
    return "".join(f"{hidden_env(key)}='your {key} value' " for key in needed)
