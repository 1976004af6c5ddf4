"""The row groups of a Parquet file or folder, and which of their rows make up each window of an epoch.

A streamed epoch visits the split's row groups in an order drawn from
``(seed, epoch)`` and cuts the resulting row sequence into windows of a fixed
number of rows (a multiple of the batch size, so every batch but the epoch's
last is full). A window is read whole, its rows are permuted with a
generator drawn from ``(seed, epoch, window)``, and it is served as batches.
Everything about a window follows from the files' metadata, so a run resumed
inside an epoch reads only from the window it stopped in.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from vaesae.data.large_csv import csv_advice
from vaesae.data.tables import CSV_SUFFIXES, PARQUET_SUFFIXES, _check_columns
from vaesae.errors import DataError


@dataclass(frozen=True)
class RowGroup:
    file: Path
    index: int
    rows: int


@dataclass(frozen=True)
class Piece:
    """Rows ``start:stop`` of one row group."""

    group: RowGroup
    start: int
    stop: int


def parquet_files(path: Path) -> list[Path]:
    """``path`` itself, or every Parquet file under the folder ``path`` (a partitioned dataset), in name order."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES)
        if not files:
            raise DataError(f"{path}: the folder holds no .parquet files")
        return files
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        raise DataError(f"{path}: ParquetStreamLoader reads Parquet only; {csv_advice(path)}")
    if suffix not in PARQUET_SUFFIXES:
        raise DataError(f"{path}: unsupported file type {suffix!r}; ParquetStreamLoader reads .parquet files or a folder of them")
    return [path]


def row_groups(path: Path, columns: list[str]) -> list[RowGroup]:
    """The non-empty row groups of every file, each file checked to have ``columns``."""
    groups = []
    for file in parquet_files(path):
        try:
            metadata = pq.read_metadata(file)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"{file}: cannot read it as Parquet: {exc}") from None
        _check_columns(file, metadata.schema.to_arrow_schema().names, columns)
        groups += [RowGroup(file, index, metadata.row_group(index).num_rows)
                   for index in range(metadata.num_row_groups) if metadata.row_group(index).num_rows]
    if not groups:
        raise DataError(f"{path}: no data rows")
    return groups


class RowGroupReader:
    """Reads the wanted columns of one row group at a time, labels dictionary-encoded.

    The last row group read is kept: two consecutive windows share the row group at their border.
    """

    def __init__(self, columns: list[str], string_columns: list[str]):
        self.columns, self.string_columns = columns, string_columns
        self._file: tuple[Path, pq.ParquetFile] | None = None
        self._last: tuple[RowGroup, pa.Table] | None = None

    def read(self, group: RowGroup) -> pa.Table:
        if self._last is None or self._last[0] != group:
            self._last = None  # the previous table is freed before the next one is read
            self._last = (group, self._open(group.file).read_row_group(group.index, columns=self.columns))
        return self._last[1]

    def _open(self, file: Path) -> pq.ParquetFile:
        if self._file is None or self._file[0] != file:
            self._file = (file, pq.ParquetFile(file, read_dictionary=self.string_columns))
        return self._file[1]


class EpochPlan:
    """The windows of one epoch: which pieces of row groups each holds, and in which order its rows are served."""

    def __init__(self, groups: list[RowGroup], window_rows: int, shuffle: bool, seed: int, epoch: int):
        self.shuffle, self.seed, self.epoch = shuffle, seed, epoch
        order = np.random.default_rng([seed, epoch]).permutation(len(groups)) if shuffle else range(len(groups))
        self.groups = [groups[i] for i in order]
        self.ends = np.cumsum([group.rows for group in self.groups])
        self.window_rows = window_rows

    @property
    def rows(self) -> int:
        return int(self.ends[-1])

    @property
    def windows(self) -> int:
        return -(-self.rows // self.window_rows)

    def pieces(self, window: int) -> list[Piece]:
        start, stop = window * self.window_rows, min((window + 1) * self.window_rows, self.rows)
        pieces = []
        index = int(np.searchsorted(self.ends, start, side="right"))
        while index < len(self.groups) and start < stop:
            group_start = int(self.ends[index]) - self.groups[index].rows
            end = min(stop, int(self.ends[index]))
            pieces.append(Piece(self.groups[index], start - group_start, end - group_start))
            start, index = end, index + 1
        return pieces

    def row_order(self, window: int, rows: int) -> torch.Tensor | None:
        """The permutation a shuffled window's rows are served in; None keeps the file order."""
        if not self.shuffle:
            return None
        return torch.from_numpy(np.random.default_rng([self.seed, self.epoch, window]).permutation(rows))
