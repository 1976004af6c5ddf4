"""A sweep's ``sweep.json``: the command that started it, what it sweeps, and the jobs it plans.

It is what lets the same command continue the sweep: a sweep command with
``checkpoint.resume=auto`` goes on in the newest sweep folder of the same
experiment whose recorded overrides (all but ``checkpoint.resume*`` and
``hydra.*``) are the same and that still has unfinished jobs; without one it
starts a new sweep. The planned jobs (for Hydra's basic sweeper, which knows
them all in advance) let the summary list jobs that never started.
"""
from __future__ import annotations

import json
import re
import shlex
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from vaesae.config.overrides import as_typed
from vaesae.config.redact import redacted_overrides
from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.engine.run_layout import COMPLETED, SWEEP_PLAN, read_plan, sweep_records
from vaesae.sweep.continued_search import BASIC_SWEEPER
from vaesae.sweep.folders import job_folder_name, swept_values
from vaesae.sweep.settings import RESUME_OPTION, sweep_signature

INJECTED = re.compile(
    r"^\+*hydra\.callbacks\.vaesae_|\$\{vaesae_|^hydra/launcher=vaesae_joblib$"
    r"|^hydra\.(run\.dir|output_subdir|job\.name|job\.chdir|job\.config\.override_dirname\.exclude_keys)="
)


def unfinished(sweep_dir: Path) -> bool:
    return any(record.state != COMPLETED for record in sweep_records(sweep_dir))


@lru_cache(maxsize=None)
def choose_sweep_dir(root: str, new_id: str, signature: str, resume: bool) -> str:
    """The newest unfinished sweep under ``root`` with this signature when resuming; else ``root/new_id``.

    Every process of the sweep resolves ``hydra.sweep.dir`` through this and
    gets the same answer: the sweep it continues, or the new one, which by then
    is itself the newest unfinished sweep of that signature.
    """
    if resume:
        plans = sorted(Path(root).glob(f"*/{SWEEP_PLAN}"), reverse=True)
        for plan in plans:
            if read_plan(plan.parent).get("signature") == signature and unfinished(plan.parent):
                return str(plan.parent)
    return str(Path(root) / new_id)


def continue_command(args: list[str]) -> str:
    """The command line that continues the sweep: the user's own arguments plus ``checkpoint.resume=auto``."""
    kept = [as_typed(arg) for arg in args if not INJECTED.search(arg) and not RESUME_OPTION.match(arg)]
    return shlex.join(["python", "-m", "vaesae", *kept, "checkpoint.resume=auto"])


def planned_jobs(config: DictConfig) -> list[dict[str, Any]]:
    """Every job Hydra's basic sweeper will run, numbered as it numbers them; none for other sweepers."""
    if OmegaConf.select(config, "hydra.sweeper._target_") != BASIC_SWEEPER:
        return []
    overrides = list(config.hydra.overrides.task)
    excluded = list(config.hydra.job.config.override_dirname.exclude_keys)
    try:
        batches = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(overrides), None)
    except HydraException:
        return []
    jobs = [job for batch in batches for job in batch]
    return [{"num": num, "folder": job_folder_name(num, job, excluded), "overrides": redacted_overrides(job),
             "values": swept_values(job, excluded)} for num, job in enumerate(jobs)]


def write_plan(config: DictConfig) -> Path:
    """``sweep.json`` of a new sweep; a continued sweep keeps the plan it started with."""
    sweep_dir = Path(str(config.hydra.sweep.dir))
    path = sweep_dir / SWEEP_PLAN
    if read_plan(sweep_dir):
        return path
    plan = {
        "command": continue_command(sys.argv[1:]),
        "signature": sweep_signature(list(config.hydra.overrides.task)),
        "metric": OmegaConf.select(config, "checkpoint.metric", default=None),
        "mode": OmegaConf.select(config, "checkpoint.mode", default=None),
        "jobs": planned_jobs(config),
    }
    sweep_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(plan, indent=2).encode())
    return path
