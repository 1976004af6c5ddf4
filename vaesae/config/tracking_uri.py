"""The accepted ``mlflow.tracking_uri`` forms and ``on_unreachable`` choices.

The validator checks them for every config, so they live with the config,
and the tracking code (``vaesae.tracking.settings``) reads them from here.
Nothing here imports MLflow.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

ACCEPTED_FORMS = "http://host[:port], https://host[:port], sqlite:///path/to/file.db, file:path/to/folder"
ON_UNREACHABLE = ("fail", "skip")
SQLITE_PREFIX = "sqlite:///"
DEFAULT_PREFLIGHT_TIMEOUT_S = 5.0
MAX_PREFLIGHT_TIMEOUT_S = 300


def store_kind(uri: str) -> str | None:
    """``http``, ``sqlite`` or ``file`` for an accepted URI, None otherwise."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.hostname:
        return "http"
    if uri.startswith(SQLITE_PREFIX) and len(uri) > len(SQLITE_PREFIX):
        return "sqlite"
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path:
        return "file"
    return None


def uri_problem(uri: Any) -> str | None:
    """Why ``uri`` cannot be used as ``mlflow.tracking_uri``, or None when it can."""
    if not isinstance(uri, str):
        return None
    if store_kind(uri) is None:
        return f"mlflow.tracking_uri: {uri!r} is not an accepted form; use one of {ACCEPTED_FORMS}"
    if store_kind(uri) == "http" and (urlsplit(uri).username or urlsplit(uri).password):
        return (
            "mlflow.tracking_uri: the URI holds credentials; give them as mlflow.credentials or, better, "
            "in the environment variables MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
        )
    return None
