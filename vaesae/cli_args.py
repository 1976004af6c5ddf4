"""Command-line preparation done before Hydra parses the arguments.

Two things Hydra cannot express in a config file:

* the run-folder layout and job name must hold for every primary config, also a
  user's own ``--config-dir/--config-name`` file that knows nothing of vaesae,
  so they are passed as ``hydra.*`` overrides ahead of the user's own (which win);
* in such a user file, ``task`` is not in a defaults list, so ``task=extract``
  is turned into ``+task=extract``, which adds the task group instead of failing.
"""
from __future__ import annotations

from pathlib import Path

import yaml

HYDRA_SETTINGS = (
    "hydra.run.dir=${experiment.output_dir}/${experiment.name}",
    "hydra.sweep.dir=${experiment.output_dir}/${experiment.name}",
    "hydra.sweep.subdir=${hydra.job.num}",
    "hydra.output_subdir=.hydra/${task}",
    "hydra.job.name=vaesae",
    "hydra.job.chdir=False",
    "++hydra.callbacks.vaesae_sweep_figures._target_=vaesae.report.hydra_callback.SweepFigures",
)
DRY_RUN_SETTINGS = ("hydra.output_subdir=null", "hydra/job_logging=stdout")
DEFAULT_CONFIG_NAME = "config"


def _option(args: list[str], long: str, short: str) -> str | None:
    for index, arg in enumerate(args):
        if arg in (long, short) and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(long + "="):
            return arg.split("=", 1)[1]
    return None


def _user_config_selects_task(args: list[str]) -> bool:
    """Whether the user's primary config has ``task`` in its own defaults list."""
    name = _option(args, "--config-name", "-cn")
    folder = _option(args, "--config-dir", "-cd") or "."
    path = Path(folder) / (name if name.endswith(".yaml") else f"{name}.yaml")
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return False
    defaults = content.get("defaults") or [] if isinstance(content, dict) else []
    return any(isinstance(entry, dict) and "task" in entry for entry in defaults)


def _is_dry_run(args: list[str]) -> bool:
    return any(arg.lower() in ("dry_run=true", "++dry_run=true", "+dry_run=true") for arg in args)


def prepare_args(args: list[str]) -> list[str]:
    """The argument list to hand to Hydra, vaesae's settings first."""
    name = _option(args, "--config-name", "-cn")
    if name not in (None, DEFAULT_CONFIG_NAME) and not _user_config_selects_task(args):
        args = ["+" + arg if arg.startswith("task=") else arg for arg in args]
    extra = DRY_RUN_SETTINGS if _is_dry_run(args) else ()
    return [*HYDRA_SETTINGS, *extra, *args]
