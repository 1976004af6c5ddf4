"""Loading a file into model-ready tensors, against pyarrow reading the same file.

The vaesae side is what ``task=train`` does with the training split:
``TabularDataLoader`` reads the file, fits the encoding (scaling, category
codes) and builds the float32 / int64 tensors. The baseline is pyarrow's own
reader on the same file with its defaults, which stops at an Arrow table. Both
read from the operating system's page cache: the file was just written and
the warm-up round read it once more, as a user's repeated runs would.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from vaesae.data.tabular import TabularDataLoader

from benchmarks.datasets import COLUMNS
from benchmarks.measure import Row, Target, interleaved, median, paired_ratio, seconds_text, stopwatch
from benchmarks.plan import Context, rows_text


def vaesae_load(path: Path, cardinalities) -> dict:
    loader = TabularDataLoader(path, COLUMNS, batch_size=1024, shuffle=True, cardinalities=cardinalities)
    loader.use_encoding(loader.fit_encoding())
    return loader.tensors


def pyarrow_read(path: Path):
    return pq.read_table(path) if path.suffix == ".parquet" else pa_csv.read_csv(path)


def loading_sides(path: Path, cardinalities) -> dict[str, Callable[[], float]]:
    return {
        "vaesae": lambda: stopwatch(lambda: vaesae_load(path, cardinalities)),
        "pyarrow": lambda: stopwatch(lambda: pyarrow_read(path)),
    }


def linearity(context: Context, cardinalities) -> Row:
    """Seconds per row loading the largest CSV against the smallest: 1× is linear cost."""
    small, large = context.plan.load_rows[0], context.plan.linear_rows
    sides = {"small": loading_sides(context.large[small, "csv"], cardinalities)["vaesae"],
             "large": loading_sides(context.large[large, "csv"], cardinalities)["vaesae"]}
    seconds = interleaved(sides, context.plan.repeats)
    per_row = [(big / large) / (little / small) for big, little in zip(seconds["large"], seconds["small"])]
    return Row(f"load {rows_text(large)} rows from CSV into tensors, cost per row", f"the same at {rows_text(small)} rows",
               seconds_text(median(seconds["large"])), seconds_text(median(seconds["small"])), median(per_row),
               Target(1.2, at_least=False))


def rows(context: Context) -> list[Row]:
    result = []
    cardinalities = json.loads((context.large[context.plan.load_rows[0], "csv"].parent / "cardinalities.json").read_text())
    for size in context.plan.load_rows:
        for kind in ("csv", "parquet"):
            seconds = interleaved(loading_sides(context.large[size, kind], cardinalities), context.plan.short_repeats)
            mine, theirs = median(seconds["vaesae"]), median(seconds["pyarrow"])
            result.append(Row(f"load {rows_text(size)} rows from {'CSV' if kind == 'csv' else 'Parquet'} into tensors",
                              "`pyarrow` reading the file", seconds_text(mine), seconds_text(theirs),
                              paired_ratio(seconds["vaesae"], seconds["pyarrow"]), Target(1.5, at_least=False)))
    return [*result, linearity(context, cardinalities)]
