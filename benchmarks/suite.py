"""The benchmark suite: ``python -m benchmarks.suite [--quick] [--readme]``.

Generates its data, runs every comparison with both sides interleaved, prints
the results table and writes it to ``benchmarks/RESULTS.md`` (and, with
``--readme``, into the README's benchmark section).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import torch

from benchmarks import extraction, launchers, loading, memory, startup, thread_rows, training
from benchmarks.datasets import DemoSplits, demo_splits, large_files
from benchmarks.machine import describe, load_average
from benchmarks.measure import Row
from benchmarks.parts import fresh_model, loaders
from benchmarks.plan import FULL, QUICK, Context
from benchmarks.report import document, update_readme
from benchmarks.subprocesses import REPO, cli_env
from vaesae.engine.threads import AUTO, choose_threads, current_limits, step_work

FAMILIES: dict[str, Callable[[Context], list[Row]]] = {
    "training": training.rows,
    "threads": thread_rows.rows,
    "extract": extraction.rows,
    "loading": loading.rows,
    "memory": memory.rows,
    "sweep": launchers.rows,
    "startup": startup.rows,
}
RESULTS = REPO / "benchmarks" / "RESULTS.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: checks that every row runs")
    parser.add_argument("--only", action="append", choices=list(FAMILIES), help="run only these row families")
    parser.add_argument("--threads", type=threads_setting, default=AUTO,
                        help="torch intra-op threads for every side and child process: auto (default, what "
                             "experiment.threads: auto picks for the default model, OMP_NUM_THREADS ignored) or N")
    parser.add_argument("--output", type=Path, help=f"results file (default: {RESULTS.relative_to(REPO)}, none with --quick)")
    parser.add_argument("--readme", action="store_true", help="also copy the results into README.md")
    args = parser.parse_args(argv)
    if args.quick and args.readme:
        parser.error("--readme publishes results; run the full suite for that")
    return args


def threads_setting(text: str) -> str | int:
    if text == AUTO:
        return AUTO
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected auto or a positive whole number, got {text!r}")
    return int(text)


def set_threads(requested: str | int, demo: DemoSplits) -> int:
    """Set this process's torch threads as a user's run would get them; returns the count."""
    if requested == AUTO:
        largest_batch = max(FULL.batch_sizes)
        model = fresh_model(loaders(demo, largest_batch).encoding)[0]
        requested = choose_threads(AUTO, step_work(model, largest_batch), current_limits({})).threads
    torch.set_num_threads(requested)
    return requested


def children_env(demo: Path, requested: str | int) -> dict[str, str]:
    """With ``auto`` a child runs as a user's command would: its own choice, no OMP_NUM_THREADS."""
    env = cli_env(demo, None if requested == AUTO else requested)
    if requested == AUTO:
        env.pop("OMP_NUM_THREADS", None)
    return env


def run(args: argparse.Namespace) -> tuple[list[Row], float, int]:
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vaesae-bench-") as scratch:
        workdir = Path(scratch)
        log(f"generating data in {workdir}")
        demo = demo_splits(workdir / "demo", plan.train_rows, plan.val_rows)
        large = large_files(workdir / "large", [*plan.load_rows, plan.linear_rows])
        os.sync()  # the generated files' writeback would otherwise land on whichever side next waits for the disk
        threads = set_threads(args.threads, demo)
        env = children_env(demo.folder, args.threads)
        context = Context(plan, demo, large, workdir, env)
        rows: list[Row] = []
        for name in [n for n in FAMILIES if not args.only or n in args.only]:
            log(f"{name} ...")
            rows += FAMILIES[name](context)
    return rows, time.perf_counter() - started, threads


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load_before = load_average()
    rows, elapsed, threads = run(args)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "python -m benchmarks.suite" + (" --quick" if args.quick else "")
    text = document(rows, describe(threads), f"`{command}` on {when}, {elapsed / 60:.1f} min; "
                    f"load average before {load_before}, after {load_average()}")
    print(text)
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output.write_text(text)
    if args.readme:
        update_readme(REPO / "README.md", text)


if __name__ == "__main__":
    main()
