"""``task=extract`` throughput: the engine's streaming writer against a plain ``encode`` loop.

The vaesae side is what ``task=extract`` runs per split once the checkpoint and
the data are loaded: ``write_inference`` over the split's loader (input order,
streamed output, fsync and atomic rename). The baseline encodes the same tensors in
``torch.inference_mode()`` with the same batch size and saves the array with
``numpy.save``, so both sides end with the same ``.npy`` file.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from vaesae.data.tabular import TabularDataLoader
from vaesae.engine.inference import write_inference

from benchmarks.datasets import COLUMNS
from benchmarks.measure import Row, Target, interleaved, median, paired_ratio, per_second
from benchmarks.parts import VAL_BATCH_SIZE, fresh_model
from benchmarks.plan import Context, rows_text

CPU = torch.device("cpu")


def vaesae_extract(model, loader: TabularDataLoader, path: Path) -> float:
    started = time.perf_counter()
    write_inference(model, loader, model.encode, CPU, path)
    return time.perf_counter() - started


def hand_extract(model, tensors: dict[str, torch.Tensor], path: Path, batch_size: int = VAL_BATCH_SIZE) -> float:
    started = time.perf_counter()
    model.eval()
    rows = len(next(iter(tensors.values())))
    with torch.inference_mode():
        parts = [model.encode({name: tensor[start:start + batch_size] for name, tensor in tensors.items()})
                 for start in range(0, rows, batch_size)]
        np.save(path, torch.cat(parts).numpy())
    return time.perf_counter() - started


def extraction_sides(data_path: Path, cardinalities, folder: Path) -> tuple[int, dict[str, Callable[[], float]]]:
    """Rows, and both sides over one file sharing one model and one loaded split."""
    loader = TabularDataLoader(data_path, COLUMNS, batch_size=VAL_BATCH_SIZE, shuffle=False, cardinalities=cardinalities)
    encoding = loader.fit_encoding()
    loader.use_encoding(encoding)
    model = fresh_model(encoding)[0]
    return loader.num_rows, {
        "vaesae": lambda: vaesae_extract(model, loader, folder / "vaesae.npy"),
        "encode": lambda: hand_extract(model, loader.tensors, folder / "encode.npy"),
    }


def rows(context: Context) -> list[Row]:
    size = context.plan.extract_rows
    path = context.large[size, "parquet"]
    count, sides = extraction_sides(path, json.loads((path.parent / "cardinalities.json").read_text()),
                                    context.scratch("extraction"))
    seconds = interleaved(sides, context.plan.short_repeats)
    mine, theirs = median(seconds["vaesae"]), median(seconds["encode"])
    return [Row(f"`task=extract` throughput, {rows_text(size)} rows, batch {VAL_BATCH_SIZE}",
                "`model.encode` in `inference_mode` + `np.save`", per_second(count, mine), per_second(count, theirs),
                paired_ratio(seconds["encode"], seconds["vaesae"]), Target(0.9))]
