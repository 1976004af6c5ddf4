"""Demo-schema Parquet data for the streaming tests: a training folder of two files, and a validation file."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vaesae.data.demo import DEMO_CATEGORICAL, DEMO_NUMERICAL, demo_cardinalities, generate_transactions

COLUMNS = {"numerical": DEMO_NUMERICAL, "categorical": DEMO_CATEGORICAL, "embeddings": []}


@dataclass(frozen=True)
class StreamingData:
    folder: Path

    @property
    def train(self) -> Path:
        return self.folder / "train"

    @property
    def val(self) -> Path:
        return self.folder / "val.parquet"

    @property
    def cardinalities_path(self) -> Path:
        return self.folder / "cardinalities.json"

    @property
    def cardinalities(self) -> dict:
        return json.loads(self.cardinalities_path.read_text())

    def args(self, buffer_rows: int) -> tuple[str, ...]:
        """CLI overrides training the demo VAE on this data with the streaming loader."""
        return (
            f"train.data_path={self.train}", f"val.data_path={self.val}",
            f"data.cardinalities_path={self.cardinalities_path}",
            "train.loader_class=ParquetStreamLoader", "val.loader_class=ParquetStreamLoader",
            f"+train.loader_params.buffer_rows={buffer_rows}",
        )


def write_streaming_data(folder: Path, train_rows: int, val_rows: int, row_group_rows: int) -> StreamingData:
    data = StreamingData(folder)
    data.train.mkdir(parents=True)
    table = pa.Table.from_pandas(generate_transactions(train_rows, 7), preserve_index=False)
    half = train_rows // 2
    pq.write_table(table.slice(0, half), data.train / "part-0.parquet", row_group_size=row_group_rows)
    pq.write_table(table.slice(half), data.train / "part-1.parquet", row_group_size=row_group_rows)
    val = pa.Table.from_pandas(generate_transactions(val_rows, 8), preserve_index=False)
    pq.write_table(val, data.val, row_group_size=row_group_rows)
    data.cardinalities_path.write_text(json.dumps(demo_cardinalities()))
    return data
