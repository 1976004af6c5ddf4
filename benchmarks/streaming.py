"""Training one epoch on a large Parquet table: the in-memory loader against ``ParquetStreamLoader``.

    python -m benchmarks.streaming --rows 1000000 20000000

For each size, a demo-schema table is generated a row group at a time (so the
generator itself stays small) under ``benchmarks/results/raw/streaming/``,
then each loader trains the demo VAE for one epoch in a fresh ``python -m
vaesae`` process. The table shows the peak resident memory above the empty
process (the same command on a 2,000-row file) and the epoch's rows per second
as the training loop measures them. Training uses a batch of 4,096 rows, so an
epoch of 20M rows takes minutes, not hours, on two cores.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.subprocesses import REPO, cli_env, peak_rss_bytes, vaesae_command
from vaesae.data.demo import demo_cardinalities, generate_transactions

FOLDER = REPO / "benchmarks/results/raw/streaming"
ROW_GROUP_ROWS = 131_072
GENERATE_ROWS = 1_048_576
BATCH_SIZE = 4096
LOADERS = ("TabularDataLoader", "ParquetStreamLoader")
EMPTY_ROWS = 2000


def write_table(path: Path, rows: int) -> Path:
    """``rows`` demo transactions in row groups of ``ROW_GROUP_ROWS``, generated a million at a time."""
    if path.is_file() and pq.read_metadata(path).num_rows == rows:
        return path
    temp = path.with_suffix(".tmp")
    writer = None
    for index, start in enumerate(range(0, rows, GENERATE_ROWS)):
        part = pa.Table.from_pandas(generate_transactions(min(GENERATE_ROWS, rows - start), 1000 + index), preserve_index=False)
        writer = writer or pq.ParquetWriter(temp, part.schema)
        writer.write_table(part, row_group_size=ROW_GROUP_ROWS)
    writer.close()
    os.replace(temp, path)
    return path


def train_once(data: Path, loader: str, name: str) -> tuple[int, float]:
    """Peak RSS (bytes) and epoch rows/s of one epoch of training on ``data`` with ``loader``."""
    run_dir = FOLDER / "runs" / name
    command = vaesae_command(
        f"train.data_path={data}", f"train.loader_class={loader}", f"train.loader_params.batch_size={BATCH_SIZE}",
        "train.epochs=1", "~val", "checkpoint.metric=train_loss", "report.figures=false", "experiment.device=cpu",
        f"data.cardinalities_path={FOLDER / 'cardinalities.json'}", f"hydra.run.dir={run_dir}",
    )
    shutil.rmtree(run_dir, ignore_errors=True)
    peak = peak_rss_bytes(command, FOLDER, cli_env())
    metrics = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    return peak, metrics["rows_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 20_000_000])
    sizes = parser.parse_args().rows
    FOLDER.mkdir(parents=True, exist_ok=True)
    (FOLDER / "cardinalities.json").write_text(json.dumps(demo_cardinalities()))
    empty_file = write_table(FOLDER / f"rows{EMPTY_ROWS}.parquet", EMPTY_ROWS)
    empty = {loader: train_once(empty_file, loader, f"empty_{loader}")[0] for loader in LOADERS}
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| rows | loader | peak RSS above the empty process | rows/s (epoch) |")
    print("|---|---|---|---|")
    for rows in sizes:
        data = write_table(FOLDER / f"rows{rows}.parquet", rows)
        for loader in LOADERS:
            peak, speed = train_once(data, loader, f"rows{rows}_{loader}")
            print(f"| {rows:,} | {loader} | {(peak - empty[loader]) / 2**20:,.0f} MiB | {speed:,.0f} |", flush=True)
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
