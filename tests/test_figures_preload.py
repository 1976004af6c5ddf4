"""Training imports the drawing code beside its epochs, so the pictures at the end start at once."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import cli_env

# In a fresh interpreter: fit_start begins the import in a thread; by fit_end everything drawing needs is loaded.
SCRIPT = """
import sys
from pathlib import Path
from vaesae.report.training import DRAWING_MODULES, DrawFigures
callback = DrawFigures(Path("absent-run"))
assert "matplotlib.figure" not in sys.modules
callback.on_fit_start(None)
callback.preload.join(timeout=300)
missing = [name for name in DRAWING_MODULES if name not in sys.modules]
print("missing:", missing)
callback.on_fit_end(None)  # a folder that is no run: a warning, never an exception
"""


def test_drawing_modules_are_imported_during_training(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "missing: []" in result.stdout
