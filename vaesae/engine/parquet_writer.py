"""Streaming rows into a Parquet file, one row group at a time.

Rows arrive a batch at a time as a float32 array; they are held until a row
group is full (``row_group_rows``, by default about ``ROW_GROUP_BYTES`` of
float32 values), then turned into a table by the caller's ``to_table`` and
written. So the writer never holds more than one row group plus one batch,
whatever the number of rows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_BYTES = 16 << 20

ToTable = Callable[[np.ndarray], pa.Table]


def default_row_group_rows(columns: int) -> int:
    return max(1, ROW_GROUP_BYTES // (4 * max(columns, 1)))


def embeddings_table(column: str) -> ToTable:
    """Rows as one fixed-size list column named ``column``: the layout the data loaders read embeddings from."""
    def to_table(values: np.ndarray) -> pa.Table:
        flat = pa.array(np.ascontiguousarray(values, dtype=np.float32).reshape(-1))
        return pa.table({column: pa.FixedSizeListArray.from_arrays(flat, values.shape[1])})
    return to_table


class ParquetFileWriter:
    """Writes a ``(rows, columns)`` float32 array to ``path`` as Parquet row groups; use it as a context manager."""

    def __init__(self, path: Path, rows: int, columns: int, to_table: ToTable, row_group_rows: int | None = None):
        self.shape = (rows, columns)
        self.row_group_rows = row_group_rows or default_row_group_rows(columns)
        self._path, self._to_table = path, to_table
        self._held: list[np.ndarray] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows_written = 0

    def __enter__(self) -> "ParquetFileWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        if self._writer is not None:
            self._writer.close()

    @property
    def held_rows(self) -> int:
        """Rows received but not yet written."""
        return sum(len(block) for block in self._held)

    def append(self, values: np.ndarray) -> None:
        """Take the next rows; every full row group is written at once."""
        if values.ndim != 2 or values.shape[1] != self.shape[1] or self._rows_written + self.held_rows + len(values) > self.shape[0]:
            raise ValueError(f"rows of shape {values.shape} do not fit an array of shape {self.shape} "
                             f"after {self._rows_written + self.held_rows} rows")
        self._held.append(np.asarray(values, dtype=np.float32))
        while self.held_rows >= self.row_group_rows:
            self._write(self.row_group_rows)

    def check_complete(self) -> None:
        """Write the last rows; raise unless every row of the declared shape has been written."""
        if self._held:
            self._write(self.held_rows)
        if self._rows_written != self.shape[0]:
            raise ValueError(f"{self._rows_written} rows were written to an array of shape {self.shape}")

    def _write(self, rows: int) -> None:
        block = np.concatenate(self._held)
        rest = block[rows:].copy()
        self._held = [rest] if len(rest) else []
        table = self._to_table(block[:rows])
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._path, table.schema)
        self._writer.write_table(table, row_group_size=rows)
        self._rows_written += rows
