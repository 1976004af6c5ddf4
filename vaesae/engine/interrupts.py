"""Turning Ctrl-C and SIGTERM into a clean stop.

Schedulers (Slurm, Kubernetes, preemptible clouds) send SIGTERM before they kill
a job; users press Ctrl-C. Either way the first signal only asks the trainer to
stop before its next batch, so the state it saves is consistent; extraction and
prediction, which have nothing to save halfway, stop at once. The handlers
are then removed again: a second signal acts at once, the way it would without
vaesae (files stay consistent anyway, since every write is atomic).
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator, Protocol

from vaesae.errors import Interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interruptible(Protocol):
    def request_interrupt(self, reason: str, exit_code: int) -> None: ...


@contextmanager
def _handling_stop_signals(react: Callable[[str, int], None]) -> Iterator[None]:
    """While the block runs, the first SIGINT/SIGTERM calls ``react(reason, exit_code)`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def handle(signum: int, frame) -> None:
        restore()
        react(f"interrupted by {signal.Signals(signum).name}", 128 + signum)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        restore()


def stop_on_signals(target: Interruptible) -> ContextManager[None]:
    """While the block runs, SIGINT/SIGTERM call ``target.request_interrupt``, which stops between batches."""
    return _handling_stop_signals(target.request_interrupt)


def _raise_interrupted(reason: str, exit_code: int) -> None:
    raise Interrupted(reason, exit_code)


def interrupt_on_signals() -> ContextManager[None]:
    """While the block runs, SIGINT/SIGTERM raise ``Interrupted`` where the program is.

    For work with no state worth saving halfway (extract, predict): the output
    being written is dropped, its earlier version kept, and a tracked run is
    closed as KILLED rather than left RUNNING, as an unhandled SIGTERM would.
    """
    return _handling_stop_signals(_raise_interrupted)
