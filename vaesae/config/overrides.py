"""Config-key overrides in the form Hydra gets them and in the form the user typed them.

Every dotted key (and ``dry_run``, ``overwrite_outputs``, ``plugins``) reaches Hydra
as ``++key=value``, so a key that a user's own config lacks can still be set and the
validator, not Hydra, reports a wrong type or a misspelt key. What the run records
for people (the MLflow ``vaesae.overrides`` tag, the printed commands) shows the
override as typed.
"""
from __future__ import annotations

import re

CONFIG_KEY = re.compile(r"^(?![+~])(?!hydra\.)((dry_run|overwrite_outputs|plugins)|[A-Za-z_][\w-]*(\.[\w-]+)+)=")


def as_config_key(override: str) -> str:
    """``train.epochs=5`` -> ``++train.epochs=5``: set the key whether or not the config has it yet."""
    return CONFIG_KEY.sub(r"++\1=", override)


def as_typed(override: str) -> str:
    """``++train.epochs=5`` -> ``train.epochs=5``: the inverse of ``as_config_key``."""
    return override[2:] if override.startswith("++") and CONFIG_KEY.match(override[2:]) else override
