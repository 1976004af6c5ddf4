"""A real MLflow tracking server for the tests: one per test session, with basic auth.

Started with ``mlflow server --app-name basic-auth`` on a free 127.0.0.1 port,
with its own SQLite store and artifact folder under the session's temporary
directory, and stopped (with its worker processes) when the session ends. Its
only user's password is a sentinel that the secret scans look for.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

USERNAME = "vaesae-tester"
SENTINEL = "Sentinel-" + secrets.token_hex(8)
START_TIMEOUT_S = 180


@dataclass
class MlflowServer:
    uri: str
    username: str
    password: str
    root: Path

    def credentials_env(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_USERNAME": self.username, "MLFLOW_TRACKING_PASSWORD": self.password}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    pytest.fail(f"mlflow server did not answer within {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory) -> MlflowServer:
    root = tmp_path_factory.mktemp("mlflow-server")
    auth_ini = root / "basic_auth.ini"
    auth_ini.write_text(
        "[mlflow]\ndefault_permission = MANAGE\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\nadmin_username = {USERNAME}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\nauth_cache_ttl_seconds = 600\n"
    )
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(auth_ini),
        "MLFLOW_AUTH_ADMIN_PASSWORD": SENTINEL,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    port = free_port()
    log = root / "server.log"
    command = [
        sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'store.db'}",
        "--artifacts-destination", str(root / "artifacts"),
    ]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(uri, process, log)
        yield MlflowServer(uri, USERNAME, SENTINEL, root)
    finally:
        _stop(process)
