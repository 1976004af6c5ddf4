"""Atomic writes, portable fallbacks, the run-folder lock and checkpoint leftovers (in-process).

OS faults that cannot be produced for real here (a failing fsync, a
filesystem without ``posix_fallocate``) are injected by replacing the one ``os``
call; real full disks and read-only folders are in ``test_output_faults``.
"""
from __future__ import annotations

import errno
import io
import json
import multiprocessing
import multiprocessing.synchronize
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.checkpoint_files import write_with_digest
from vaesae import run_lock
from vaesae.atomic_files import atomic_write_bytes, remove_stale_temp_files, sync_folder, temp_path
from vaesae.engine.array_writer import ArrayFileWriter, reserve_space, start_writeback
from vaesae.engine.checkpoint_io import digest_path, load_checkpoint, remove_orphan_digests, save_checkpoint
from vaesae.errors import CheckpointError, OutputError
from vaesae.report.canvas import new_figure, save
from vaesae.engine.run_layout import JobStatus, read_status, write_status


def failing(code: int):
    def call(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return call


def test_atomic_write_leaves_only_the_target(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    atomic_write_bytes(target, b"a,b\n")
    atomic_write_bytes(target, b"a,b\n1,2\n")
    assert target.read_bytes() == b"a,b\n1,2\n" and os.listdir(target.parent) == ["table.csv"]


@pytest.mark.parametrize("writer", ["bytes", "status", "picture"])
def test_every_writer_keeps_the_old_file_when_fsync_fails(tmp_path, monkeypatch, writer):
    """The sweep status and the pictures go through the same helper: a failed fsync keeps the old file."""
    write = {
        "bytes": lambda: atomic_write_bytes(tmp_path / "status.json", b"new"),
        "status": lambda: write_status(tmp_path, JobStatus(num=0, folder="0", overrides=[])),
        "picture": lambda: save(new_figure(2, 2), tmp_path / "status.json"),
    }[writer]
    (tmp_path / "status.json").write_bytes(b"old")
    monkeypatch.setattr(os, "fsync", failing(errno.EIO))
    with pytest.raises(OutputError, match=r"status\.json: could not be written \(Input/output error\)"):
        write()
    assert (tmp_path / "status.json").read_bytes() == b"old" and os.listdir(tmp_path) == ["status.json"]


def test_status_and_picture_are_written_whole(tmp_path):
    write_status(tmp_path, JobStatus(num=3, folder="3", overrides=["a=1"]))
    save(new_figure(2, 2), tmp_path / "p.png")
    assert read_status(tmp_path).num == 3 and (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(os.listdir(tmp_path)) == ["p.png", "status.json"]


def test_folder_sync_failure_is_a_clear_error(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def folder_fails(fd):
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", folder_fails)
    with pytest.raises(OutputError, match="the folder could not be synced to disk .*power loss"):
        atomic_write_bytes(tmp_path / "x.txt", b"1")
    assert (tmp_path / "x.txt").read_bytes() == b"1"


def test_a_filesystem_that_cannot_sync_folders_is_accepted(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", failing(errno.EINVAL))
    sync_folder(tmp_path)


def test_stale_temp_files_are_removed(tmp_path):
    stale = temp_path(tmp_path / "config.yaml").with_name(".config.yaml.999999.tmp")
    stale.write_text("half")
    assert remove_stale_temp_files(tmp_path) == [stale] and not stale.exists()


ROWS, COLUMNS = 300_000, 8


def _write_array(path) -> np.ndarray:
    values = np.random.default_rng(1).standard_normal((ROWS, COLUMNS)).astype(np.float32)
    with ArrayFileWriter(path, ROWS, COLUMNS) as writer:
        for start in range(0, ROWS, 50_000):
            writer.append(values[start:start + 50_000])
        writer.check_complete()
    return values


@pytest.mark.parametrize("fault", ["missing", "EOPNOTSUPP", "ENOSYS"])
def test_array_writer_without_fallocate_or_fadvise(tmp_path, monkeypatch, fault):
    for name in ("posix_fallocate", "posix_fadvise"):
        if fault == "missing":
            monkeypatch.delattr(os, name, raising=False)
        else:
            monkeypatch.setattr(os, name, failing(getattr(errno, fault)))
    assert not reserve_space(0, 1) and not start_writeback(0, 0)
    expected = _write_array(tmp_path / "out.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


def test_a_real_full_disk_answer_from_fallocate_is_not_swallowed(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "posix_fallocate", failing(errno.ENOSPC))
    with pytest.raises(OSError, match="No space left"):
        ArrayFileWriter(tmp_path / "out.npy", 10, 2)


def test_orphan_digest_of_a_killed_save_is_removed(tmp_path):
    save_checkpoint(tmp_path / "best_model.pt", {"epoch": 1})
    digest_path(tmp_path / "epoch_1.pt").write_text("0" * 64 + "  epoch_1.pt\n")
    assert remove_orphan_digests(tmp_path) == [digest_path(tmp_path / "epoch_1.pt")]
    assert sorted(os.listdir(tmp_path)) == ["best_model.pt", "best_model.pt.sha256"]


def test_checkpoint_with_only_a_format_version_is_one_clear_error(tmp_path):
    from vaesae.tasks.restore import rebuild_model

    buffer = io.BytesIO()
    torch.save({"format_version": 1}, buffer)
    path = write_with_digest(tmp_path / "best_model.pt", buffer.getvalue())
    with pytest.raises(CheckpointError, match="cannot load a model from it: it lacks model_class, model_params"):
        rebuild_model(path, load_checkpoint(path), torch.device("cpu"))


def _lock_text(host: str, pid: int) -> str:
    return json.dumps({"host": host, "pid": pid})


@pytest.fixture
def released():
    yield
    run_lock.release_all()


def test_lock_is_taken_and_released(tmp_path, released):
    (tmp_path / ".config.yaml.123.tmp").write_text("half")
    run_lock.acquire(tmp_path)
    owner = json.loads((tmp_path / run_lock.LOCK_FILE).read_text())
    assert owner == {"host": socket.gethostname(), "pid": os.getpid()}
    assert not (tmp_path / ".config.yaml.123.tmp").exists()
    run_lock.release_all()
    assert not (tmp_path / run_lock.LOCK_FILE).exists()


def test_a_live_owner_keeps_the_folder(tmp_path, released):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / run_lock.LOCK_FILE).write_text(_lock_text(socket.gethostname(), sleeper.pid))
        with pytest.raises(OutputError, match=rf"in use by another vaesae process \(pid {sleeper.pid} on "):
            run_lock.acquire(tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert json.loads((tmp_path / run_lock.LOCK_FILE).read_text())["pid"] == sleeper.pid


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path, released):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / run_lock.LOCK_FILE).write_text(_lock_text(socket.gethostname(), dead.pid))
    run_lock.acquire(tmp_path)
    assert json.loads((tmp_path / run_lock.LOCK_FILE).read_text())["pid"] == os.getpid()


def contend_for(folder: Path, start: multiprocessing.synchronize.Barrier, owners: multiprocessing.Queue) -> None:
    """Take ``folder``'s lock the moment every contender is ready; report whether this process got it."""
    start.wait()
    try:
        run_lock.acquire(folder)
    except OutputError:
        owners.put(0)
        return
    owners.put(1)
    time.sleep(0.3)  # hold it while the others look
    run_lock.release_all()  # a forked process leaves without running atexit


@pytest.mark.parametrize("left_behind", ["nothing", "a stale lock"])
def test_processes_racing_for_one_folder_get_exactly_one_owner(tmp_path, left_behind):
    """Six processes released at once, ten times over. Before locks were written whole and stale ones moved
    aside, a contender that read a lock an instant after its creation took the empty file for a stale lock,
    and two or more processes owned the folder in most rounds."""
    fork, contenders = multiprocessing.get_context("fork"), 6
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for round_ in range(10):
        folder = tmp_path / str(round_)
        if left_behind == "a stale lock":
            folder.mkdir()
            (folder / run_lock.LOCK_FILE).write_text(_lock_text(socket.gethostname(), dead.pid))
        start, owners = fork.Barrier(contenders), fork.Queue()
        processes = [fork.Process(target=contend_for, args=(folder, start, owners)) for _ in range(contenders)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        assert sum(owners.get() for _ in processes) == 1, f"round {round_}"
        assert sorted(path.name for path in folder.iterdir()) == []  # every owner released, nothing left aside


def test_a_file_system_without_hard_links_still_gets_a_lock(tmp_path, released, monkeypatch):
    """Some network and FUSE mounts refuse hard links (simulated: ``os.link`` fails as they make it fail)."""
    def refuse(source, target):
        raise OSError(errno.EPERM, "Operation not permitted", str(target))

    monkeypatch.setattr(run_lock.os, "link", refuse)
    run_lock.acquire(tmp_path)
    assert json.loads((tmp_path / run_lock.LOCK_FILE).read_text()) == {"host": socket.gethostname(), "pid": os.getpid()}
    assert sorted(path.name for path in tmp_path.iterdir()) == [run_lock.LOCK_FILE]
    run_lock.release_all()
    assert not list(tmp_path.iterdir())


def test_a_lock_of_another_host_is_respected(tmp_path, released):
    (tmp_path / run_lock.LOCK_FILE).write_text(_lock_text("elsewhere.example", 1))
    with pytest.raises(OutputError, match=r"pid 1 on elsewhere\.example"):
        run_lock.acquire(tmp_path)
