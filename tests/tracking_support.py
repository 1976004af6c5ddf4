"""Helpers for the tracking tests: a project folder with an ``mlflow`` config, reading runs back, secret scans."""
from __future__ import annotations

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import cli_env, run_cli

QUICK = ("experiment.device=cpu", "val.early_stopping.patience=100")


def write_mlflow_option(project: Path, name: str, **section: Any) -> None:
    """``project/conf/tracking/NAME.yaml``: an ``mlflow`` section selectable as ``+tracking=NAME``."""
    folder = project / "conf" / "tracking"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text("# @package mlflow\n" + yaml.safe_dump(section))


def vaesae(project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The CLI in ``project`` with its ``conf/`` on the config search path."""
    return run_cli("--config-dir", "conf", *args, cwd=project, env=cli_env(**(env or {})), timeout=timeout)


@contextmanager
def env_vars(env: dict[str, str]):
    """Environment variables for this process's own MLflow client (credentials, store opt-ins), restored afterwards."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def runs(uri: str, experiment_name: str) -> list:
    mlflow_client = client(uri)
    experiment = mlflow_client.get_experiment_by_name(experiment_name)
    return mlflow_client.search_runs([experiment.experiment_id]) if experiment else []


def files_containing(secret: str, *roots: Path) -> list[Path]:
    """Every file under ``roots`` whose bytes contain ``secret``."""
    needle = secret.encode()
    found = []
    for root in roots:
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        found += [path for path in paths if needle in path.read_bytes()]
    return found


def wait_for_first_metric(uri: str, experiment: str, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        found = runs(uri, experiment)
        if found and "train_loss" in found[0].data.metrics:
            return
        time.sleep(0.2)
    pytest.fail(f"no metric logged within {timeout_s} s (exit code {process.poll()})")
