"""Damaged and hostile checkpoint files, made from a real checkpoint, for the safety tests."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
from pathlib import Path
from typing import Callable

import torch

from vaesae.engine.checkpoint_io import digest_path


class MarkerPayload:
    """Unpickling this object runs ``touch MARKER``: what an attacker's checkpoint would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_with_digest(path: Path, data: bytes) -> Path:
    """Write ``data`` and a matching ``.sha256``, as an attacker who controls the folder could."""
    path.write_bytes(data)
    digest_path(path).write_text(f"{hashlib.sha256(data).hexdigest()}  {path.name}\n")
    return path


def malicious_zip(path: Path, marker: Path) -> Path:
    """A real ``torch.save`` archive whose pickle calls ``os.system``, with a valid digest."""
    buffer = io.BytesIO()
    torch.save({"format_version": 1, "model_state": {}, "trap": MarkerPayload(marker)}, buffer)
    return write_with_digest(path, buffer.getvalue())


def malicious_pickle(path: Path, marker: Path) -> Path:
    """A bare pickle calling ``os.system`` (the old torch format), with a valid digest."""
    return write_with_digest(path, pickle.dumps(MarkerPayload(marker)))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    write_with_digest(path, data[: len(data) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _text(path: Path) -> None:
    write_with_digest(path, b"model: VAE\nthis is not a checkpoint\n")


def _flip_byte(path: Path) -> None:
    """One bit flipped in the middle, digest left as it was: silent corruption on disk."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _missing(path: Path) -> None:
    path.unlink()


def _drop_digest(path: Path) -> None:
    digest_path(path).unlink()


def _truncate_keep_digest(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "truncated-digest-kept": _truncate_keep_digest,
    "empty": _empty,
    "text": _text,
    "flipped-byte": _flip_byte,
    "missing": _missing,
    "digest-missing": _drop_digest,
}


def damaged_copy(source: Path, folder: Path, kind: str) -> Path:
    """A copy of checkpoint ``source`` (and its digest) in ``folder``, damaged as ``kind`` says."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copy(source, target)
    shutil.copy(digest_path(source), digest_path(target))
    DAMAGE[kind](target)
    return target
