"""What every task receives: the validated config and where to write."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from omegaconf import DictConfig, OmegaConf

from vaesae.config.redact import redacted
from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.tasks.hooks import TaskHooks

log = logging.getLogger("vaesae")


@dataclass
class Job:
    """``hooks`` join tracking and pictures to the task; ``command`` is the command line that runs this job
    again, for messages such as how to resume."""

    cfg: DictConfig
    run_dir: Path
    hooks: TaskHooks
    overrides: list[str] = field(default_factory=list)
    command: str = "python -m vaesae"

    @property
    def task(self) -> str:
        return self.cfg.task

    def redacted_config(self) -> dict:
        return redacted(OmegaConf.to_container(self.cfg, resolve=True))

    def write_config(self) -> Path:
        """The resolved config with secrets masked: ``config.yaml`` (train) or ``config.{task}.yaml``."""
        name = "config.yaml" if self.task == "train" else f"config.{self.task}.yaml"
        path = self.run_dir / name
        atomic_write_bytes(path, yaml.safe_dump(self.redacted_config(), sort_keys=False).encode())
        return path


def print_summary(title: str, rows: list[tuple[str, object]]) -> None:
    """The dry-run report: what would run, on which data, writing where."""
    width = max(len(name) for name, _ in rows)
    lines = [title] + [f"  {name.ljust(width)}  {value}" for name, value in rows]
    print("\n".join(lines))
