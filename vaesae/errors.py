"""User-facing errors.

Anything the user can fix (config, data, checkpoint, environment) is raised as a
``VaesaeError``; the app prints its message without a traceback and exits non-zero.
"""
from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


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


class ProblemsFound(VaesaeError):
    """Several problems found by independent checks (config, tracking store, data), reported together."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join("  - " + p.replace("\n", "\n    ") for p in problems)
        super().__init__(f"{len(problems)} problem(s) found before any work started:\n{lines}")


def problems_of(error: VaesaeError) -> list[str]:
    """The problems an error lists (one, its message, unless it gathers several)."""
    return list(getattr(error, "problems", [str(error)]))


class ProblemCollector:
    """Runs checks that do not depend on one another and reports every problem they find in one error.

    A user fixing a config wants the whole list at once, not one problem per run.
    An interrupt is never collected: it stops at once.
    """

    def __init__(self) -> None:
        self.errors: list[VaesaeError] = []

    def attempt(self, check: Callable[[], T]) -> T | None:
        """``check()``'s result, or None when it raised a user error (kept for ``raise_any``)."""
        try:
            return check()
        except Interrupted:
            raise
        except VaesaeError as error:
            self.errors.append(error)
            return None

    def raise_any(self) -> None:
        """Raise nothing, the one error found (unchanged), or one error listing them all."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ProblemsFound([problem for error in self.errors for problem in problems_of(error)])


def one_line(exc: BaseException) -> str:
    """An exception's whole message on one line (torch lists missing and unexpected weights on lines of their own)."""
    return " ".join(str(exc).split()) or type(exc).__name__
