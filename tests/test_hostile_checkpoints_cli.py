"""Damaged and malicious checkpoints handed to the real CLI: one clear error, no code run."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.checkpoint_files import damaged_copy, malicious_pickle, malicious_zip
from tests.cli_process import CliProcess
from tests.conftest import cli_env
from vaesae.engine.checkpoint_io import save_checkpoint

UNSAFE_ENV = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}
CLI_DAMAGE = ("truncated", "empty", "text", "flipped-byte", "missing")


@pytest.fixture
def env(demo_dir) -> dict[str, str]:
    return cli_env(VAESAE_DEMO_DIR=str(demo_dir))


@pytest.fixture
def sound_checkpoint(tmp_path) -> Path:
    path = tmp_path / "sound" / "best_model.pt"
    save_checkpoint(path, {"model_class": "VAE", "model_state": {"weight": torch.ones(64, 64)}, "epoch": 1})
    return path


def start_all(runs: dict[str, tuple[dict[str, str], tuple[str, ...]]], cwd: Path) -> dict[str, CliProcess]:
    """Start every CLI run (name: environment, arguments) at once, each in its own run folder."""
    return {name: CliProcess(*args, f"experiment.name={name}", cwd=cwd, env=env) for name, (env, args) in runs.items()}


def assert_one_clear_error(run: CliProcess, names: str) -> None:
    assert run.wait() == 2, run.output
    errors = [line for line in run.output.splitlines() if "[ERROR]" in line]
    assert len(errors) == 1 and names in errors[0], run.output
    assert "Traceback" not in run.output


def test_damaged_checkpoints_give_one_clear_error(tmp_path, env, sound_checkpoint):
    """Every kind of damage is checked in-process (test_checkpoint_io); these are the common ones."""
    paths = {kind: damaged_copy(sound_checkpoint, tmp_path / kind, kind) for kind in CLI_DAMAGE}
    runs = start_all({kind: (env, ("task=extract", "experiment.device=cpu", f"checkpoint.path={path}"))
                      for kind, path in paths.items()}, tmp_path)
    for kind, run in runs.items():
        assert_one_clear_error(run, str(paths[kind]))


@pytest.mark.slow
def test_malicious_checkpoint_never_runs_even_when_torch_is_told_to_trust_files(tmp_path, env):
    marker = tmp_path / "MARKER"
    files = {"zip": malicious_zip(tmp_path / "evil.pt", marker), "pickle": malicious_pickle(tmp_path / "evil.pkl", marker)}
    unsafe_env = {**env, **UNSAFE_ENV}
    extract = ("task=extract", "experiment.device=cpu", "checkpoint.path={}")
    resume = ("experiment.device=cpu", "checkpoint.resume={}")
    runs = {
        "zip-extract": ("zip", env, extract),
        "zip-extract-unsafe-env": ("zip", unsafe_env, extract),
        "zip-resume-unsafe-env": ("zip", unsafe_env, resume),
        "pickle-extract-unsafe-env": ("pickle", unsafe_env, extract),
    }
    started = start_all({name: (run_env, tuple(a.format(files[kind]) for a in args))
                         for name, (kind, run_env, args) in runs.items()}, tmp_path)
    for name, run in started.items():
        assert_one_clear_error(run, str(files[runs[name][0]]))
    assert not marker.exists()
