"""``EmbeddingDataLoader``: a 2-D float array of embeddings from .npy, .npz or Parquet."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from vaesae.data.base import BaseDataLoader
from vaesae.data.encoding import ColumnEncoding
from vaesae.data.large_csv import available_memory
from vaesae.data.tables import PARQUET_SUFFIXES, list_column, read_table
from vaesae.errors import DataError
from vaesae.registry import register_dataloader


def check_array_fits_in_memory(path: Path, available: int | None = None) -> None:
    """Refuse a ``.npy`` whose float32 copy is larger than the ``available`` memory (default: what is free now)."""
    size = math.prod(np.load(path, mmap_mode="r", allow_pickle=False).shape) * 4
    available = available_memory() if available is None else available
    if size > available:
        parquet = path.with_suffix(".parquet")
        raise DataError(
            f"{path}: the embeddings ({size / 2**30:.1f} GiB as float32) are larger than the memory available "
            f"({available / 2**30:.1f} GiB), and EmbeddingDataLoader reads them whole; write them as Parquet "
            f"(task=extract with the split's output={parquet}) and read that with loader_class=ParquetStreamLoader"
        )


def _load_array(path, column: str) -> np.ndarray:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            check_array_fits_in_memory(path)
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                if column not in archive.files:
                    raise DataError(f"{path}: no array named {column!r}; the file has: {', '.join(archive.files)}")
                return archive[column]
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: cannot read embeddings: {exc}") from None
    if suffix in PARQUET_SUFFIXES:
        return list_column(path, read_table(path, [column], []), column)
    raise DataError(f"{path}: unsupported embeddings file type {suffix!r}; use .npy, .npz or .parquet")


@register_dataloader("EmbeddingDataLoader")
class EmbeddingDataLoader(BaseDataLoader):
    """Exactly one ``embeddings`` column; in ``.npy`` files its name only labels the array."""

    reads_arrays = True

    def _read(self) -> None:
        if len(self.columns["embeddings"]) != 1 or self.columns["numerical"] or self.columns["categorical"]:
            raise DataError(
                f"{self.data_path}: EmbeddingDataLoader reads exactly one data.columns.embeddings entry "
                f"and no numerical/categorical columns (got {self.columns})"
            )
        array = _load_array(self.data_path, self.columns["embeddings"][0])
        if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
            raise DataError(f"{self.data_path}: embeddings must be a 2-D numeric array, got shape {array.shape} dtype {array.dtype}")
        if array.shape[0] == 0:
            raise DataError(f"{self.data_path}: embeddings file has no rows")
        bad = int((~np.isfinite(array)).any(axis=1).sum())
        if bad:
            raise DataError(f"{self.data_path}: {bad} row(s) of embeddings contain NaN or infinite values")
        self._array = np.ascontiguousarray(array, dtype=np.float32)

    @property
    def num_rows(self) -> int:
        return self._array.shape[0]

    def fit_encoding(self) -> ColumnEncoding:
        return ColumnEncoding(embeddings=self.columns["embeddings"], embedding_dim=self._array.shape[1])

    def use_encoding(self, encoding: ColumnEncoding) -> "EmbeddingDataLoader":
        if self._array.shape[1] != encoding.embedding_dim:
            raise DataError(
                f"{self.data_path}: embeddings have width {self._array.shape[1]}, the model expects {encoding.embedding_dim}"
            )
        self.tensors["embeddings"] = torch.from_numpy(self._array)
        return self
