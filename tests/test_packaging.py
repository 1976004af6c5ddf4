"""The built wheel carries the Hydra configs, so an installed vaesae runs without the repository."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, cli_env


@pytest.mark.slow
def test_wheel_ships_the_config_tree(tmp_path):
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(wheel_dir)], check=True)
    wheel = next(wheel_dir.glob("vaesae-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True)
    env = cli_env()
    env["PYTHONPATH"] = str(target)
    where = subprocess.run([sys.executable, "-c", "import vaesae; print(vaesae.__file__)"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))
    job = subprocess.run([sys.executable, "-m", "vaesae", "model=sae", "--cfg", "job"], env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    assert job.returncode == 0, job.stderr
    assert "class: SAE" in job.stdout and "EmbeddingDataLoader" in job.stdout
