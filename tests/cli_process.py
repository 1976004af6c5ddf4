"""Running the real CLI as a process that tests can signal, kill and inspect."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import torch

from tests.conftest import cli_env
from vaesae.engine.checkpoint_io import load_checkpoint


class CliProcess:
    """``python -m vaesae ARGS`` started in the background, output captured to a file."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None):
        self.log = cwd / f"cli-{time.monotonic_ns()}.out"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vaesae", *args], cwd=cwd, env=env or cli_env(), stdout=out, stderr=subprocess.STDOUT
            )

    def wait(self, timeout: float = 300) -> int:
        return self.process.wait(timeout=timeout)

    @property
    def output(self) -> str:
        return self.log.read_text()


def wait_until(condition: Callable[[], bool], process: CliProcess, timeout: float = 120) -> bool:
    """Poll ``condition`` until it holds (True) or the process ends first (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.process.poll() is not None:
            return condition()
    raise TimeoutError(f"condition not met in {timeout} s; output:\n{process.output}")


def epochs_logged(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


def assert_same_weights(path_a: Path, path_b: Path) -> None:
    state_a, state_b = load_checkpoint(path_a)["model_state"], load_checkpoint(path_b)["model_state"]
    assert state_a.keys() == state_b.keys()
    for name in state_a:
        assert torch.equal(state_a[name], state_b[name]), f"{name} differs between {path_a} and {path_b}"


def metrics_without_timing(run_dir: Path) -> list[dict]:
    """``metrics.jsonl`` minus throughput, which depends on the machine's load, not on the computation."""
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in line.items() if k != "rows_per_s"} for line in lines]


def assert_same_run(run_dir: Path, reference: Path) -> None:
    """Same checkpoint files with the same weights, and the same metrics for every epoch."""
    names = sorted(p.name for p in (reference / "checkpoints").glob("*.pt"))
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("*.pt")) == names
    for name in names:
        assert_same_weights(run_dir / "checkpoints" / name, reference / "checkpoints" / name)
    assert metrics_without_timing(run_dir) == metrics_without_timing(reference)
