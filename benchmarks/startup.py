"""``python -m vaesae --help`` against the imports no torch-and-Hydra app can avoid."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from benchmarks.measure import Row, Target, interleaved, median, paired_ratio, seconds_text
from benchmarks.plan import Context
from benchmarks.subprocesses import timed_run, vaesae_command


def startup_sides(cwd: Path, env: dict[str, str]) -> dict[str, Callable[[], float]]:
    return {
        "vaesae --help": lambda: timed_run(vaesae_command("--help"), cwd, env),
        "import torch, hydra": lambda: timed_run([sys.executable, "-c", "import torch, hydra"], cwd, env),
    }


def rows(context: Context) -> list[Row]:
    seconds = interleaved(startup_sides(context.scratch("startup"), context.env), context.plan.startup_repeats)
    mine, theirs = median(seconds["vaesae --help"]), median(seconds["import torch, hydra"])
    return [Row("`python -m vaesae --help`", '`python -c "import torch, hydra"`', seconds_text(mine),
                seconds_text(theirs), paired_ratio(seconds["vaesae --help"], seconds["import torch, hydra"]), Target(1.3, at_least=False))]
