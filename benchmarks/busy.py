"""Competing CPU load, as on a shared machine: one busy process per core while a measurement runs."""
from __future__ import annotations

import multiprocessing
from contextlib import contextmanager
from typing import Iterator


def spin() -> None:
    while True:
        pass


@contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """``count`` processes that each keep one core busy until the block ends."""
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(count)]
    for process in spinners:
        process.start()
    try:
        yield
    finally:
        for process in spinners:
            process.terminate()
            process.join()
