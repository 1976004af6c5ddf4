"""User-facing errors.

Anything the user can fix (config, data, checkpoint, environment) is raised as a
``VaesaeError``; the app prints its message without a traceback and exits non-zero.
"""
from __future__ import annotations


class VaesaeError(Exception):
    """A problem the user can fix; its message says what and where."""

    exit_code = 2


class ConfigError(VaesaeError):
    """One or more problems in the composed configuration, reported together."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}")


class DataError(VaesaeError):
    """Input data that cannot be used as configured."""


class CheckpointError(VaesaeError):
    """A checkpoint that is missing, unreadable, tampered with or does not fit."""


class OutputError(VaesaeError):
    """An output (folder, checkpoint, array, table) that cannot be written, e.g. a full disk."""


class Interrupted(VaesaeError):
    """Work stopped on request: Ctrl-C (SIGINT) or SIGTERM.

    The exit status follows the shell's convention for a process ended by a
    signal: 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
    """

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class TrainingInterrupted(Interrupted):
    """Training stopped on request after saving a state it can resume from."""
