"""A 4-job sweep on the joblib launcher against the same sweep on Hydra's basic launcher.

Both are real CLI sweeps (``python -m vaesae -m ...``) over the packaged
config; they differ only in ``hydra/launcher``. The joblib launcher keeps its
defaults (one worker process per core), as a user gets it. Early stopping is
off so the four jobs do equal work. There is no warm-up round: every sweep
starts fresh processes anyway, and the files they import are in the page
cache after the suite's own imports.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable

from benchmarks.measure import Row, Target, interleaved, median, paired_ratio, seconds_text
from benchmarks.plan import Context, rows_text
from benchmarks.subprocesses import timed_run, vaesae_command

BETAS = "0.5,1,2,4"
_runs = itertools.count()


def sweep_command(launcher: str, epochs: int, output_dir: Path) -> list[str]:
    return vaesae_command(
        "-m", f"train.loss.params.beta={BETAS}", f"hydra/launcher={launcher}", f"train.epochs={epochs}", "val.early_stopping=null",
        f"experiment.name={launcher}_{next(_runs)}", f"experiment.output_dir={output_dir}", "experiment.device=cpu",
    )


def sweep_sides(epochs: int, cwd: Path, env: dict[str, str]) -> dict[str, Callable[[], float]]:
    output_dir = cwd / "sweeps"
    return {
        launcher: (lambda launcher=launcher: timed_run(sweep_command(launcher, epochs, output_dir), cwd, env))
        for launcher in ("joblib", "basic")
    }


def rows(context: Context) -> list[Row]:
    seconds = interleaved(sweep_sides(context.plan.sweep_epochs, context.scratch("launchers"), context.env),
                          context.plan.sweep_repeats, warmup=False)
    joblib, basic = median(seconds["joblib"]), median(seconds["basic"])
    return [Row(f"4-job sweep (`-m`), `hydra/launcher=joblib`, {context.plan.sweep_epochs} epochs of "
                f"{rows_text(context.plan.train_rows)} rows each",
                "the same sweep on the basic launcher", seconds_text(joblib), seconds_text(basic),
                paired_ratio(seconds["basic"], seconds["joblib"]),
                Target(1.6))]
