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

from benchmarks import extraction, launchers, loading, memory, startup, training
from benchmarks.datasets import demo_splits, large_files
from benchmarks.machine import describe, load_average
from benchmarks.measure import Row
from benchmarks.plan import FULL, QUICK, Context
from benchmarks.report import document, update_readme
from benchmarks.subprocesses import REPO, cli_env

FAMILIES: dict[str, Callable[[Context], list[Row]]] = {
    "training": training.rows,
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
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for every side and child process (0: torch's default)")
    parser.add_argument("--output", type=Path, help=f"results file (default: {RESULTS.relative_to(REPO)}, none with --quick)")
    parser.add_argument("--readme", action="store_true", help="also copy the results into README.md")
    args = parser.parse_args(argv)
    if args.quick and args.readme:
        parser.error("--readme publishes results; run the full suite for that")
    return args


def set_threads(requested: int) -> int:
    if requested > 0:
        torch.set_num_threads(requested)
    return torch.get_num_threads()


def run(args: argparse.Namespace) -> tuple[list[Row], float]:
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vaesae-bench-") as scratch:
        workdir = Path(scratch)
        log(f"generating data in {workdir}")
        demo = demo_splits(workdir / "demo", plan.train_rows, plan.val_rows)
        large = large_files(workdir / "large", list(plan.load_rows))
        os.sync()  # the generated files' writeback would otherwise land on whichever side next waits for the disk
        env = cli_env(demo.folder, args.threads if args.threads > 0 else None)
        context = Context(plan, demo, large, workdir, env)
        rows: list[Row] = []
        for name in [n for n in FAMILIES if not args.only or n in args.only]:
            log(f"{name} ...")
            rows += FAMILIES[name](context)
    return rows, time.perf_counter() - started


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    threads = set_threads(args.threads)
    load_before = load_average()
    rows, elapsed = run(args)
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
