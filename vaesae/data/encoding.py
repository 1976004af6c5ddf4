"""How raw columns become model inputs, fitted on the training split only.

The encoding is stored in every checkpoint (as plain Python types) so that
validation, extraction and prediction use exactly the training encoding.
Numerical columns are standardised with the training mean and standard
deviation; categorical labels map to codes through the cardinalities file,
with one extra code per column reserved for unknown or missing labels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


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

    def scale(self, values: np.ndarray) -> np.ndarray:
        """Standardised float32 values, one column at a time (one pass over memory, no temporary matrix)."""
        scaled = np.empty(values.shape, dtype=np.float32)
        for index, (mean, std) in enumerate(zip(self.means, self.stds)):
            scaled[:, index] = (values[:, index] - np.float32(mean)) / np.float32(std)
        return scaled

    def unscale(self, values: np.ndarray) -> np.ndarray:
        return values * np.asarray(self.stds, dtype=np.float32) + np.asarray(self.means, dtype=np.float32)

    def to_state(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict) -> "ColumnEncoding":
        return cls(**state)


def fit_scaling(values: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-column mean and standard deviation (1.0 for a constant column), accumulated in float64.

    Arrow's single-pass kernels on one contiguous column at a time are several
    times faster than NumPy reducing a tall array along axis 0 in float64.
    """
    means, stds = [], []
    for index in range(values.shape[1]):
        column = pa.array(np.ascontiguousarray(values[:, index]))
        mean, std = pc.mean(column).as_py(), pc.stddev(column).as_py()
        means.append(mean if mean is not None else 0.0)
        stds.append(std if std else 1.0)
    return means, stds
