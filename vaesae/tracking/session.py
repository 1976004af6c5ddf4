"""Opening a tracking store: environment, preflight, client, experiment.

Everything that can go wrong before the first run is found here, before any
data is read, so the user hears about a bad store within seconds.
"""
from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from vaesae.errors import VaesaeError
from vaesae.tracking.environment import prepare_environment
from vaesae.tracking.preflight import TrackingUnavailable, check_server
from vaesae.tracking.settings import SQLITE_PREFIX, TrackingSettings

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger("vaesae")


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@dataclass
class TrackingSession:
    """A client bound to one store and one experiment."""

    settings: TrackingSettings
    client: "MlflowClient"
    experiment_id: str


def _experiment_id(client: "MlflowClient", name: str) -> str:
    """The experiment's id, creating it if needed (another job may create it at the same moment)."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name)
        except MlflowException:
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        raise VaesaeError(
            f"mlflow.experiment_name: experiment {name!r} is deleted in the MLflow store; "
            f"restore it (mlflow experiments restore --experiment-id {experiment.experiment_id}) or choose another name"
        )
    return experiment.experiment_id


def preflight(settings: TrackingSettings) -> None:
    """What can be checked without writing anything: for a server, that it answers and accepts us."""
    prepare_environment(settings)
    if settings.kind == "http":
        # one warning from vaesae replaces urllib3's warning per retry when the server goes away
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        check_server(settings)


def _store_lock(settings: TrackingSettings) -> AbstractContextManager:
    """Held while a store is opened. Processes opening one fresh SQLite store at once race to create
    its tables (MLflow does not serialise its migrations), so a lock file beside the database makes
    them take turns; other stores need none."""
    if settings.kind != "sqlite":
        return nullcontext()
    database = Path(settings.uri[len(SQLITE_PREFIX):].partition("?")[0])
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrackingUnavailable(f"MLflow store {settings.uri}: cannot create {database.parent} ({exc.strerror})") from None
    return FileLock(f"{database}.lock")


def open_session(settings: TrackingSettings) -> TrackingSession:
    """Connect to the store and make sure the experiment exists; ``TrackingUnavailable`` if the store fails."""
    preflight(settings)
    from mlflow import MlflowClient

    try:
        with _store_lock(settings):
            client = MlflowClient(tracking_uri=settings.uri)
            experiment_id = _experiment_id(client, settings.experiment_name)
    except VaesaeError:
        raise
    except Exception as exc:
        raise TrackingUnavailable(f"MLflow store {settings.uri} failed: {first_line(exc)}") from None
    log.info("MLflow: tracking to %s, experiment %r", settings.uri, settings.experiment_name)
    return TrackingSession(settings, client, experiment_id)
