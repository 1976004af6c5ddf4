"""Turning Ctrl-C and SIGTERM into a clean stop between two batches.

Schedulers (Slurm, Kubernetes, preemptible clouds) send SIGTERM before they kill
a job; users press Ctrl-C. Either way the first signal only asks the trainer to
stop before its next batch, so the state it saves is consistent. The handlers
are then removed again: a second signal acts at once, the way it would without
vaesae (files stay consistent anyway, since every write is atomic).
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator, Protocol

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interruptible(Protocol):
    def request_interrupt(self, reason: str, exit_code: int) -> None: ...


@contextmanager
def stop_on_signals(target: Interruptible) -> Iterator[None]:
    """While the block runs, SIGINT/SIGTERM call ``target.request_interrupt`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def handle(signum: int, frame) -> None:
        restore()
        target.request_interrupt(f"interrupted by {signal.Signals(signum).name}", 128 + signum)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        restore()
