"""Command-line preparation done before Hydra parses the arguments.

Things Hydra cannot express in a config file:

* the run-folder layout, the sweep layout (``vaesae.sweep.settings``) and job
  name must hold for every primary config, also a user's own
  ``--config-dir/--config-name`` file that knows nothing of vaesae,
  so they are passed as ``hydra.*`` overrides, except where the user sets the same key;
  with them come Hydra callbacks: one checks the output folder can be written
  before Hydra itself creates it, one draws a sweep's pictures;
* in such a user file, ``task`` is not in a defaults list, so ``task=extract``
  is turned into ``+task=extract``, which adds the task group instead of failing;
* switches a user file need not spell out (``dry_run``, ``plugins``,
  ``checkpoint.resume``, ``checkpoint.resume_force``) become ``++key=…``, which
  sets the key whether or not the config has it.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from vaesae.config.redact import secret_assignments
from vaesae.sweep.settings import sweep_settings

HYDRA_SETTINGS = (
    "hydra.run.dir=${experiment.output_dir}/${experiment.name}",
    "hydra.output_subdir=.hydra/${oc.select:task,train}",
    "hydra.job.name=vaesae",
    "hydra.job.chdir=False",
    "++hydra.callbacks.vaesae_mlflow._target_=vaesae.tracking.hydra_callback.MlflowHydraCallback",
    "++hydra.callbacks.vaesae_sweep_figures._target_=vaesae.report.hydra_callback.SweepFigures",
    "++hydra.callbacks.vaesae_output_folder._target_=vaesae.output_check.OutputFolderCheck",
)
RESUME_OPTION = re.compile(r"^[+~]*(checkpoint\.resume(_force)?)=")
SWITCH = re.compile(r"^[+]*(dry_run|plugins|checkpoint\.resume|checkpoint\.resume_force)=")
DRY_RUN_SETTINGS = ("hydra.output_subdir=null", "hydra/job_logging=stdout")
DEFAULT_CONFIG_NAME = "config"
VALUE_OPTIONS = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                 "--config-dir", "-cd", "--experimental-rerun"}
INFO_TOPICS = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}


def _option(args: list[str], long: str, short: str) -> str | None:
    for index, arg in enumerate(args):
        if arg in (long, short) and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(long + "="):
            return arg.split("=", 1)[1]
    return None


def _user_config_selects(args: list[str], group: str) -> bool:
    """Whether the user's primary config picks ``group`` in its own defaults list (``task``, ``override hydra/launcher``)."""
    name = _option(args, "--config-name", "-cn")
    folder = _option(args, "--config-dir", "-cd") or "."
    path = Path(folder) / (name if name.endswith(".yaml") else f"{name}.yaml")
    try:
        content = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return False
    defaults = content.get("defaults") or [] if isinstance(content, dict) else []
    return any(isinstance(entry, dict) and group in (key.split()[-1] for key in entry) for entry in defaults)


def _is_dry_run(args: list[str]) -> bool:
    return any(arg.lstrip("+").lower() == "dry_run=true" for arg in args)


def _split(args: list[str]) -> tuple[list[str], list[str]]:
    """Hydra's options (with their values) apart from the overrides, which argparse needs contiguous."""
    options, overrides, index = [], [], 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-"):
            overrides.append(arg)
        else:
            options.append(arg)
            following = args[index + 1] if index + 1 < len(args) else None
            takes_value = arg in VALUE_OPTIONS or (arg in ("--info", "-i") and following in INFO_TOPICS)
            if takes_value and following is not None:
                options.append(following)
                index += 1
        index += 1
    return options, overrides


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def prepare_args(args: list[str]) -> list[str]:
    """The argument list to hand to Hydra: the user's, then vaesae's settings for keys the user left alone."""
    name = _option(args, "--config-name", "-cn")
    user_config = name not in (None, DEFAULT_CONFIG_NAME)
    if user_config and not _user_config_selects(args, "task"):
        args = ["+" + arg if arg.startswith("task=") else arg for arg in args]
    args = [SWITCH.sub(r"++\1=", arg) for arg in args]
    options, overrides = _split(args)
    launcher_chosen = user_config and _user_config_selects(args, "hydra/launcher")
    dry_run = DRY_RUN_SETTINGS if _is_dry_run(overrides) else ()
    settings = [*HYDRA_SETTINGS, *sweep_settings(overrides, launcher_chosen), *dry_run]
    given = {_key(arg) for arg in overrides if "=" in arg}
    return [*options, *overrides, *(s for s in settings if _key(s) not in given)]


def rerun_command(hydra_cfg: DictConfig) -> str:
    """The command line that runs this job again, as one job, without any ``checkpoint.resume``.

    A job of a sweep gets its own folder as ``hydra.run.dir``, so the command
    continues that job alone.
    """
    args = []
    for source in hydra_cfg.runtime.config_sources:
        if source.provider == "command-line" and source.schema == "file":
            args += ["--config-dir", source.path]
    if hydra_cfg.job.config_name not in (None, DEFAULT_CONFIG_NAME):
        args += ["--config-name", hydra_cfg.job.config_name]
    # unresolved, so a password stays the reference it was turned into (vaesae.config.redact)
    overrides = OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False)
    args += [arg for arg in overrides if not RESUME_OPTION.match(arg)]
    if hydra_cfg.mode == RunMode.MULTIRUN:
        args.append(f"hydra.run.dir={hydra_cfg.runtime.output_dir}")
    return secret_assignments(overrides) + shlex.join(["python", "-m", "vaesae", *args])
