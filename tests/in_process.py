"""Running ``python -m vaesae ARGS`` inside the test process: same entry point, no interpreter start-up.

``main()`` is what the ``vaesae`` script and ``python -m vaesae`` call; here
``sys.argv`` is set as the shell would set it, stdout and stderr are captured
(Hydra's logging binds to the streams current when a job starts, so the log
lines are captured too) and ``SystemExit`` gives the exit status. An exception
that escapes ``main`` is what a user would see as a traceback, so it is
returned as output with exit status 1, as the interpreter would.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Outcome:
    code: int
    output: str


def run_main(*args: str, cwd: Path) -> Outcome:
    from hydra.core.global_hydra import GlobalHydra

    from vaesae.app import main

    captured = io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    sys.argv = ["vaesae", *args]
    code = 0
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            try:
                main()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
                if isinstance(stop.code, str):
                    captured.write(stop.code + "\n")
            except Exception:  # what the interpreter would print as a traceback
                captured.write(traceback.format_exc())
                code = 1
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        GlobalHydra.instance().clear()
        logging.shutdown()
        for handler in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(handler)
    return Outcome(code, captured.getvalue())
