"""Keeping secrets out of everything vaesae writes."""
from __future__ import annotations

import copy
from typing import Any

MASK = "***"
SECRET_PATHS = (("mlflow", "credentials", "password"),)


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
