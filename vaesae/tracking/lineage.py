"""How the jobs of a sweep find their parent run.

The parent run is created in the process that starts the sweep; its id and the
swept keys travel to the jobs in environment variables, which the launchers'
worker processes (joblib's included) inherit. No file is involved, so a stale
id from an earlier sweep cannot be picked up.
"""
from __future__ import annotations

import os

PARENT_ENV = "VAESAE_MLFLOW_PARENT_RUN_ID"
SWEPT_ENV = "VAESAE_MLFLOW_SWEPT_KEYS"
SWEEP_TAG_PREFIX = "sweep."


def announce(parent_run_id: str, swept_keys: list[str]) -> None:
    os.environ[PARENT_ENV] = parent_run_id
    os.environ[SWEPT_ENV] = ",".join(swept_keys)


def withdraw() -> None:
    os.environ.pop(PARENT_ENV, None)
    os.environ.pop(SWEPT_ENV, None)


def parent_run_id() -> str | None:
    return os.environ.get(PARENT_ENV) or None


def swept_values(overrides: list[str]) -> dict[str, str]:
    """``sweep.KEY: value`` for each of this job's overrides whose key the sweep varies."""
    swept = set(filter(None, os.environ.get(SWEPT_ENV, "").split(",")))
    values = {}
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+") in swept:
            values[SWEEP_TAG_PREFIX + key.lstrip("+")] = value
    return values
