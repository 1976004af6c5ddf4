"""The ``mlflow`` config section as the tracking code needs it.

Only the documented store forms are accepted, and local paths are made absolute
against the folder the command was run from, so that every process of a sweep
(and anyone reading the run's tags later) sees the same store. Nothing here
imports MLflow: the validator uses it for every config.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
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


def absolute_uri(uri: str, cwd: Path) -> str:
    """The same store with a local path made absolute against ``cwd``; server URIs are unchanged."""
    kind = store_kind(uri)
    if kind == "sqlite":
        path, _, query = uri[len(SQLITE_PREFIX):].partition("?")
        absolute = (cwd / path).resolve()
        return f"{SQLITE_PREFIX}{absolute}" + (f"?{query}" if query else "")
    if kind == "file":
        return (cwd / urlsplit(uri).path).resolve().as_uri()
    return uri.rstrip("/")


@dataclass(frozen=True)
class TrackingSettings:
    """Where and how to track; ``password`` stays in memory only and is never logged."""

    uri: str
    experiment_name: str
    username: str | None
    password: str | None
    on_unreachable: str
    preflight_timeout_s: float = DEFAULT_PREFLIGHT_TIMEOUT_S

    @property
    def kind(self) -> str:
        return store_kind(self.uri) or ""

    @classmethod
    def from_section(cls, section: Mapping[str, Any], cwd: Path | None = None) -> "TrackingSettings":
        """Settings from a resolved, validated ``mlflow`` section."""
        credentials = section.get("credentials") or {}
        return cls(
            uri=absolute_uri(section["tracking_uri"], cwd or Path(os.getcwd())),
            experiment_name=section["experiment_name"],
            username=credentials.get("username"),
            password=credentials.get("password"),
            on_unreachable=section.get("on_unreachable") or "fail",
            preflight_timeout_s=float(section.get("preflight_timeout_s") or DEFAULT_PREFLIGHT_TIMEOUT_S),
        )
