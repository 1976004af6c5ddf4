"""Command-line preparation done before Hydra parses the arguments.

Hydra's own extension points carry most of vaesae's settings: the run folder,
job settings and callbacks live in the preset ``conf/hydra/preset/vaesae.yaml``.
What is left here is what Hydra cannot express in a config file:

* overrides Hydra cannot parse are refused as a configuration error (exit 2),
  before Hydra prints its own traceback-like report;
* a config key set on the command line (``train.epochs=5``, ``dry_run=true``)
  becomes ``++key=…``. Hydra refuses a key the composed config lacks, but a
  config of the user's need not spell out every optional key
  (``report.figures=false`` on a config without a ``report`` section), and a
  misspelt key is then reported by vaesae's validator, with a suggestion,
  together with every other problem;
* a user's own ``--config-dir/--config-name`` file that does not include the
  preset gets it as ``+hydra/preset=vaesae``, and one without ``task`` in its
  defaults list gets ``task=extract`` as ``+task=extract``, which adds the
  task group instead of failing;
* a dry run writes no ``.hydra/`` folder and logs to the terminal only;
* the sweep layout (``vaesae.sweep.settings``) needs a new folder name per sweep;
* ``--help`` reads Hydra's config store without the copies Hydra makes of it
  (``share_config_store_for_help``).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from vaesae.config.overrides import as_config_key, as_typed
from vaesae.errors import ConfigError
from vaesae.registry import did_you_mean
from vaesae.config.redact import secret_assignments
from vaesae.sweep.settings import sweep_settings

PRESET = ("hydra/preset", "+hydra/preset=vaesae")
RESUME_OPTION = re.compile(r"^[+~]*(checkpoint\.resume(_force)?)=")
DRY_RUN_SETTINGS = ("hydra.output_subdir=null", "hydra/job_logging=stdout")
DEFAULT_CONFIG_NAME = "config"
PACKAGED_CONF = Path(__file__).resolve().parent / "conf"
VALUE_OPTIONS = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                 "--config-dir", "-cd", "--experimental-rerun"}
INFO_TOPICS = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}
HELP_FLAGS = {"--help", "-h", "--hydra-help"}


def share_config_store_for_help(args: list[str]) -> None:
    """In a process that prints help, Hydra's config store is shared instead of deep-copied.

    Hydra lists every config group for its help text and deep-copies its
    config repository, config store included, for each of the ~90 listings:
    about a second on a 2-core machine. Printing help only reads the store, and
    the process ends once it is printed, so the copies can be the store itself.
    """
    if HELP_FLAGS.isdisjoint(args):
        return
    from hydra.core.config_store import ConfigStore

    ConfigStore.__deepcopy__ = lambda store, memo: store


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


def check_syntax(overrides: list[str]) -> None:
    """Refuse overrides Hydra cannot parse, naming each one."""
    parser = OverridesParser.create()
    problems = []
    for override in overrides:
        try:
            parser.parse_override(override)
        except HydraException as error:
            reason = str(error).strip().splitlines()[-1]
            problems.append(f"{override!r}: not a valid override ({reason}); expected key=value, +key=value or ~key")
    if problems:
        raise ConfigError(problems)


def _group_choices(folders: list[Path], group: str) -> set[str] | None:
    """The options of config group ``group`` in ``folders``, or None when no folder has that group."""
    found = [folder / group for folder in folders if (folder / group).is_dir()]
    return {path.stem for folder in found for path in folder.glob("*.yaml")} if found else None


def check_groups(overrides: list[str], folders: list[Path]) -> None:
    """Refuse a config-group option that exists in no config folder (``model=vea``), before Hydra
    composes anything: Hydra would report it as a crash (exit 1) rather than as a config problem."""
    parser = OverridesParser.create()
    problems = []
    for override in overrides:
        parsed = parser.parse_override(override)
        group = parsed.key_or_group
        plain_group = not (parsed.is_delete() or "." in group or group.startswith("hydra"))
        choices = _group_choices(folders, group) if plain_group else None
        if not choices:
            continue
        values = list(parsed.sweep_string_iterator()) if parsed.is_sweep_override() else [parsed.value()]
        for value in values:
            if isinstance(value, str) and value not in choices:
                hint = did_you_mean(value, choices)
                problems.append(f"{group}: no option {value!r}{hint}; the options are {', '.join(sorted(choices))}")
    if problems:
        raise ConfigError(problems)


def prepare_args(args: list[str]) -> list[str]:
    """The argument list to hand to Hydra: options, the user's overrides, then vaesae's settings for keys the user left alone."""
    options, overrides = _split(args)
    check_syntax(overrides)
    user_folder = _option(args, "--config-dir", "-cd")
    check_groups(overrides, [PACKAGED_CONF, *([Path(user_folder)] if user_folder else [])])
    name = _option(args, "--config-name", "-cn")
    preset = []
    if name not in (None, DEFAULT_CONFIG_NAME):
        if not _user_config_selects(args, "task"):
            overrides = ["+" + arg if arg.startswith("task=") else arg for arg in overrides]
        if not _user_config_selects(args, PRESET[0]):
            preset = [PRESET[1]]
    launcher_chosen = name not in (None, DEFAULT_CONFIG_NAME) and _user_config_selects(args, "hydra/launcher")
    dry_run = DRY_RUN_SETTINGS if _is_dry_run(overrides) else ()
    settings = [*sweep_settings(overrides, launcher_chosen), *dry_run]
    given = {_key(arg) for arg in overrides if "=" in arg}
    overrides = [as_config_key(arg) for arg in overrides]
    return [*options, *preset, *overrides, *(s for s in settings if _key(s) not in given)]


def config_dirs(hydra_cfg: DictConfig) -> list[str]:
    """The ``--config-dir`` folders of this run, as Hydra recorded them."""
    sources = hydra_cfg.runtime.config_sources
    return [s.path for s in sources if s.provider == "command-line" and s.schema == "file"]


def rerun_command(hydra_cfg: DictConfig) -> str:
    """The command line that runs this job again, as one job, without any ``checkpoint.resume``.

    A job of a sweep gets its own folder as ``hydra.run.dir``, so the command
    continues that job alone. ``++`` added by ``as_config_key`` is dropped: the
    command gets it again.
    """
    args = [arg for folder in config_dirs(hydra_cfg) for arg in ("--config-dir", folder)]
    if hydra_cfg.job.config_name not in (None, DEFAULT_CONFIG_NAME):
        args += ["--config-name", hydra_cfg.job.config_name]
    # unresolved, so a password stays the reference it was turned into (vaesae.config.redact)
    overrides = OmegaConf.to_container(hydra_cfg.overrides.task, resolve=False)
    for arg in overrides:
        plain = as_typed(arg)
        if not RESUME_OPTION.match(plain):
            args.append(plain)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        args.append(f"hydra.run.dir={hydra_cfg.runtime.output_dir}")
    return secret_assignments(overrides) + shlex.join(["python", "-m", "vaesae", *args])
