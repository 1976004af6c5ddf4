"""``TabularDataLoader``: numerical and categorical columns from CSV or Parquet."""
from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from vaesae.data.base import BaseDataLoader
from vaesae.data.encoding import ColumnEncoding, fit_scaling
from vaesae.data.input_checks import no_known_labels
from vaesae.data.large_csv import check_csv_fits_in_memory
from vaesae.data.parallel import on_all_cores
from vaesae.data.tables import list_column, numeric_column, read_table, release_freed_memory, text_column
from vaesae.errors import DataError
from vaesae.registry import register_dataloader

log = logging.getLogger(__name__)


def _chunk_codes(chunk: pa.Array, mapping: dict[str, int], unknown: int, out: np.ndarray) -> int:
    """Write the codes of one chunk into ``out``, looking up each distinct label once; returns how many are unknown."""
    encoded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
    dictionary = encoded.dictionary
    labels = (dictionary if pa.types.is_string(dictionary.type) else dictionary.cast(pa.string())).to_pylist()
    lookup = np.array([mapping.get(label, unknown) for label in labels] + [unknown], dtype=np.int64)
    indices = encoded.indices.fill_null(len(labels)) if encoded.indices.null_count else encoded.indices
    np.take(lookup, indices.to_numpy(), out=out, mode="clip")
    if not encoded.indices.null_count and np.count_nonzero(lookup == unknown) == 1:
        return 0
    return int(np.count_nonzero(out == unknown))


def label_codes(labels: dict[str, pa.ChunkedArray], encoding: ColumnEncoding, rows: int) -> tuple[np.ndarray, list[int]]:
    """The ``(rows, columns)`` codes of the label columns and, per column, how many labels are unknown or missing.

    Unknown or missing labels get each column's reserved code. Rows are coded a
    record batch at a time, batches side by side: each column into a small
    block that is then copied into place, so the row-major result is written in
    one cache-friendly pass rather than one strided pass per column.
    """
    columns = encoding.categorical
    lookups = [(encoding.category_maps[column], encoding.unknown_code(column)) for column in columns]
    codes = np.empty((rows, len(columns)), np.int64)

    def code_batch(batch: pa.RecordBatch, start: int) -> list[int]:
        block = np.empty((len(columns), batch.num_rows), np.int64)
        unknown = [_chunk_codes(batch.column(index), mapping, unknown_code, block[index])
                   for index, (mapping, unknown_code) in enumerate(lookups)]
        codes[start:start + batch.num_rows] = block.T
        return unknown

    batches = pa.table({column: labels[column] for column in columns}).to_batches()
    starts = np.cumsum([0] + [batch.num_rows for batch in batches[:-1]]).tolist()
    unknown = np.sum(on_all_cores(code_batch, batches, starts), axis=0, dtype=np.int64).reshape(len(columns))
    return codes, unknown.tolist()


def warn_unknown_labels(path, encoding: ColumnEncoding, unknown: list[int], rows: int) -> None:
    """One warning per column with unknown or missing labels, with their count."""
    for column, count in zip(encoding.categorical, unknown):
        if count:
            log.warning(
                "%s: column %r: %d of %d rows have a missing label or one not in the cardinalities map; "
                "they use the reserved unknown code %d",
                path, column, count, rows, encoding.unknown_code(column),
            )


def category_codes(path, labels: dict[str, pa.ChunkedArray], encoding: ColumnEncoding, rows: int) -> np.ndarray:
    """``label_codes``, with a warning for each column that has unknown labels; a column in which
    no row has a known label is an error."""
    codes, unknown = label_codes(labels, encoding, rows)
    for column, count in zip(encoding.categorical, unknown):
        if count == rows:
            raise no_known_labels(path, column, labels[column], encoding.category_maps[column])
    warn_unknown_labels(path, encoding, unknown, rows)
    return codes


def category_maps(cardinalities, columns: list[str]) -> dict[str, dict[str, int]]:
    """Label -> code for each categorical column, from the cardinalities file."""
    return {c: {str(k): int(v) for k, v in (cardinalities or {})[c].items()} for c in columns}


@register_dataloader("TabularDataLoader")
class TabularDataLoader(BaseDataLoader):
    """Reads CSV/Parquet; embeddings columns, if any, must be Parquet list columns."""

    reads_arrays = False

    def _read(self) -> None:
        check_csv_fits_in_memory(self.data_path)
        names = self.columns["numerical"] + self.columns["categorical"] + self.columns["embeddings"]
        table = read_table(self.data_path, names, string_columns=self.columns["categorical"])
        self._numerical = on_all_cores(lambda column: numeric_column(self.data_path, table, column), self.columns["numerical"])
        self._labels = {c: text_column(table, c) for c in self.columns["categorical"]}
        self._embeddings = [list_column(self.data_path, table, c) for c in self.columns["embeddings"]]
        self._rows = table.num_rows
        del table
        release_freed_memory()

    @property
    def num_rows(self) -> int:
        return self._rows

    def fit_encoding(self) -> ColumnEncoding:
        means, stds = fit_scaling(self._numerical)
        maps = category_maps(self.cardinalities, self.columns["categorical"])
        return ColumnEncoding(
            numerical=self.columns["numerical"],
            categorical=self.columns["categorical"],
            embeddings=self.columns["embeddings"],
            means=means,
            stds=stds,
            category_maps=maps,
            embedding_dim=sum(e.shape[1] for e in self._embeddings),
        )

    def use_encoding(self, encoding: ColumnEncoding) -> "TabularDataLoader":
        if encoding.numerical:
            self.tensors["numerical"] = torch.from_numpy(encoding.scale(self._numerical))
        if encoding.categorical:
            codes = category_codes(self.data_path, self._labels, encoding, self._rows)
            self.tensors["categorical"] = torch.from_numpy(codes)
        if encoding.embeddings:
            embeddings = np.concatenate(self._embeddings, axis=1)
            if embeddings.shape[1] != encoding.embedding_dim:
                raise DataError(
                    f"{self.data_path}: embeddings have width {embeddings.shape[1]}, the model was trained on {encoding.embedding_dim}"
                )
            self.tensors["embeddings"] = torch.from_numpy(embeddings)
        return self
