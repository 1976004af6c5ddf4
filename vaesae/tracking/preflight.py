"""A quick request to a tracking server before any work starts.

MLflow's own client retries a server that does not answer for minutes; the
preflight asks with a short timeout (``mlflow.preflight_timeout_s``, 5 s by
default) and tries ``ATTEMPTS`` times, ``PAUSE_S`` apart, so a wrong address, a
server that is down or refuses, and wrong credentials are all reported within
seconds and before training, while a healthy server that is slow to answer on
a loaded machine gets a second chance. A refusal of the credentials is final
at once. The message says what was tried.
"""
from __future__ import annotations

import time

from vaesae.errors import VaesaeError
from vaesae.tracking.environment import PASSWORD_ENV, USERNAME_ENV, has_credentials
from vaesae.tracking.settings import TrackingSettings

ATTEMPTS = 3
PAUSE_S = 1.0
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


def _tried(settings: TrackingSettings) -> str:
    return (f"tried {ATTEMPTS} times, {settings.preflight_timeout_s:g} s timeout each, {PAUSE_S:g} s apart; "
            "on a loaded machine raise mlflow.preflight_timeout_s")


def _ask(settings: TrackingSettings):
    """One request for the experiment; a failure to get any answer is ``TrackingUnavailable``."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    try:
        return http_request(
            get_default_host_creds(settings.uri), PROBE, "GET", max_retries=0, timeout=settings.preflight_timeout_s,
            params={"experiment_name": settings.experiment_name},
        )
    except MlflowException as exc:
        raise TrackingUnavailable(f"MLflow server {settings.uri} cannot be reached: {root_reason(exc)}") from None


def _answer(settings: TrackingSettings):
    """The server's first answer within ``ATTEMPTS`` tries; the last failure, saying what was tried, otherwise."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _ask(settings)
        except TrackingUnavailable as error:
            if attempt == ATTEMPTS:
                raise TrackingUnavailable(f"{error} ({_tried(settings)})") from None
            time.sleep(PAUSE_S)


def check_server(settings: TrackingSettings) -> None:
    """Raise ``TrackingUnavailable`` or, for credentials and permissions, ``VaesaeError``."""
    response = _answer(settings)
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
