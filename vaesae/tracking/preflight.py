"""One quick request to a tracking server before any work starts.

MLflow's own client retries a server that does not answer for minutes; the
preflight asks once, with a short timeout, so a wrong address, a server that
is down or refuses, and wrong credentials are all reported within seconds and
before training.
"""
from __future__ import annotations

from vaesae.errors import VaesaeError
from vaesae.tracking.environment import PASSWORD_ENV, USERNAME_ENV, has_credentials
from vaesae.tracking.settings import TrackingSettings

TIMEOUT_S = 5
PROBE = "/api/2.0/mlflow/experiments/get-by-name"
MISSING_EXPERIMENT = "RESOURCE_DOES_NOT_EXIST"


class TrackingUnavailable(VaesaeError):
    """The tracking store cannot be reached or refuses to work; ``mlflow.on_unreachable`` decides."""


def credentials_hint() -> str:
    if has_credentials():
        return f"the credentials given were rejected; check mlflow.credentials or {USERNAME_ENV} / {PASSWORD_ENV}"
    return f"it requires credentials: set {USERNAME_ENV} and {PASSWORD_ENV} (or mlflow.credentials)"


def root_reason(error: BaseException) -> str:
    """The innermost cause of a failed request ("[Errno 111] Connection refused"), without urllib3's wrapping."""
    error = error.__context__ or error
    while True:
        nested = getattr(error, "reason", None) or next((a for a in error.args if isinstance(a, BaseException)), None)
        if not isinstance(nested, BaseException):
            break
        error = nested
    return str(error).split("): ", 1)[-1].splitlines()[0]


def check_server(settings: TrackingSettings) -> None:
    """Raise ``TrackingUnavailable`` or, for credentials and permissions, ``VaesaeError``."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    try:
        response = http_request(
            get_default_host_creds(settings.uri), PROBE, "GET", max_retries=0, timeout=TIMEOUT_S,
            params={"experiment_name": settings.experiment_name},
        )
    except MlflowException as exc:
        raise TrackingUnavailable(f"MLflow server {settings.uri} cannot be reached: {root_reason(exc)}") from None
    status = response.status_code
    if status == 401:
        raise VaesaeError(f"MLflow server {settings.uri} refused access (HTTP 401): {credentials_hint()}")
    if status == 403:
        raise VaesaeError(
            f"MLflow server {settings.uri} denied access (HTTP 403): the user may not read experiment "
            f"{settings.experiment_name!r}; ask the server's administrator for permission"
        )
    if status != 200 and not (status == 404 and MISSING_EXPERIMENT in response.text):
        raise TrackingUnavailable(
            f"MLflow server {settings.uri} answered HTTP {status} instead of working; "
            "is the address that of an MLflow tracking server?"
        )
