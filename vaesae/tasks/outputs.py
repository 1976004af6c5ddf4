"""Checks on output locations, made before any work starts."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vaesae.errors import VaesaeError


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise VaesaeError(f"{folder}: output folder is not writable ({exc.strerror or exc})") from None


def refuse_existing_run(checkpoint_dir: Path) -> None:
    """A new training run never overwrites the checkpoints of an earlier one."""
    existing = sorted(p.name for p in checkpoint_dir.glob("*.pt")) if checkpoint_dir.is_dir() else []
    if existing:
        raise VaesaeError(
            f"{checkpoint_dir} already holds checkpoints ({', '.join(existing[:3])}{'…' if len(existing) > 3 else ''}) "
            "from an earlier run; continue it with checkpoint.resume=auto, choose another experiment.name, "
            "or delete that folder to start over"
        )


def output_file(path_text: str, key: str) -> Path:
    """An output file path whose folder exists and is writable."""
    path = Path(path_text)
    if path.is_dir():
        raise VaesaeError(f"{key}: {path} is a folder; give a file path such as {path / 'output.npy'}")
    ensure_writable(path.parent if str(path.parent) else Path(os.curdir))
    return path
