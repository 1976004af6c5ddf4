"""Writing and reading checkpoint files safely.

Writes go to a temporary file in the same folder, are flushed and fsynced, and
then renamed over the target, so a crash leaves either the old file or the new
one, never half of one. A SHA-256 of the file is written beside it
(``NAME.sha256``) and checked on load. Loading always uses
``weights_only=True``: a checkpoint can hold tensors and plain Python values,
never code.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from vaesae.errors import CheckpointError

FORMAT_VERSION = 1
TEMP_SUFFIX = ".tmp"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Serialise ``payload`` and write it and its SHA-256 atomically (data first, then digest)."""
    buffer = io.BytesIO()
    torch.save({"format_version": FORMAT_VERSION, **payload}, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    atomic_write_bytes(path, data)
    atomic_write_bytes(digest_path(path), f"{digest}  {path.name}\n".encode())


def remove_checkpoint(path: Path) -> None:
    path.unlink(missing_ok=True)
    digest_path(path).unlink(missing_ok=True)


def clean_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files left behind by a crash during a save."""
    stale = sorted(folder.glob(f".*{TEMP_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _verify_digest(path: Path, data: bytes) -> None:
    sidecar = digest_path(path)
    if not sidecar.is_file():
        return
    expected = sidecar.read_text().split()[0] if sidecar.read_text().strip() else ""
    if hashlib.sha256(data).hexdigest() != expected:
        raise CheckpointError(f"{path}: SHA-256 does not match {sidecar.name}; the file is corrupted or was modified")


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by ``save_checkpoint``; any problem is one ``CheckpointError``."""
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    data = path.read_bytes()
    if not data:
        raise CheckpointError(f"{path}: checkpoint file is empty")
    _verify_digest(path, data)
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a loadable vaesae checkpoint ({first_line})") from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: not a vaesae checkpoint (format version {FORMAT_VERSION} expected)")
    return payload
