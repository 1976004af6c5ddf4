"""Peak memory of ``task=train`` on a large file, against the raw size of the data's tensors.

Two real CLI runs in fresh processes: one training on the large file, one on a
few thousand rows (the "empty" process: Python, torch, Hydra, the model, no
data to speak of). The difference of their peak resident memory is what the
data cost; the target compares it with the bytes of the float32 numerical and
int64 categorical tensors. Training is cut to a few batches: memory is taken
when the data is loaded, and a longer run does not add to it.
"""
from __future__ import annotations

from pathlib import Path

from benchmarks.datasets import COLUMNS
from benchmarks.measure import Row, Target, mib
from benchmarks.plan import Context, rows_text
from benchmarks.subprocesses import peak_rss_bytes, vaesae_command

BATCHES = 20


def raw_tensor_bytes(rows: int) -> int:
    return rows * (4 * len(COLUMNS["numerical"]) + 8 * len(COLUMNS["categorical"]))


def train_peak(train_path: Path, name: str, cwd: Path, env: dict[str, str]) -> int:
    """Peak RSS of ``python -m vaesae`` training one short epoch on ``train_path``."""
    command = vaesae_command(
        f"train.data_path={train_path}", "train.epochs=1", f"train.loader_params.num_batches_per_epoch={BATCHES}",
        f"experiment.name={name}", f"experiment.output_dir={cwd / 'memory'}", "experiment.device=cpu",
    )
    return peak_rss_bytes(command, cwd, env)


def rows(context: Context) -> list[Row]:
    size = context.plan.memory_rows
    cwd = context.scratch("memory")
    empty = train_peak(context.demo.val, "empty", cwd, context.env)
    result = []
    for kind in ("csv", "parquet"):
        peak = train_peak(context.large[size, kind], f"rows_{kind}", cwd, context.env)
        raw = raw_tensor_bytes(size)
        result.append(Row(
            f"peak memory training on {rows_text(size)} rows ({'CSV' if kind == 'csv' else 'Parquet'}), above the empty process",
            f"raw size of the tensors ({mib(raw)})", f"{mib(peak - empty)} (peak {mib(peak)}, empty {mib(empty)})",
            mib(raw), (peak - empty) / raw, Target(3.0, at_least=False)))
    return result
