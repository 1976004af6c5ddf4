"""Training throughput by thread count: the default (``experiment.threads: auto``) against 1 thread and all cores.

Each side is the same ``Trainer.fit`` as the training rows, with torch's
intra-op threads set for that side; the sides alternate as everywhere else.
The last row repeats the default against all cores while one busy process per
core competes for the CPUs, as on a shared machine.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from benchmarks.busy import busy_cores
from benchmarks.measure import Row, Target, interleaved, median, paired_ratio, per_second
from benchmarks.parts import Loaders, fresh_model, loaders
from benchmarks.plan import Context
from benchmarks.training import vaesae_fit
from vaesae.engine.threads import AUTO, choose_threads, current_limits, step_work

BATCH = 1024


def fit_with_threads(threads: int, parts: Loaders, epochs: int, root: Path):
    def run() -> float:
        torch.set_num_threads(threads)
        return vaesae_fit(parts, epochs, Path(tempfile.mkdtemp(dir=root)))

    return run


def compare(sides: dict[str, int], parts: Loaders, context: Context, folder: Path) -> dict[str, list[float]]:
    plan = context.plan
    runs = {name: fit_with_threads(threads, parts, plan.epochs, folder) for name, threads in sides.items()}
    return interleaved(runs, plan.repeats)


def row(what: str, label: str, seconds: dict[str, list[float]], mine: str, theirs: str, work: int, target: Target) -> Row:
    return Row(what, label, per_second(work, median(seconds[mine])), per_second(work, median(seconds[theirs])),
               paired_ratio(seconds[theirs], seconds[mine]), target)


def rows(context: Context) -> list[Row]:
    before = torch.get_num_threads()
    folder, parts = context.scratch("threads"), loaders(context.demo, BATCH)
    model = fresh_model(parts.encoding)[0]
    cores = current_limits({}, measure_idle=False).usable  # every CPU this process may use, however busy
    default = choose_threads(AUTO, step_work(model, BATCH), current_limits({})).threads
    work = context.plan.train_rows * context.plan.epochs
    what = f"`task=train` throughput, batch {BATCH}, default threads (auto: {default})"
    try:
        quiet = compare({"default": default, "one": 1, "all": cores}, parts, context, folder)
        with busy_cores(cores):
            loaded = compare({"default": default, "all": cores}, parts, context, folder)
    finally:
        torch.set_num_threads(before)
    return [
        row(what, "1 thread", quiet, "default", "one", work, Target(0.9)),
        row(what, f"all cores ({cores} threads)", quiet, "default", "all", work, Target(1.0)),
        row(f"{what}, one busy process per core alongside", f"all cores ({cores} threads), same load", loaded,
            "default", "all", work, Target(1.0)),
    ]
