"""The same 4-job sweep on the basic (sequential) and the joblib (parallel) launcher.

Each sweep is a real ``python -m vaesae -m`` run in a fresh folder, timed from
start to exit, so process start-up, joblib's worker start-up and the summary
are all counted. Runs alternate between the launchers (basic, joblib, basic, ...)
so a slow patch of the machine hurts both alike; the medians are compared.

    python benchmarks/sweep_launchers.py               # 3 repeats, default sizes
    python benchmarks/sweep_launchers.py --repeats 5 --epochs 10
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAUNCHERS = ("basic", "vaesae_joblib")
SWEEP = "train.loss.params.beta=0.5,1,2,4"


@dataclass
class LauncherTimes:
    basic_s: list[float]
    joblib_s: list[float]
    cores: int
    epochs: int
    rows: int

    @property
    def basic_median_s(self) -> float:
        return statistics.median(self.basic_s)

    @property
    def joblib_median_s(self) -> float:
        return statistics.median(self.joblib_s)

    @property
    def speedup(self) -> float:
        """How many times faster the joblib sweep finished than the basic one."""
        return self.basic_median_s / self.joblib_median_s

    def as_dict(self) -> dict:
        return {**asdict(self), "basic_median_s": self.basic_median_s,
                "joblib_median_s": self.joblib_median_s, "speedup": self.speedup}


def time_sweep(launcher: str, workdir: Path, epochs: int, env: dict[str, str]) -> float:
    """Wall seconds of one 4-job training sweep; fails loudly if the sweep does."""
    command = [sys.executable, "-m", "vaesae", "-m", f"hydra/launcher={launcher}", SWEEP,
               f"train.epochs={epochs}", "experiment.device=cpu", "val.early_stopping=null"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{launcher} sweep failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def compare_launchers(repeats: int = 3, epochs: int = 8, rows: int = 20000) -> LauncherTimes:
    """Time the sweep ``repeats`` times on each launcher, interleaved, on fresh demo data of ``rows`` rows."""
    from vaesae.data.demo import write_demo_data

    with tempfile.TemporaryDirectory(prefix="vaesae-bench-") as scratch:
        root = Path(scratch)
        write_demo_data(root / "demo", n_train=rows, n_val=rows // 5, n_test=rows // 5)
        env = {**os.environ, "VAESAE_DEMO_DIR": str(root / "demo"),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        times: dict[str, list[float]] = {launcher: [] for launcher in LAUNCHERS}
        for repeat in range(repeats):
            for launcher in LAUNCHERS:
                workdir = root / f"{launcher}-{repeat}"
                workdir.mkdir()
                times[launcher].append(time_sweep(launcher, workdir, epochs, env))
    import joblib

    return LauncherTimes(times["basic"], times["vaesae_joblib"], joblib.cpu_count(), epochs, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--rows", type=int, default=20000, help="training rows of the demo data")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    result = compare_launchers(args.repeats, args.epochs, args.rows)
    print(f"4-job sweep ({SWEEP}, {args.epochs} epochs, {args.rows} rows) on {result.cores} cores, "
          f"median of {args.repeats}:")
    print(f"  basic   {result.basic_median_s:6.1f} s   {', '.join(f'{t:.1f}' for t in result.basic_s)}")
    print(f"  joblib  {result.joblib_median_s:6.1f} s   {', '.join(f'{t:.1f}' for t in result.joblib_s)}")
    print(f"  joblib is {result.speedup:.2f}x as fast as basic")
    if args.json:
        args.json.write_text(json.dumps(result.as_dict(), indent=2) + "\n")


if __name__ == "__main__":
    main()
