"""Replacing files so that a reader, or a crash, never sees half of one.

Every file vaesae writes goes through here: the content goes to a hidden
temporary file in the same folder (``.NAME.<pid>.tmp``), which is flushed and
fsynced, then renamed over the target, and finally the folder itself is
fsynced so the rename survives a power loss. Each step that can fail is
guarded: an OS failure (full disk, read-only folder, I/O error) becomes one
``OutputError`` naming the file, the earlier content is then untouched, and the
temporary file is removed. A filesystem that cannot fsync a folder at all
(some network mounts) is accepted silently: the rename is all it offers.

A process killed mid-write leaves its temporary file behind;
``remove_stale_temp_files`` deletes those when the next run starts.
"""
from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from vaesae.errors import OutputError

TEMP_SUFFIX = ".tmp"
FOLDER_SYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF, errno.EISDIR, errno.EACCES}


def temp_path(path: Path) -> Path:
    """The hidden temporary name a write of ``path`` goes through."""
    return path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def sync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable; a real I/O failure is an ``OutputError``."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        if exc.errno in FOLDER_SYNC_UNSUPPORTED:
            return
        raise OutputError(f"{folder}: cannot open the folder to sync it to disk ({_reason(exc)})") from None
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in FOLDER_SYNC_UNSUPPORTED:
            raise OutputError(
                f"{folder}: the folder could not be synced to disk ({_reason(exc)}); "
                "files just written there may not survive a power loss"
            ) from None
    finally:
        os.close(fd)


def _sync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        handle.flush()
        os.fsync(handle.fileno())


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary file beside ``path``; when the block ends, fsync it and move it over ``path``."""
    temp = temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield temp
        _sync_file(temp)
        os.replace(temp, path)
    except OSError as exc:
        raise OutputError(f"{path}: could not be written ({_reason(exc)}); any earlier version is unchanged") from None
    finally:
        temp.unlink(missing_ok=True)
    sync_folder(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers never see a partial file."""
    with replacing(path) as temp:
        temp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files left in ``folder`` by a process killed during a write."""
    stale = sorted(folder.glob(f".*{TEMP_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
