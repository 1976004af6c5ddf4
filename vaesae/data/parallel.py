"""The work after a file is read, spread over the threads Arrow's reader uses.

NumPy's array operations and Arrow's compute kernels release the GIL, so
threads give real parallelism to per-column and per-block steps. The thread
count is Arrow's (``pyarrow.cpu_count()``), which a sweep job lowers to its
share of the machine.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

import pyarrow as pa

Result = TypeVar("Result")
BLOCK_ROWS = 1 << 16


def on_all_cores(function: Callable[..., Result], *arguments: Iterable) -> list[Result]:
    """``function`` mapped over ``arguments`` on Arrow's thread count, results in order."""
    with ThreadPoolExecutor(pa.cpu_count()) as pool:
        return list(pool.map(function, *arguments))


def row_blocks(rows: int, block_rows: int = BLOCK_ROWS) -> list[slice]:
    """``rows`` cut into consecutive blocks small enough to stay in a core's cache."""
    return [slice(start, min(start + block_rows, rows)) for start in range(0, rows, block_rows)]
