"""The benchmark's data: drawn from the demo generator with fixed seeds, written fresh each run."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from vaesae.data.demo import DEMO_CATEGORICAL, DEMO_NUMERICAL, demo_cardinalities, generate_transactions, write_demo_data

COLUMNS = {"numerical": DEMO_NUMERICAL, "categorical": DEMO_CATEGORICAL}
SEED = 20240


@dataclass(frozen=True)
class DemoSplits:
    """A demo-schema dataset as the packaged config expects it (``VAESAE_DEMO_DIR``)."""

    folder: Path

    @property
    def train(self) -> Path:
        return self.folder / "train.csv"

    @property
    def val(self) -> Path:
        return self.folder / "val.csv"

    @property
    def cardinalities_path(self) -> Path:
        return self.folder / "cardinalities.json"

    @property
    def cardinalities(self) -> dict[str, dict[str, int]]:
        return json.loads(self.cardinalities_path.read_text())


def demo_splits(folder: Path, n_train: int, n_val: int) -> DemoSplits:
    """Train/val/test CSVs and cardinalities, written by the demo's own writer."""
    write_demo_data(folder, n_train=n_train, n_val=n_val, n_test=max(n_val // 4, 1), seed=SEED)
    return DemoSplits(folder)


def large_files(folder: Path, sizes: list[int]) -> dict[tuple[int, str], Path]:
    """The first ``n`` rows of one generated table for each size, as ``.csv`` and ``.parquet``.

    The CSV is written without quotes, as ``pandas.DataFrame.to_csv`` writes the demo files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(generate_transactions(max(sizes), SEED + 1), preserve_index=False)
    files = {}
    for rows in sizes:
        part = table.slice(0, rows)
        files[rows, "csv"] = folder / f"rows{rows}.csv"
        pa_csv.write_csv(part, files[rows, "csv"], pa_csv.WriteOptions(quoting_style="none"))
        files[rows, "parquet"] = folder / f"rows{rows}.parquet"
        pq.write_table(part, files[rows, "parquet"])
    (folder / "cardinalities.json").write_text(json.dumps(demo_cardinalities()))
    return files
