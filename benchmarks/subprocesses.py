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


def run_checked(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run ``command``; a failure raises with the end of its output, so a broken row is never timed."""
    with tempfile.TemporaryFile() as output:
        result = subprocess.run(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(command)} exited with {result.returncode}:\n{tail}")


def timed_run(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    return stopwatch(lambda: run_checked(command, cwd, env))


def peak_rss_bytes(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Peak resident memory of the child process ``command`` (``ru_maxrss`` of that child alone)."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            tail = output.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}:\n{tail}")
    return usage.ru_maxrss * 1024
