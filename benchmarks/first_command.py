"""The README's first command, timed as a user meets it: ``python -m benchmarks.first_command``.

Each repeat runs ``python -m vaesae`` (the packaged config on the demo data,
generated once beforehand, as a user's demo data is cached after the first
command) in a new folder, after one ``--help`` that warms the bytecode and the
page cache. Reported per run: the whole command's wall time, the training (the
first epoch's log line to the last's), the pictures (the last epoch's line to
the ``pictures:`` line) and the pictures' share of the whole command. The
target is a whole run under 60 s on a 2-core machine; no thread setting is
given, so the run chooses its threads as a user's does.
"""
from __future__ import annotations

import argparse
import re
import tempfile
from datetime import datetime
from pathlib import Path

from benchmarks.machine import load_average
from benchmarks.subprocesses import cli_env, run_checked, vaesae_command
from benchmarks.measure import stopwatch
from vaesae.data.demo import write_demo_data

LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]\[vaesae\]\[\w+\] - (.*)$")
TARGET_S = 60.0


def log_times(log: str) -> dict[str, float]:
    """Seconds from the run's first epoch line to its last, and from the last to the ``pictures:`` line."""
    stamps = [(datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f"), m[2]) for m in map(LOG_TIME.match, log.splitlines()) if m]
    epochs = [when for when, text in stamps if text.startswith("epoch ")]
    pictures = [when for when, text in stamps if text.startswith("pictures:")]
    if not epochs or not pictures:
        raise RuntimeError("the run's log has no epoch or no pictures line")
    return {"training_s": (epochs[-1] - epochs[0]).total_seconds(), "pictures_s": (pictures[-1] - epochs[-1]).total_seconds()}


def one_run(folder: Path, env: dict[str, str]) -> dict[str, float]:
    folder.mkdir()
    run_checked(vaesae_command("--help"), folder, env)
    whole = stopwatch(lambda: run_checked(vaesae_command(), folder, env))
    times = log_times((folder / "experiments/vae/demo/vaesae.log").read_text())
    return {"whole_s": whole, **times, "pictures_share": times["pictures_s"] / whole}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_demo_data(root / "demo")
        env = {k: v for k, v in cli_env(root / "demo").items() if k != "OMP_NUM_THREADS"}
        print(f"load average before: {load_average()}")
        print("| run | whole command | training (epoch 1 to last) | pictures | pictures' share |")
        print("|---|---|---|---|---|")
        for repeat in range(args.repeats):
            run = one_run(root / f"run{repeat}", env)
            print(f"| {repeat + 1} | {run['whole_s']:.1f} s | {run['training_s']:.1f} s | {run['pictures_s']:.2f} s | "
                  f"{run['pictures_share']:.1%} |")
        print(f"load average after: {load_average()}; target: whole command under {TARGET_S:.0f} s")


if __name__ == "__main__":
    main()
