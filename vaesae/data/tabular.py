"""``TabularDataLoader``: numerical and categorical columns from CSV or Parquet."""
from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch

from vaesae.data.base import BaseDataLoader
from vaesae.data.encoding import ColumnEncoding, fit_scaling
from vaesae.data.tables import list_column, numeric_column, read_table, release_freed_memory, text_column
from vaesae.errors import DataError
from vaesae.registry import register_dataloader

log = logging.getLogger(__name__)


def _chunk_codes(chunk: pa.Array, mapping: dict[str, int], unknown: int) -> np.ndarray:
    """Codes of one chunk: look up each distinct label once, then gather by the dictionary indices."""
    encoded = chunk if pa.types.is_dictionary(chunk.type) else pc.dictionary_encode(chunk)
    labels = encoded.dictionary.cast(pa.string()).to_pylist()
    lookup = np.array([mapping.get(label, unknown) for label in labels] + [unknown], dtype=np.int64)
    indices = encoded.indices.fill_null(len(labels)) if encoded.indices.null_count else encoded.indices
    return lookup[indices.to_numpy()]


def category_codes(path, column: str, labels: pa.ChunkedArray, encoding: ColumnEncoding, out: np.ndarray) -> None:
    """Write the codes of ``labels`` into ``out``; unknown or missing labels get the column's reserved code, with one warning."""
    mapping = encoding.category_maps[column]
    unknown = encoding.unknown_code(column)
    start, count = 0, 0
    for chunk in labels.chunks:
        codes = _chunk_codes(chunk, mapping, unknown)
        out[start:start + len(codes)] = codes
        start += len(codes)
        count += int(np.count_nonzero(codes == unknown))
    if count:
        log.warning(
            "%s: column %r: %d of %d rows have a missing label or one not in the cardinalities map; "
            "they use the reserved unknown code %d",
            path, column, count, len(out), unknown,
        )


@register_dataloader("TabularDataLoader")
class TabularDataLoader(BaseDataLoader):
    """Reads CSV/Parquet; embeddings columns, if any, must be Parquet list columns."""

    def _read(self) -> None:
        names = self.columns["numerical"] + self.columns["categorical"] + self.columns["embeddings"]
        table = read_table(self.data_path, names, string_columns=self.columns["categorical"])
        self._numerical = [numeric_column(self.data_path, table, c) for c in self.columns["numerical"]]
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
        maps = {c: {str(k): int(v) for k, v in (self.cardinalities or {})[c].items()} for c in self.columns["categorical"]}
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
            codes = np.empty((self._rows, len(encoding.categorical)), np.int64)
            for index, column in enumerate(encoding.categorical):
                category_codes(self.data_path, column, self._labels[column], encoding, codes[:, index])
            self.tensors["categorical"] = torch.from_numpy(codes)
        if encoding.embeddings:
            embeddings = np.concatenate(self._embeddings, axis=1)
            if embeddings.shape[1] != encoding.embedding_dim:
                raise DataError(
                    f"{self.data_path}: embeddings have width {embeddings.shape[1]}, the model was trained on {encoding.embedding_dim}"
                )
            self.tensors["embeddings"] = torch.from_numpy(embeddings)
        return self
