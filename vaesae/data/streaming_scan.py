"""One streaming pass over a split: checks every value, fits the scaling, counts unknown labels.

Means and standard deviations are accumulated a row group at a time in float64
and merged with Chan's parallel formula, so they agree with a whole-column
computation up to rounding, whatever the row-group sizes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vaesae.data.encoding import ColumnEncoding
from vaesae.data.parquet_parts import RowGroup, RowGroupReader
from vaesae.data.tables import list_column, numeric_column, text_column
from vaesae.data.tabular import label_codes
from vaesae.errors import DataError


class RunningMoments:
    """Count, mean and sum of squared deviations of each column, merged block by block."""

    def __init__(self, columns: int):
        self.count = 0
        self.mean = np.zeros(columns)
        self.squares = np.zeros(columns)

    def add(self, block: np.ndarray) -> None:
        count = len(block)
        mean = block.mean(axis=0, dtype=np.float64)
        squares = ((block - mean) ** 2).sum(axis=0, dtype=np.float64)
        delta, total = mean - self.mean, self.count + count
        self.mean = self.mean + delta * count / total
        self.squares = self.squares + squares + delta**2 * self.count * count / total
        self.count = total

    def means_and_stds(self) -> tuple[list[float], list[float]]:
        """Population standard deviations, 1.0 for a constant column (as the in-memory fit)."""
        stds = np.sqrt(self.squares / max(self.count, 1))
        return self.mean.tolist(), [float(s) if s else 1.0 for s in stds]


@dataclass
class SplitSummary:
    rows: int = 0
    means: list[float] = field(default_factory=list)
    stds: list[float] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    embedding_dim: int = 0


def embedding_width(file, table, columns: list[str], expected: int | None) -> int:
    width = sum(list_column(file, table, column).shape[1] for column in columns)
    if expected is not None and width != expected:
        raise DataError(f"{file}: embeddings have width {width}, expected {expected} as in the rest of the split")
    return width


def scan_split(groups: list[RowGroup], encoding: ColumnEncoding) -> SplitSummary:
    """Read every row group once; ``encoding`` gives the columns and the category maps to count unknowns with."""
    reader = RowGroupReader(encoding.numerical + encoding.categorical + encoding.embeddings, encoding.categorical)
    moments = RunningMoments(len(encoding.numerical))
    summary = SplitSummary(unknown=[0] * len(encoding.categorical))
    width = None
    for group in groups:
        table = reader.read(group)
        if encoding.numerical:
            moments.add(np.stack([numeric_column(group.file, table, c) for c in encoding.numerical], axis=1))
        if encoding.categorical:
            _, unknown = label_codes({c: text_column(table, c) for c in encoding.categorical}, encoding, table.num_rows)
            summary.unknown = [a + b for a, b in zip(summary.unknown, unknown)]
        if encoding.embeddings:
            width = embedding_width(group.file, table, encoding.embeddings, width)
        summary.rows += table.num_rows
    summary.means, summary.stds = moments.means_and_stds()
    summary.embedding_dim = width or 0
    return summary
