"""One process per run folder.

A run (or sweep) takes ``.vaesae.lock`` in its folder before Hydra writes
anything there. The file holds the host and process id of its owner. A second
process that finds it stops at once with a message naming the owner, unless
the owner is a process of this host that no longer exists: such a stale lock
(left by a killed run) is taken over. A lock held by another host is never
second-guessed, since its process cannot be seen from here.

Taking the lock is the moment a run owns its folder, so it also removes the
temporary files a killed predecessor left there.
"""
from __future__ import annotations

import atexit
import contextlib
import errno
import json
import os
import socket
from pathlib import Path

from vaesae.atomic_files import remove_stale_temp_files
from vaesae.engine.run_layout import process_alive
from vaesae.errors import OutputError

LOCK_FILE = ".vaesae.lock"
# What os.link raises on a file system that has no hard links (some network and FUSE mounts, FAT).
NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
_held: list[Path] = []


def _owner(lock: Path) -> dict | None:
    """Host and pid recorded in ``lock``; None when the file is gone or unreadable (a write cut short)."""
    try:
        owner = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def _is_stale(owner: dict | None) -> bool:
    if owner is None:
        return True
    pid = owner.get("pid")
    return isinstance(pid, int) and not process_alive(str(owner.get("host")), pid)


def _create(lock: Path) -> bool:
    """Make ``lock`` hold our host and pid unless it exists; True when this process now holds it.

    The owner is written to a file of this process first and then hard-linked as ``lock``, which
    fails when ``lock`` exists: a lock is never seen without its owner, so a process that reads it
    an instant after another created it never takes an empty file for a stale lock.
    """
    owner = json.dumps({"host": socket.gethostname(), "pid": os.getpid()})
    draft = lock.with_name(f"{lock.name}.{os.getpid()}")
    draft.write_text(owner)
    try:
        os.link(draft, lock)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        return _create_in_place(lock, owner)
    finally:
        draft.unlink(missing_ok=True)
    return True


def _create_in_place(lock: Path, owner: str) -> bool:
    """``_create`` on a file system without hard links: create exclusively, then write the owner."""
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(owner)
    return True


def _clear_stale(lock: Path, stale: dict | None) -> None:
    """Remove ``lock`` if it still names the ``stale`` owner.

    It is first moved to a name of this process's own (one atomic rename), so of two processes that
    found the same stale lock, the later one moves the earlier one's new lock, sees it, and puts it back.
    """
    aside = lock.with_name(f"{lock.name}.{os.getpid()}.stale")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    if _owner(aside) != stale:
        with contextlib.suppress(FileExistsError):
            os.link(aside, lock)
    aside.unlink()


def _busy(folder: Path, owner: dict) -> OutputError:
    return OutputError(
        f"{folder} is in use by another vaesae process (pid {owner.get('pid')} on {owner.get('host')}, "
        f"see {LOCK_FILE}); wait for it to finish, or choose another experiment.name"
    )


def acquire(folder: Path) -> None:
    """Make this process the owner of ``folder``, or raise ``OutputError`` naming the current owner."""
    lock = folder / LOCK_FILE
    if lock in _held:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not _create(lock):
            owner = _owner(lock)
            if not _is_stale(owner):
                raise _busy(folder, owner)
            _clear_stale(lock, owner)
            if not _create(lock):
                raise _busy(folder, _owner(lock) or {})
    except OSError as exc:
        raise OutputError(f"{lock}: cannot take the run folder's lock ({exc.strerror or exc})") from None
    _held.append(lock)
    remove_stale_temp_files(folder)


def release_all() -> None:
    """Give up every folder this process owns (called on exit, also after a failure)."""
    while _held:
        lock = _held.pop()
        if (_owner(lock) or {}).get("pid") == os.getpid():
            lock.unlink(missing_ok=True)


atexit.register(release_all)
