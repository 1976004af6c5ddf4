"""CSV files too large for memory: refused before reading, with the one-line conversion to Parquet.

A CSV can only be read whole, and parsing it needs about as much memory as the
file's size. Converted once to Parquet, the same table is read a window at a
time by ``ParquetStreamLoader``, whatever its size.
"""
from __future__ import annotations

import os
from pathlib import Path

from vaesae.data.tables import CSV_SUFFIXES
from vaesae.errors import DataError

CONVERT_COMMAND = (
    'python -c "import sys, pyarrow.csv as c, pyarrow.parquet as p; '
    "r = c.open_csv(sys.argv[1], c.ReadOptions(block_size=1 << 26)); w = p.ParquetWriter(sys.argv[2], r.schema); "
    '[w.write_batch(b) for b in r]; w.close()" {csv} {parquet}'
)


def conversion_command(path: Path) -> str:
    """The command that converts ``path`` to a Parquet file beside it, reading 64 MB at a time."""
    return CONVERT_COMMAND.format(csv=path, parquet=path.with_suffix(".parquet"))


def available_memory() -> int:
    """Bytes of memory the system can give without swapping (``MemAvailable``)."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def csv_advice(path: Path) -> str:
    return (f"convert it to Parquet once with:\n  {conversion_command(path)}\n"
            "then set the split's data_path to the .parquet file and loader_class=ParquetStreamLoader")


def check_csv_fits_in_memory(path: Path, available: int | None = None) -> None:
    """Refuse a CSV file larger than the ``available`` memory (default: what the system has free now)."""
    if path.suffix.lower() not in CSV_SUFFIXES:
        return
    size, available = path.stat().st_size, available_memory() if available is None else available
    if size > available:
        raise DataError(
            f"{path}: the CSV file ({size / 2**30:.1f} GiB) is larger than the memory available "
            f"({available / 2**30:.1f} GiB); {csv_advice(path)}"
        )
