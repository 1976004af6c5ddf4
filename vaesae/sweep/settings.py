"""The ``hydra.*`` overrides that make every multirun a vaesae sweep.

They are computed from the command line before Hydra parses it, so they hold
for the packaged configs and for a user's own ``--config-dir`` file alike:

* a sweep folder that is new for every sweep, even for two started in the same
  second: ``{output_dir}/{name}/sweeps/{date}_{time}_{random}``, unless the
  command asks to resume (``checkpoint.resume=auto``) and an unfinished sweep
  of the same command exists (``vaesae.sweep.plan``);
* job folders named after the values the job ran with (only the swept keys,
  the fixed ones are the same for every job and would only add noise);
* the callback that writes the summary when the multirun ends;
* the parallel joblib launcher, unless the user picked a launcher.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

RESUME_OPTION = re.compile(r"^[+~]*checkpoint\.resume(_force)?=")
RESUME_AUTO = re.compile(r"^[+]*checkpoint\.resume=auto$")
SWEEP_ROOT = "${experiment.output_dir}/${experiment.name}/sweeps"
SWEEP_DIR = "${{vaesae_sweep_dir:{root},{new_id},{signature},{resume}}}"
DEFAULT_LAUNCHER = "vaesae_joblib"
JOB_FOLDER = "${vaesae_job_dir:${hydra.job.num},${hydra.overrides.task},${hydra.job.config.override_dirname.exclude_keys}}"
SUMMARY_CALLBACK = "++hydra.callbacks.vaesae_sweep_summary._target_=vaesae.sweep.callback.SweepSummary"


def new_sweep_id() -> str:
    """Sortable by start time; 24 random bits keep two sweeps of the same second apart."""
    return f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{secrets.token_hex(3)}"


def asks_to_resume(overrides: list[str]) -> bool:
    return any(RESUME_AUTO.match(arg) for arg in overrides)


def sweep_signature(overrides: list[str]) -> str:
    """What makes two sweep commands the same sweep: their overrides, less ``hydra.*`` and ``checkpoint.resume*``."""
    kept = sorted(arg.lstrip("+") for arg in overrides if not RESUME_OPTION.match(arg) and not arg.startswith("hydra"))
    return hashlib.sha1("\n".join(kept).encode()).hexdigest()[:12]


def fixed_keys(overrides: list[str]) -> list[str]:
    """Keys the command line sets to one value for every job (not part of job folder names)."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return []  # Hydra reports the syntax error itself
    return [o.key_or_group for o in parsed if not o.is_sweep_override() and not o.is_hydra_override()]


def sweep_settings(overrides: list[str], launcher_chosen: bool) -> list[str]:
    """``hydra.*`` overrides for the sweep layout, summary and launcher (the user's command-line ``overrides``)."""
    excluded = ",".join(f"'{key}'" for key in fixed_keys(overrides))
    settings = [
        "hydra.sweep.dir='" + SWEEP_DIR.format(root=SWEEP_ROOT, new_id=new_sweep_id(), signature=sweep_signature(overrides),
                                              resume=str(asks_to_resume(overrides)).lower()) + "'",
        f"hydra.sweep.subdir='{JOB_FOLDER}'",
        f"hydra.job.config.override_dirname.exclude_keys=[{excluded}]",
        SUMMARY_CALLBACK,
    ]
    if not launcher_chosen:
        settings.append(f"hydra/launcher={DEFAULT_LAUNCHER}")
    return settings
