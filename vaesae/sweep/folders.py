"""Job folder names a person can read: ``{num}_{key}={value},...`` from the job's swept overrides.

The job number keeps names unique; keys are shortened to their last part
(``train.loss.params.beta`` -> ``beta``) since the full overrides are in the
summary and in each job's ``.hydra/`` folder. Names stay within one path
component of a sane length on every file system.
"""
from __future__ import annotations

import hashlib
import re
from typing import Iterable

MAX_NAME = 100
UNSAFE = re.compile(r"[^-\w.=,+~\[\]]")


def override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def short_item(override: str) -> str:
    key, sep, value = override.removeprefix("++").partition("=")
    prefix = key[: len(key) - len(key.lstrip("+~"))]
    return f"{prefix}{key.lstrip('+~').rsplit('.', 1)[-1]}{sep}{value}"


def job_folder_name(num: int | str, overrides: Iterable[str], excluded: Iterable[str] = ()) -> str:
    """``0_beta=0.5``; a name too long for comfort ends in a hash of the whole instead."""
    skip = set(excluded)
    items = sorted(short_item(o) for o in overrides if override_key(o) not in skip)
    label = UNSAFE.sub("_", ",".join(items))
    if len(label) > MAX_NAME:
        digest = hashlib.sha1(label.encode()).hexdigest()[:8]
        label = f"{label[:MAX_NAME - 9]}-{digest}"
    return f"{num}_{label}" if label else str(num)
