"""Names that become paths must stay inside their parent folder.

``experiment.name`` is joined to ``experiment.output_dir`` to make the run
folder; a name such as ``../../elsewhere`` or ``/tmp/x`` would put the run (and
everything it writes) outside the output folder. Such a name is refused
before anything is created. Sub-folders (``vae/run1``) are fine.
"""
from __future__ import annotations

import os
from pathlib import Path

from vaesae.errors import ConfigError


def joined_inside(parent: str, name: str, key: str) -> Path:
    """``parent/name``, or a ``ConfigError`` for ``key`` when the result is not below ``parent``."""
    base = os.path.normpath(os.path.abspath(parent))
    joined = os.path.normpath(os.path.join(base, name))
    if not name or os.path.commonpath([base, joined]) != base or joined == base:
        raise ConfigError(
            f"{key}: {name!r} would put the folder at {joined}, which is not inside {parent}; "
            "use a plain name or sub-folder without '..' or a leading '/'"
        )
    return Path(joined)
