"""How raw columns become model inputs, fitted on the training split only.

The encoding is stored in every checkpoint (as plain Python types) so that
validation, extraction and prediction use exactly the training encoding.
Numerical columns are standardised with the training mean and standard
deviation; categorical labels map to codes through the cardinalities file,
with one extra code per column reserved for unknown or missing labels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vaesae.data.parallel import on_all_cores, row_blocks


@dataclass
class ColumnEncoding:
    numerical: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    embeddings: list[str] = field(default_factory=list)
    means: list[float] = field(default_factory=list)
    stds: list[float] = field(default_factory=list)
    category_maps: dict[str, dict[str, int]] = field(default_factory=dict)
    embedding_dim: int = 0

    @property
    def input_dim(self) -> int:
        return len(self.numerical) + len(self.categorical) + self.embedding_dim

    def columns(self) -> dict[str, list[str]]:
        """The columns this encoding was fitted on, in the ``data.columns`` layout."""
        return {"numerical": self.numerical, "categorical": self.categorical, "embeddings": self.embeddings}

    def describe_width(self) -> str:
        return (
            f"{len(self.numerical)} numerical + {len(self.categorical)} categorical"
            f" + {self.embedding_dim} embedding dimensions"
        )

    def unknown_code(self, column: str) -> int:
        codes = self.category_maps[column].values()
        return max(codes, default=-1) + 1

    @property
    def cardinalities(self) -> list[int]:
        """Number of codes per categorical column, the unknown code included."""
        return [self.unknown_code(c) + 1 for c in self.categorical]

    def labels(self, column: str) -> list[str]:
        """Code -> label for ``column``; the unknown code decodes to ``"<unknown>"``."""
        decoded = ["<unknown>"] * (self.unknown_code(column) + 1)
        for label, code in self.category_maps[column].items():
            decoded[code] = label
        return decoded

    def scale(self, columns: Sequence[np.ndarray]) -> np.ndarray:
        """The numerical columns standardised into one (rows, columns) float32 matrix.

        Built a block of rows at a time on every core, so the row-major result
        is written in one cache-friendly pass. Each column of a block is scaled
        on its own, contiguous, before it is written into place: NumPy is slow
        at arithmetic broadcast over rows as short as one row of the matrix.
        """
        rows = len(columns[0]) if len(columns) else 0
        scaled = np.empty((rows, len(columns)), dtype=np.float32)
        means, stds = np.asarray(self.means, dtype=np.float32), np.asarray(self.stds, dtype=np.float32)

        def scale_block(block: slice) -> None:
            for index, column in enumerate(columns):
                values = np.subtract(column[block], means[index], dtype=np.float32)
                values /= stds[index]
                scaled[block, index] = values

        on_all_cores(scale_block, row_blocks(rows))
        return scaled

    def unscale(self, values: np.ndarray) -> np.ndarray:
        return values * np.asarray(self.stds, dtype=np.float32) + np.asarray(self.means, dtype=np.float32)

    def to_state(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict) -> "ColumnEncoding":
        return cls(**state)


def _mean_and_std(column: np.ndarray) -> tuple[float, float]:
    values = pa.array(column)
    mean, std = pc.mean(values).as_py(), pc.stddev(values).as_py()
    return (mean if mean is not None else 0.0), (std if std else 1.0)


def fit_scaling(columns: Sequence[np.ndarray]) -> tuple[list[float], list[float]]:
    """Mean and standard deviation of each column (1.0 for a constant column), accumulated in float64.

    Arrow's single-pass kernels are several times faster than NumPy's float64
    mean and standard deviation of a float32 column; columns run side by side.
    """
    moments = on_all_cores(_mean_and_std, columns)
    return [mean for mean, _ in moments], [std for _, std in moments]
