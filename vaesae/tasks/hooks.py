"""How tracking and pictures join a task without the task importing them.

Tasks sit below tracking (MLflow) and report (pictures): those packages build
on tasks, so tasks never import them. The app, above all of them, hands each
job a ``TaskHooks`` made of their functions (``vaesae.app.task_hooks``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from vaesae.engine.callbacks import Callback
    from vaesae.tasks.job import Job


@dataclass(frozen=True)
class TaskHooks:
    """``open_tracking(job)``: a tracking session or None; ``job_run(session, job, config_path, tags)``: the run
    recording an inference job; ``checkpoint_tags(path, payload)``: which checkpoint it used;
    ``training_callbacks(job, session, config_path, checkpoint_dir)``: trainer callbacks placed after checkpointing."""

    open_tracking: Callable[[Job], Any]
    job_run: Callable[..., Any]
    checkpoint_tags: Callable[[Path, dict], dict[str, str]]
    training_callbacks: Callable[[Job, Any, Path, Path], list[Callback]]
