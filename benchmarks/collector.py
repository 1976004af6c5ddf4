"""What the entry point's garbage-collector setting saves a command: ``python -m benchmarks.collector``.

Each command runs two ways, alternating, in a new folder each time: through the
entry point users call (``python -m vaesae``, ``vaesae.console.main``) and
through ``vaesae.app.main`` called directly, which leaves the collector as
Python sets it. The commands: ``--help``, and one epoch of training on the
demo data with pictures off (generated once beforehand), so start-up and exit
weigh as much as they do in a short run.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmarks.machine import load_average
from benchmarks.measure import interleaved, median, paired_ratio
from benchmarks.subprocesses import cli_env, timed_run, vaesae_command
from vaesae.data.demo import write_demo_data

COMMANDS = {"--help": ["--help"], "one epoch": ["train.epochs=1", "report.figures=false"]}
APP_MAIN = "import sys; from vaesae.app import main; sys.argv[0] = 'vaesae'; main()"


def sides(args: list[str], root: Path, env: dict[str, str]) -> dict:
    def in_new_folder(command: list[str]) -> float:
        folder = Path(tempfile.mkdtemp(dir=root))
        return timed_run(command, folder, env)

    return {
        "python -m vaesae": lambda: in_new_folder(vaesae_command(*args)),
        "vaesae.app.main": lambda: in_new_folder([sys.executable, "-c", APP_MAIN, *args]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write_demo_data(root / "demo")
        env = cli_env(root / "demo")
        print(f"load average before {load_average()}")
        print("| command | `python -m vaesae` | `vaesae.app.main` | ratio |")
        print("|---|---|---|---|")
        for name, command in COMMANDS.items():
            seconds = interleaved(sides(command, root, env), args.repeats)
            mine, theirs = seconds["python -m vaesae"], seconds["vaesae.app.main"]
            print(f"| `{name}` | {median(mine):.2f} s | {median(theirs):.2f} s | {paired_ratio(mine, theirs):.2f}× |", flush=True)
        print(f"load average after {load_average()}")


if __name__ == "__main__":
    main()
