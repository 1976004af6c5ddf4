"""Checkpoint files: atomic writes, digests, and refusing damaged or hostile files (in-process)."""
from __future__ import annotations

import errno
import hashlib
import io
import os
from pathlib import Path

import pytest
import torch

from tests.checkpoint_files import DAMAGE, damaged_copy, malicious_pickle, malicious_zip, write_with_digest
from vaesae.atomic_files import remove_stale_temp_files, temp_path
from vaesae.engine.checkpoint_io import digest_path, load_checkpoint, recorded_digests, save_checkpoint
from vaesae.engine.checkpointing import Checkpointing, RunIdentity
from vaesae.errors import CheckpointError, OutputError

PAYLOAD = {"model_state": {"weight": torch.arange(6.0).reshape(2, 3)}, "epoch": 3}


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    path = tmp_path / "run" / "last_model.pt"
    save_checkpoint(path, PAYLOAD)
    return path


def test_round_trip_with_sha256_beside_it(checkpoint):
    loaded = load_checkpoint(checkpoint)
    assert torch.equal(loaded["model_state"]["weight"], PAYLOAD["model_state"]["weight"]) and loaded["epoch"] == 3
    assert recorded_digests(checkpoint) == [hashlib.sha256(checkpoint.read_bytes()).hexdigest()]
    assert digest_path(checkpoint).read_text().endswith(f"  {checkpoint.name}\n")
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == ["last_model.pt", "last_model.pt.sha256"]


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_file_is_one_clear_error(checkpoint, tmp_path, kind):
    damaged = damaged_copy(checkpoint, tmp_path / "damaged", kind)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(damaged)
    message = str(caught.value)
    assert str(damaged) in message and "\n" not in message


@pytest.mark.parametrize("force_unsafe_env", [False, True], ids=["plain", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"])
@pytest.mark.parametrize("make", [malicious_zip, malicious_pickle], ids=["torch-zip", "bare-pickle"])
@pytest.mark.parametrize("with_digest", [True, False], ids=["digest", "no-digest"])
def test_hostile_file_never_runs_its_code(tmp_path, monkeypatch, make, force_unsafe_env, with_digest):
    if force_unsafe_env:
        monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker = tmp_path / "MARKER"
    hostile = make(tmp_path / "best_model.pt", marker)
    if not with_digest:
        digest_path(hostile).unlink()
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(hostile)
    assert str(hostile) in str(caught.value)
    assert not marker.exists()


def test_hostile_zip_is_named_as_such(tmp_path):
    hostile = malicious_zip(tmp_path / "best_model.pt", tmp_path / "MARKER")
    with pytest.raises(CheckpointError, match=r"refused to load.*GLOBAL posix\.system.*nothing from it was run"):
        load_checkpoint(hostile)


def test_a_torch_file_that_is_not_a_vaesae_checkpoint(tmp_path):
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(2)}, buffer)
    path = write_with_digest(tmp_path / "weights.pt", buffer.getvalue())
    with pytest.raises(CheckpointError, match="not a vaesae checkpoint"):
        load_checkpoint(path)


def test_every_state_of_an_interrupted_save_loads(checkpoint):
    """A save records new + old digest, swaps the file, drops the old digest: each step leaves a loadable pair."""
    old_data = checkpoint.read_bytes()
    new_payload = {**PAYLOAD, "epoch": 4}
    save_checkpoint(checkpoint.with_name("next.pt"), new_payload)
    new_data = checkpoint.with_name("next.pt").read_bytes()
    both = [hashlib.sha256(old_data).hexdigest(), hashlib.sha256(new_data).hexdigest()]
    digest_path(checkpoint).write_text("".join(f"{d}  {checkpoint.name}\n" for d in both))
    assert load_checkpoint(checkpoint)["epoch"] == 3
    checkpoint.write_bytes(new_data)
    assert load_checkpoint(checkpoint)["epoch"] == 4
    save_checkpoint(checkpoint, new_payload)
    assert len(recorded_digests(checkpoint)) == 1


def test_stale_temp_files_of_a_killed_save_are_removed(checkpoint):
    stale = checkpoint.with_name(".last_model.pt.12345.tmp")
    stale.write_bytes(checkpoint.read_bytes()[:100])
    assert remove_stale_temp_files(checkpoint.parent) == [stale]
    assert not stale.exists() and load_checkpoint(checkpoint)["epoch"] == 3


def test_failed_write_keeps_the_previous_checkpoint(checkpoint, monkeypatch):
    """Simulated fault: the disk fills while the new file is flushed (real full disks: test_output_faults)."""
    before = checkpoint.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OutputError, match="No space left on device"):
        save_checkpoint(checkpoint, {**PAYLOAD, "epoch": 4})
    monkeypatch.undo()
    assert checkpoint.read_bytes() == before and load_checkpoint(checkpoint)["epoch"] == 3
    assert not temp_path(checkpoint).exists() and not temp_path(digest_path(checkpoint)).exists()


class _FixedState:
    """The only thing the checkpoint callback asks of a trainer."""

    def state_dict(self) -> dict:
        return dict(PAYLOAD)


def test_nan_metric_is_never_the_best(tmp_path):
    identity = RunIdentity("VAE", {}, "VAELoss", {}, {})
    callback = Checkpointing(tmp_path, identity, "val_loss", "min", "best")
    callback.on_epoch_end(_FixedState(), 1, {"val_loss": float("nan")})
    assert callback.best_value is None and not (tmp_path / "best_model.pt").exists()
    callback.on_epoch_end(_FixedState(), 2, {"val_loss": 5.0})
    callback.on_epoch_end(_FixedState(), 3, {"val_loss": float("nan")})
    assert callback.best_value == 5.0 and callback.best_epoch == 2
