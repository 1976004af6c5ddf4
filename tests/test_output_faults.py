"""Outputs that cannot be written: an unwritable folder, a read-only file system, a disk that fills.

Full and read-only file systems are real: a small tmpfs mounted in a private
mount namespace (``unshare``), which needs no root where user namespaces are
allowed and vanishes with the process. Where neither works these tests skip;
``test_checkpoint_io`` still covers a failing write by fault injection.
"""
from __future__ import annotations

import functools
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env, run_cli
from vaesae.engine.checkpoint_io import load_checkpoint

NAMESPACES = (["unshare", "--mount"], ["unshare", "--user", "--map-root-user", "--mount"])


@functools.cache
def private_mount() -> list[str] | None:
    """A command prefix that may mount a tmpfs, or None where this machine allows none."""
    for prefix in NAMESPACES:
        try:
            probe = subprocess.run([*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return prefix
    return None


needs_tmpfs = pytest.mark.skipif(private_mount() is None, reason="cannot mount a tmpfs in a private namespace here")


def run_on_tmpfs(mount: Path, options: str, cli_args: tuple[str, ...], cwd: Path, env: dict, keep: Path) -> tuple[int, str]:
    """Run the CLI with ``mount`` on a fresh tmpfs; what it wrote there is copied to ``keep`` afterwards."""
    mount.mkdir(exist_ok=True)
    keep.mkdir(exist_ok=True)
    command = shlex.join([sys.executable, "-m", "vaesae", *cli_args])
    script = (f"mount -t tmpfs -o {options} tmpfs {shlex.quote(str(mount))} || exit 99; {command}; status=$?; "
              f"cp -a {shlex.quote(str(mount))}/. {shlex.quote(str(keep))}/; exit $status")
    done = subprocess.run([*private_mount(), "sh", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 99, done.stderr
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def env(demo_dir) -> dict[str, str]:
    return cli_env(VAESAE_DEMO_DIR=str(demo_dir))


def assert_clean_failure(returncode: int, output: str, *expected: str) -> None:
    assert returncode == 2, output
    assert "Traceback" not in output and "epoch 1/" not in output, output
    for text in expected:
        assert text in output, output


def test_output_folder_under_a_file_fails_before_anything_runs(tmp_path, env):
    (tmp_path / "taken").write_text("a file where a folder should be")
    done = run_cli("experiment.device=cpu", "experiment.output_dir=taken/runs", cwd=tmp_path, env=env)
    assert_clean_failure(done.returncode, done.stdout + done.stderr, "taken/runs/demo: output folder is not writable")


@needs_tmpfs
def test_read_only_output_folder_fails_before_anything_runs(tmp_path, env):
    returncode, output = run_on_tmpfs(tmp_path / "ro", "ro", ("experiment.device=cpu", "experiment.output_dir=ro"),
                                      tmp_path, env, tmp_path / "kept")
    assert_clean_failure(returncode, output, "output folder is not writable (Read-only file system)")


def finished_epochs(folder: Path) -> int:
    return load_checkpoint(folder / "last_model.pt")["trainer"]["epoch"]


@needs_tmpfs
def test_disk_filling_during_training_keeps_every_checkpoint_complete(tmp_path, env):
    args = ("experiment.device=cpu", "experiment.output_dir=full", "train.epochs=20", "checkpoint.save_strategy=all")
    returncode, output = run_on_tmpfs(tmp_path / "full", "size=700k", args, tmp_path, env, tmp_path / "kept")
    assert returncode == 2 and "Traceback" not in output, output
    assert "could not be written (No space left on device)" in output and "checkpoint.resume=auto" in output
    folder = tmp_path / "kept/demo/checkpoints"
    names = sorted(p.name for p in folder.iterdir())
    assert not [n for n in names if n.endswith(".tmp")], names
    assert all(f"{p.name}.sha256" in names for p in folder.glob("*.pt"))
    assert all(n[: -len(".sha256")] in names for n in names if n.endswith(".sha256")), names
    for path in folder.glob("*.pt"):
        load_checkpoint(path)
    done = finished_epochs(folder)
    assert 1 <= done < 20 and sorted(folder.glob("epoch_*.pt")) == sorted(folder / f"epoch_{e}.pt" for e in range(1, done + 1))


@pytest.mark.slow
@needs_tmpfs
@pytest.mark.parametrize("suffix", [".npy", ".parquet"])
def test_disk_filling_during_extract_leaves_no_output_behind(tmp_path, env, suffix):
    trained = run_cli("experiment.device=cpu", "train.epochs=1", cwd=tmp_path, env=env)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    outputs = tuple(f"{split}.output=full/{split}{suffix}" for split in ("train", "val", "test"))
    returncode, output = run_on_tmpfs(tmp_path / "full", "size=64k", ("task=extract", "experiment.device=cpu", *outputs),
                                      tmp_path, env, tmp_path / "kept")
    assert returncode == 2 and "Traceback" not in output, output
    assert f"full/train{suffix}: could not be written (" in output and "No space left on device" in output
    assert os.listdir(tmp_path / "kept") == []
