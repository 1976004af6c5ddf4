"""Every sweep command printed in the README and in multirun_examples/ runs as printed.

The commands are read from the files themselves and run with ``dry_run=true
train.epochs=1`` added, so each one is parsed by Hydra, composed, launched on
its launcher and validated job by job, without the cost of training. Commands
for a launcher whose extra is not installed are skipped, saying so.
"""
from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_env

SOURCES = (REPO / "README.md", REPO / "multirun_examples/README.md")
SWEEP_COMMAND = re.compile(r"^(?:LOCAL=1 )?(?:python -m vaesae -m |bash multirun_examples/\S+_(?:sweep|search|grid)\.sh)")
PLUGINS = {"vaesae_ray": "hydra_plugins.hydra_ray_launcher", "vaesae_slurm": "hydra_plugins.hydra_submitit_launcher",
           "slurm_sweep.sh": "hydra_plugins.hydra_submitit_launcher", "ray_sweep.sh": "hydra_plugins.hydra_ray_launcher",
           "vaesae_optuna": "hydra_plugins.hydra_optuna_sweeper", "optuna_search.sh": "hydra_plugins.hydra_optuna_sweeper",
           "vaesae_submitit_local": "hydra_plugins.hydra_submitit_launcher"}
TRAINS_FIRST = "sae_sparsity_sweep.sh"
# Commands for a machine outside this one: a running Ray cluster, a Slurm controller.
NEEDS_A_CLUSTER = ("ray.init.address=auto", "hydra/launcher=vaesae_slurm")


def printed_commands() -> list[str]:
    """Lines of the files' code blocks that start a sweep, as printed."""
    commands = []
    for source in SOURCES:
        in_code = False
        for line in source.read_text().splitlines():
            if line.strip().startswith("```"):
                in_code = not in_code
            elif in_code and SWEEP_COMMAND.match(line.strip()):
                commands.append(line.strip().split("  #")[0].strip())
    return sorted(set(commands))


def missing_plugin(command: str) -> str | None:
    for marker, module in PLUGINS.items():
        if marker in command and importlib.util.find_spec(module) is None:
            return module
    return None


def test_the_files_print_sweep_commands():
    commands = printed_commands()
    assert len(commands) >= 8 and any("checkpoint.resume=auto" in c for c in commands)


@pytest.mark.slow
@pytest.mark.parametrize("command", printed_commands())
def test_a_printed_sweep_command_runs_as_printed(command, tmp_path, demo_dir):
    module = missing_plugin(command)
    if module:
        pytest.skip(f"needs {module}")
    if any(marker in command for marker in NEEDS_A_CLUSTER):
        pytest.skip("needs a Ray cluster or a Slurm controller")
    if TRAINS_FIRST in command:
        pytest.skip("trains and extracts a VAE before it sweeps; covered by its own run below")
    (tmp_path / "multirun_examples").symlink_to(REPO / "multirun_examples")
    words = shlex.split(command)
    variables = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z]+=", w))
    env = cli_env(VAESAE_DEMO_DIR=str(demo_dir), PYTHON=sys.executable, **variables)
    words = [sys.executable if w == "python" else w for w in words if w.split("=", 1)[0] not in variables]
    searches = "optuna" in command  # a search needs each trial's value, which a dry run does not produce
    extra = ["train.epochs=1"] if searches else ["dry_run=true", "train.epochs=1"]
    result = subprocess.run([*words, *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    if searches:
        assert list(tmp_path.glob("experiments/**/optimization_results.yaml")), result.stdout + result.stderr
    else:  # submitit's jobs print into their own log files
        job_logs = "".join(path.read_text(errors="replace") for path in tmp_path.glob("experiments/**/*_log.out"))
        assert "dry run: task=train" in result.stdout + job_logs
