"""``ParquetStreamLoader``: a Parquet file, or a folder of them, larger than memory, read a window at a time.

Only the files' metadata is read up front. Fitting the encoding (or, for a
split that is not the training split, checking it) is one pass over the row
groups; each epoch then reads the split once more, a window of
``buffer_rows`` rows at a time (see ``vaesae.data.parquet_parts`` for the
order). While the batches of one window are served, the next window is read
and encoded in a background thread, so memory holds at most two encoded
windows plus one row group as stored in the file. ``mean`` (the SAE's
initialisation) is one more pass, a row group at a time.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pyarrow as pa
import torch

from vaesae.data.base import BaseDataLoader
from vaesae.data.batching import Batch, select
from vaesae.data.encoding import ColumnEncoding
from vaesae.data.parquet_parts import EpochPlan, RowGroupReader, row_groups
from vaesae.data.streaming_scan import SplitSummary, scan_split
from vaesae.data.tables import list_column, numeric_column, text_column
from vaesae.data.tabular import category_maps, label_codes, warn_unknown_labels
from vaesae.errors import ConfigError, DataError
from vaesae.registry import register_dataloader

DEFAULT_BUFFER_ROWS = 262_144


@register_dataloader("ParquetStreamLoader")
class ParquetStreamLoader(BaseDataLoader):
    """Numerical, categorical and embeddings columns streamed from Parquet; ``buffer_rows`` bounds the memory."""

    reads_folders = True
    reads_arrays = False

    def __init__(self, *args: Any, buffer_rows: int = DEFAULT_BUFFER_ROWS, **kwargs: Any):
        """``buffer_rows`` bounds the rows held at once; the other parameters are ``BaseDataLoader``'s."""
        if buffer_rows < 1:
            raise ConfigError(f"loader_params.buffer_rows: must be at least 1, got {buffer_rows}")
        self.buffer_rows = buffer_rows
        self.encoding: ColumnEncoding | None = None
        self._checked = False
        super().__init__(*args, **kwargs)

    def _read(self) -> None:
        names = self.columns["numerical"] + self.columns["categorical"] + self.columns["embeddings"]
        self._groups = row_groups(self.data_path, names)
        self._rows = sum(group.rows for group in self._groups)

    @property
    def num_rows(self) -> int:
        return self._rows

    @property
    def window_rows(self) -> int:
        """Rows read at once: ``buffer_rows`` rounded down to whole batches (at least one batch)."""
        return max(self.batch_size, self.buffer_rows // self.batch_size * self.batch_size)

    def _scan(self, encoding: ColumnEncoding) -> SplitSummary:
        summary = scan_split(self._groups, encoding)
        warn_unknown_labels(self.data_path, encoding, summary.unknown, summary.rows)
        self._checked = True
        return summary

    def fit_encoding(self) -> ColumnEncoding:
        maps = category_maps(self.cardinalities, self.columns["categorical"])
        summary = self._scan(ColumnEncoding(**self.columns, category_maps=maps))
        return ColumnEncoding(**self.columns, means=summary.means, stds=summary.stds, category_maps=maps,
                              embedding_dim=summary.embedding_dim)

    def use_encoding(self, encoding: ColumnEncoding) -> "ParquetStreamLoader":
        """Take ``encoding``; a split it was not fitted on is read once now to check every value."""
        if not self._checked:
            summary = self._scan(encoding)
            if encoding.embeddings and summary.embedding_dim != encoding.embedding_dim:
                raise DataError(f"{self.data_path}: embeddings have width {summary.embedding_dim}, "
                                f"the model was trained on {encoding.embedding_dim}")
        self.encoding = encoding
        return self

    def mean(self, kind: str) -> torch.Tensor:
        """The float64 mean of the encoded ``kind`` tensor: one pass over the row groups, reading that kind's columns only."""
        if self.encoding is None:
            raise RuntimeError("use_encoding() must be called before averaging a loader")
        columns = self.encoding.columns()[kind]
        if not columns:
            raise DataError(f"{self.data_path}: no {kind} columns to average (data.columns.{kind} is empty)")
        reader = RowGroupReader(columns, self.encoding.categorical if kind == "categorical" else [])
        total = 0.0
        for group in self._groups:
            values = self._encode(group.file, reader.read(group), kind)
            total = total + values.sum(axis=0, dtype=np.float64)
        return torch.from_numpy(total / self._rows)

    def epoch(self, epoch: int, first_batch: int = 0) -> Iterator[Batch]:
        """The batches of one epoch, in the order fixed by (seed, epoch), from batch ``first_batch`` on."""
        if self.encoding is None:
            raise RuntimeError("use_encoding() must be called before iterating a loader")
        return self._serve(EpochPlan(self._groups, self.window_rows, self.shuffle, self.seed, epoch), first_batch)

    def _serve(self, plan: EpochPlan, first_batch: int) -> Iterator[Batch]:
        per_window = plan.window_rows // self.batch_size
        last_batch = len(self)
        window, skip = divmod(first_batch, per_window)
        last_window = (last_batch - 1) // per_window
        reader = RowGroupReader(self.encoding.numerical + self.encoding.categorical + self.encoding.embeddings,
                                self.encoding.categorical)
        with ThreadPoolExecutor(1) as background:
            def load(index: int) -> Future | None:
                return background.submit(self._window, plan, index, reader) if index <= last_window else None

            upcoming = load(window)
            while upcoming is not None:
                tensors, order = upcoming.result()
                upcoming = load(window + 1)
                batches = min(per_window, last_batch - window * per_window)
                for batch in range(skip, batches):
                    rows = slice(batch * self.batch_size, (batch + 1) * self.batch_size)
                    yield select(tensors, order[rows] if order is not None else rows)
                window, skip = window + 1, 0

    def _window(self, plan: EpochPlan, window: int, reader: RowGroupReader) -> tuple[Batch, torch.Tensor | None]:
        parts = [self._encode_all(piece.group.file, reader.read(piece.group).slice(piece.start, piece.stop - piece.start))
                 for piece in plan.pieces(window)]
        tensors = {name: torch.from_numpy(np.concatenate([part[name] for part in parts])) for name in parts[0]}
        rows = next(iter(tensors.values())).shape[0]
        return tensors, plan.row_order(window, rows)

    def _encode_all(self, file: Path, table: pa.Table) -> dict[str, np.ndarray]:
        return {kind: self._encode(file, table, kind) for kind, columns in self.encoding.columns().items() if columns}

    def _encode(self, file: Path, table: pa.Table, kind: str) -> np.ndarray:
        encoding = self.encoding
        if kind == "numerical":
            return encoding.scale([numeric_column(file, table, c) for c in encoding.numerical])
        if kind == "categorical":
            return label_codes({c: text_column(table, c) for c in encoding.categorical}, encoding, table.num_rows)[0]
        return np.concatenate([list_column(file, table, c) for c in encoding.embeddings], axis=1)
