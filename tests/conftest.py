"""Shared fixtures: small demo data, isolated working folders, and running the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaesae.data.demo import write_demo_data

pytest_plugins = ["tests.mlflow_server"]

REPO = Path(__file__).resolve().parents[1]
SMALL_DEMO = {"n_train": 3000, "n_val": 1000, "n_test": 1000}


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    """A small copy of the demo data, used by the packaged config through ``VAESAE_DEMO_DIR``."""
    folder = tmp_path_factory.mktemp("demo")
    write_demo_data(folder, **SMALL_DEMO)
    return folder


@pytest.fixture
def workdir(tmp_path, demo_dir, monkeypatch) -> Path:
    """An empty working folder (the CLI's cwd) with the small demo data configured."""
    monkeypatch.setenv("VAESAE_DEMO_DIR", str(demo_dir))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HYDRA_FULL_ERROR": "0", **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_cli(*args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m vaesae ARGS`` in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "vaesae", *args],
        cwd=cwd, env=env or cli_env(), capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def cli(workdir):
    """Run the CLI in ``workdir``; ``cli(*args)`` returns the completed process."""

    def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return run_cli(*args, cwd=workdir, **kwargs)

    return run


FAST_TRAIN = ("train.epochs=2", "experiment.device=cpu")
