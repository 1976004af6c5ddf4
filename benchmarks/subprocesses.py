"""Running the real CLI (or any Python command) as a user would, for the rows about processes."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import stopwatch

REPO = Path(__file__).resolve().parents[1]


def cli_env(demo_dir: Path | None = None, threads: int | None = None) -> dict[str, str]:
    """The environment of a child: the repository importable, the benchmark's demo data, the thread setting."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if demo_dir is not None:
        env["VAESAE_DEMO_DIR"] = str(demo_dir)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def vaesae_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "vaesae", *args]


def _check(command: list[str], returncode: int, output) -> None:
    """Raise with the end of ``output`` (a file) when ``command`` failed, so a broken row is never timed."""
    if returncode != 0:
        output.seek(0)
        tail = output.read().decode(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command)} exited with {returncode}:\n{tail}")


def run_checked(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    with tempfile.TemporaryFile() as output:
        result = subprocess.run(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        _check(command, result.returncode, output)


def timed_run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    return stopwatch(lambda: run_checked(command, cwd, env))


# Runs the command given as its arguments and prints the child's peak resident memory in KiB.
_PEAK_REPORTER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=sys.stderr)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss_bytes(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Peak resident memory of ``command``, through a small intermediate process.

    On Linux a forked child's ``ru_maxrss`` starts from its parent's resident
    size, and this process holds the benchmark's data; the intermediate is a
    bare interpreter, far smaller than any vaesae run.
    """
    with tempfile.TemporaryFile() as output:
        result = subprocess.run([sys.executable, "-c", _PEAK_REPORTER, *command], cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=output, text=True)
        _check(command, result.returncode, output)
    return int(result.stdout.split()[-1]) * 1024
