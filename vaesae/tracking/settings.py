"""The ``mlflow`` config section as the tracking code needs it.

Only the documented store forms are accepted (``vaesae.config.tracking_uri``),
and local paths are made absolute against the folder the command was run from,
so that every process of a sweep (and anyone reading the run's tags later)
sees the same store. Nothing here imports MLflow.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from vaesae.config.tracking_uri import ACCEPTED_FORMS, DEFAULT_PREFLIGHT_TIMEOUT_S, ON_UNREACHABLE, SQLITE_PREFIX, store_kind, uri_problem

__all__ = ["ACCEPTED_FORMS", "ON_UNREACHABLE", "SQLITE_PREFIX", "TrackingSettings", "absolute_uri", "store_kind", "uri_problem"]


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
