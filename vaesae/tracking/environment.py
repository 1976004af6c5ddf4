"""Process settings MLflow reads from the environment, set before it is used.

MLflow takes credentials, HTTP retry limits and the file-store opt-in from
environment variables, read at each request. Setting them here (never in a
file) gives the config's credentials to MLflow, keeps a dead server from
stalling training for minutes of retries, and lets the documented
``file:./mlruns`` form work on MLflow versions that otherwise refuse it.
Values the user exported are kept.
"""
from __future__ import annotations

import logging
import os

from vaesae.tracking.settings import TrackingSettings

log = logging.getLogger("vaesae")

USERNAME_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"
FILE_STORE_ENV = "MLFLOW_ALLOW_FILE_STORE"
# MLflow's defaults (7 retries, 120 s timeout) retry a dead server for minutes on every call.
HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}


def _allow_file_store() -> None:
    if os.environ.get(FILE_STORE_ENV, "").lower() in ("true", "1"):
        return
    os.environ[FILE_STORE_ENV] = "true"
    log.info(
        "MLflow: the file store (file:...) is in maintenance mode in MLflow and needs %s=true; "
        "vaesae sets it for this run. sqlite:///mlflow.db is the store MLflow recommends",
        FILE_STORE_ENV,
    )


def prepare_environment(settings: TrackingSettings) -> None:
    """Credentials from the config win over the environment; HTTP limits only where unset."""
    if settings.username is not None:
        os.environ[USERNAME_ENV] = settings.username
    if settings.password is not None:
        os.environ[PASSWORD_ENV] = settings.password
    for name, value in HTTP_LIMITS.items():
        os.environ.setdefault(name, value)
    if settings.kind == "file":
        _allow_file_store()


def has_credentials() -> bool:
    return bool(os.environ.get(USERNAME_ENV) and os.environ.get(PASSWORD_ENV))
