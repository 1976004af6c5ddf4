"""Writing and reading checkpoint files safely.

Each file is replaced atomically (``vaesae.atomic_files``), so a crash leaves
either the old file or the new one, never half of one. A SHA-256 of the file is written beside it
(``NAME.sha256``, the format of ``sha256sum``) and checked on load; a
checkpoint without it is refused, since a damaged zip archive can still
unpack into wrong weights.

The data file and its digest cannot be replaced in one step, so a save first
records the new digest next to the old one, then swaps the data file, then
drops the old digest: a process killed at any point leaves a data file whose
digest is recorded.

Loading always passes ``weights_only=True`` explicitly, which torch honours even
when ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is set: a checkpoint can hold tensors
and plain Python values, never code.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import torch

from vaesae.atomic_files import atomic_write_bytes, replacing
from vaesae.errors import CheckpointError, OutputError

__all__ = [
    "atomic_write_bytes", "replacing", "save_checkpoint", "load_checkpoint", "digest_path", "recorded_digests",
    "require_keys", "remove_orphan_digests", "MODEL_KEYS",
]

FORMAT_VERSION = 1
MODEL_KEYS = ("model_class", "model_params", "model_state", "encoding")
UNSAFE_MARK = "Weights only load failed"


def digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def recorded_digests(path: Path) -> list[str]:
    """The SHA-256 values accepted for ``path`` (empty when no digest file exists)."""
    try:
        lines = digest_path(path).read_text().splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{digest_path(path)}: cannot read the recorded SHA-256 ({exc})") from None
    return [line.split()[0].lower() for line in lines if line.strip()]


def _digest_text(digests: list[str], name: str) -> bytes:
    return "".join(f"{digest}  {name}\n" for digest in digests).encode()


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Serialise ``payload`` and write it and its SHA-256, each step atomic."""
    buffer = io.BytesIO()
    torch.save({"format_version": FORMAT_VERSION, **payload}, buffer)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    previous = recorded_digests(path) if path.is_file() else []
    atomic_write_bytes(digest_path(path), _digest_text([*previous, digest], path.name))
    try:
        atomic_write_bytes(path, data)
    except OutputError:
        if not previous:
            digest_path(path).unlink(missing_ok=True)
        raise
    atomic_write_bytes(digest_path(path), _digest_text([digest], path.name))


def _verify_digest(path: Path, data: bytes) -> None:
    """Without its digest a damaged file may still unpack, into wrong weights: so the digest is required."""
    accepted = recorded_digests(path)
    if not accepted:
        raise CheckpointError(
            f"{path}: no SHA-256 recorded beside it ({digest_path(path).name}); copy that file along with the "
            f"checkpoint, or, if you trust this file, record it with: sha256sum {path.name} > {digest_path(path).name}"
        )
    if hashlib.sha256(data).hexdigest() not in accepted:
        raise CheckpointError(
            f"{path}: SHA-256 does not match {digest_path(path).name}; the file is corrupted or was modified"
        )


def _load_error(path: Path, exc: Exception) -> CheckpointError:
    """One clear message for whatever torch raised on a bad file."""
    text = str(exc).strip()
    if UNSAFE_MARK in text:
        reason = next((line for line in text.splitlines() if "unsupported" in line.lower()), "objects other than tensors")
        return CheckpointError(
            f"{path}: refused to load: it holds Python objects a checkpoint must not contain ({reason.strip()}); "
            "nothing from it was run"
        )
    first_line = text.splitlines()[0] if text else type(exc).__name__
    return CheckpointError(f"{path}: not a loadable vaesae checkpoint ({first_line})")


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({exc.strerror or exc})") from None
    if not data:
        raise CheckpointError(f"{path}: checkpoint file is empty")
    return data


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by ``save_checkpoint``; any problem is one ``CheckpointError``.

    Only torch's zip format is accepted (what ``torch.save`` writes), so a bare
    pickle never reaches an unpickler at all.
    """
    data = _read(path)
    _verify_digest(path, data)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise CheckpointError(
            f"{path}: not a vaesae checkpoint (not a complete PyTorch archive: truncated, damaged or another kind of file)"
        )
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for damaged archives; all mean the same to the user
        raise _load_error(path, exc) from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: not a vaesae checkpoint (format version {FORMAT_VERSION} expected)")
    return payload


def require_keys(path: Path, payload: dict[str, Any], keys: tuple[str, ...], purpose: str) -> None:
    """Refuse a checkpoint that lacks any of ``keys`` with one line saying what it cannot be used for."""
    missing = [key for key in keys if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: cannot {purpose}: it lacks {', '.join(missing)} (not a complete vaesae checkpoint)")


def remove_orphan_digests(folder: Path) -> list[Path]:
    """Delete ``NAME.sha256`` files whose ``NAME`` is gone: a save killed before its data file was in place."""
    orphans = sorted(p for p in folder.glob("*.sha256") if not p.with_name(p.name[: -len(".sha256")]).exists())
    for path in orphans:
        path.unlink(missing_ok=True)
    return orphans
