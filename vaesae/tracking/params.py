"""The config as MLflow params: one ``dotted.key`` per leaf, so runs can be compared key by key."""
from __future__ import annotations

import json
from typing import Any, Mapping

# MLflow's limit on a param value (mlflow.utils.validation.MAX_PARAM_VAL_LENGTH).
MAX_VALUE_LENGTH = 6000


def as_text(value: Any) -> str:
    """Strings as they are; everything else as JSON (``null``, ``true``, ``[64, 32]``), cut to MLflow's limit."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mappings become dotted keys; lists and scalars are leaves."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = as_text(value)
    return flat
