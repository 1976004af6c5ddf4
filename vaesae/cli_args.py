"""Command-line preparation done before Hydra parses the arguments.

Two things Hydra cannot express in a config file:

* the run-folder layout and job name must hold for every primary config, also a
  user's own ``--config-dir/--config-name`` file that knows nothing of vaesae,
  so they are passed as ``hydra.*`` overrides, except where the user sets the same key;
* in such a user file, ``task`` is not in a defaults list, so ``task=extract``
  is turned into ``+task=extract``, which adds the task group instead of failing;
  likewise ``dry_run=…`` and ``plugins=…`` become ``++…`` (set, or add if absent).
"""
from __future__ import annotations

from pathlib import Path

import yaml

HYDRA_SETTINGS = (
    "hydra.run.dir=${experiment.output_dir}/${experiment.name}",
    "hydra.sweep.dir=${experiment.output_dir}/${experiment.name}",
    "hydra.sweep.subdir=${hydra.job.num}",
    "hydra.output_subdir=.hydra/${oc.select:task,train}",
    "hydra.job.name=vaesae",
    "hydra.job.chdir=False",
    "++hydra.callbacks.vaesae_mlflow._target_=vaesae.tracking.hydra_callback.MlflowHydraCallback",
)
DRY_RUN_SETTINGS = ("hydra.output_subdir=null", "hydra/job_logging=stdout")
DEFAULT_CONFIG_NAME = "config"
ROOT_SWITCHES = ("dry_run=", "plugins=")


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
    return any(arg.lstrip("+").lower() == "dry_run=true" for arg in args)


def _for_user_config(arg: str, selects_task: bool) -> str:
    if arg.startswith("task=") and not selects_task:
        return "+" + arg
    return "++" + arg if arg.startswith(ROOT_SWITCHES) else arg


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def prepare_args(args: list[str]) -> list[str]:
    """The argument list to hand to Hydra: the user's, then vaesae's settings for keys the user left alone."""
    name = _option(args, "--config-name", "-cn")
    if name not in (None, DEFAULT_CONFIG_NAME):
        args = [_for_user_config(arg, _user_config_selects_task(args)) for arg in args]
    settings = [*HYDRA_SETTINGS, *(DRY_RUN_SETTINGS if _is_dry_run(args) else ())]
    given = {_key(arg) for arg in args if "=" in arg}
    return [*args, *(s for s in settings if _key(s) not in given)]
