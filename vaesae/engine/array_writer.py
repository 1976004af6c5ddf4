"""Streaming rows into a ``.npy`` file of known shape.

The header is written and the file's disk space reserved up front, so a full
disk shows up as an ordinary error before any row is computed. Rows are then
appended in order, and every few megabytes the kernel is asked to start
writing them to disk in the background (``POSIX_FADV_DONTNEED``), so the final
``fsync`` waits for the last few megabytes only and a large output does not
crowd the page cache.

Both are optimisations the OS may not offer: ``posix_fallocate`` and
``posix_fadvise`` do not exist on macOS, and some filesystems (ZFS, some
network mounts) answer them with ``EOPNOTSUPP``. Then the space is not
reserved (a full disk shows up when the rows are written, still as an error)
and no early writeback is asked for; the file written is the same.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np

WRITEBACK_EVERY_BYTES = 8 << 20
NOT_OFFERED = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL}


def reserve_space(fd: int, size: int) -> bool:
    """Reserve ``size`` bytes for the file ``fd``; False where the OS or filesystem cannot (a real full disk raises)."""
    fallocate = getattr(os, "posix_fallocate", None)
    if fallocate is None:
        return False
    try:
        fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno in NOT_OFFERED:
            return False
        raise
    return True


def start_writeback(fd: int, offset: int) -> bool:
    """Ask the kernel to write the file ``fd`` from ``offset`` on to disk now; False where it cannot."""
    fadvise = getattr(os, "posix_fadvise", None)
    if fadvise is None:
        return False
    try:
        fadvise(fd, offset, 0, os.POSIX_FADV_DONTNEED)
    except OSError as exc:
        if exc.errno in NOT_OFFERED:
            return False
        raise
    return True


class ArrayFileWriter:
    """Writes a float32 ``(rows, columns)`` array to ``path`` chunk by chunk; use it as a context manager."""

    def __init__(self, path: Path, rows: int, columns: int):
        self.shape = (rows, columns)
        self._handle = open(path, "wb", buffering=0)
        try:
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
                      "shape": self.shape}
            np.lib.format.write_array_header_1_0(self._handle, header)
            reserve_space(self._handle.fileno(), self._handle.tell() + rows * columns * 4)
        except BaseException:
            self._handle.close()
            raise
        self._rows_written = 0
        self._written_back_to = 0
        self._unflushed = 0

    def __enter__(self) -> "ArrayFileWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.close()

    def append(self, values: np.ndarray) -> None:
        """Write the next rows."""
        if values.ndim != 2 or values.shape[1] != self.shape[1] or self._rows_written + len(values) > self.shape[0]:
            raise ValueError(f"rows of shape {values.shape} do not fit an array of shape {self.shape} "
                             f"after {self._rows_written} rows")
        self._handle.write(np.ascontiguousarray(values, dtype=np.float32).data)
        self._rows_written += len(values)
        self._unflushed += values.shape[0] * values.shape[1] * 4
        if self._unflushed >= WRITEBACK_EVERY_BYTES:
            self._start_writeback()

    def check_complete(self) -> None:
        """Raise unless every row of the declared shape has been written."""
        if self._rows_written != self.shape[0]:
            raise ValueError(f"{self._rows_written} rows were written to an array of shape {self.shape}")

    def _start_writeback(self) -> None:
        start_writeback(self._handle.fileno(), self._written_back_to)
        self._written_back_to = self._handle.tell()
        self._unflushed = 0
