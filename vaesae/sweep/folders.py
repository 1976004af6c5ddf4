"""Job folder names that read well and can be typed unquoted: ``{num}_{key}-{value}+...``.

``0_beta-0.5``, ``4_beta-0.1789+latent_dim-16``. The job number keeps names
unique; keys are shortened to their last part (``train.loss.params.beta`` ->
``beta``) and floats to four significant digits, since the exact overrides
and values are in the job's ``status.json`` and ``.hydra/`` folder. Only
characters that neither a shell nor Hydra's override grammar treat specially
are kept (no ``=``, ``,``, brackets or quotes), so
``checkpoint.path=…/sweeps/…/0_beta-0.5`` works as typed. Names stay within
one path component of a sane length on every file system.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable

import yaml

MAX_NAME = 100
SIGNIFICANT = 4
UNSAFE = re.compile(r"[^-\w.+@]+")
ITEM_SEPARATOR = "+"


def override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def typed_value(text: str) -> Any:
    """An override's value as YAML reads it (``0.5`` a float, ``[64,32]`` a list); the text itself otherwise."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def short_value(text: str) -> str:
    value = typed_value(text)
    if isinstance(value, float):
        return f"{value:.{SIGNIFICANT}g}"
    if isinstance(value, list):
        return "-".join(map(str, value))
    return text


def short_item(override: str) -> str:
    """``train.loss.params.beta=0.5`` -> ``beta-0.5``; ``~val`` -> ``no-val``."""
    key, sep, value = override.partition("=")
    name = key.lstrip("+~").rsplit(".", 1)[-1]
    if not sep:
        return f"no-{name}"
    return UNSAFE.sub("_", f"{name}-{short_value(value)}").strip("_")


def job_folder_name(num: int | str, overrides: Iterable[str], excluded: Iterable[str] = ()) -> str:
    """``0_beta-0.5``; a name too long for comfort ends in a hash of the whole instead."""
    skip = set(excluded)
    items = sorted(short_item(o) for o in overrides if override_key(o) not in skip)
    label = ITEM_SEPARATOR.join(items)
    if len(label) > MAX_NAME:
        digest = hashlib.sha1(label.encode()).hexdigest()[:8]
        label = f"{label[:MAX_NAME - 9]}-{digest}"
    return f"{num}_{label}" if label else str(num)


def swept_values(overrides: Iterable[str], excluded: Iterable[str] = ()) -> dict[str, Any]:
    """The exact value of each swept key of a job (``{"train.loss.params.beta": 0.17885175}``)."""
    skip = set(excluded)
    values = {}
    for override in overrides:
        key, sep, text = override.partition("=")
        if override_key(override) not in skip:
            value = typed_value(text) if sep else None
            values[key.lstrip("+~")] = value if isinstance(value, (int, float, str, bool)) or value is None else text
    return values
