"""A running job's wall time, kept up to date in its ``status.json``.

Every ``BEAT_S`` seconds a thread writes the attempt's elapsed time (plus the
earlier attempts') into ``wall_time_s``, so an attempt that ends without a
chance to record it (``kill -9``, the out-of-memory killer, a lost node) still
counts when the next attempt adds its own time: at most one beat is lost.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from vaesae.engine.run_layout import JobStatus, write_status

BEAT_S = 2.0


def total_wall_time(status: JobStatus, started: float) -> float:
    """Seconds over all attempts: the earlier ones' and this one's, begun at ``started`` (``time.perf_counter``)."""
    return round(status.earlier_wall_time_s + time.perf_counter() - started, 3)


@contextmanager
def heartbeat(run_dir: Path, status: JobStatus, started: float) -> Iterator[None]:
    """While the block runs, ``status.json`` gets the wall time so far every ``BEAT_S`` seconds."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(BEAT_S):
            status.wall_time_s = total_wall_time(status, started)
            write_status(run_dir, status)

    thread = threading.Thread(target=beat, name="vaesae-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
