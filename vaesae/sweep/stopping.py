"""Stopping a whole sweep on Ctrl-C or SIGTERM, whether the signal reaches the main process or the whole group.

The process that started the sweep does not die on the signal: it records
the stop in the sweep folder (``.stopping``, holding the exit status) and
passes the signal on, once a second, to every job of the sweep still
running on this host, until the launcher has collected them all. Each job
stops as a single interrupted run does (saving its state) and is marked
``interrupted``; a job that starts after the stop does not run, so it stays
``not started``. Launcher worker processes ignore the signals outside the
training loop, so the repeated signal never kills one while it starts or
saves. A job interrupted on its own (a signal sent to it alone, or the basic
launcher running it in the main process) records the stop too. submitit's
local launcher starts each job under a controller process, which is started
with SIGINT ignored (``submitit_controllers_ignore_sigint``).
"""
from __future__ import annotations

import os
import signal
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from omegaconf import DictConfig, open_dict

from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.engine.run_layout import RUNNING, STATUS, process_alive, read_status

STOP_FILE = ".stopping"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
MAIN_PID = "VAESAE_SWEEP_MAIN_PID"
RESEND_EVERY_S = 1.0
SUBMITIT_LOCAL = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"
IGNORE_SIGINT = "trap '' INT"


def request_stop(sweep_dir: Path, exit_code: int) -> None:
    """Record that the sweep is stopping; the first request's exit status is kept."""
    if stop_requested(sweep_dir) is None:
        atomic_write_bytes(sweep_dir / STOP_FILE, str(exit_code).encode())


def stop_requested(sweep_dir: Path) -> int | None:
    """The exit status of the stop under way, or None."""
    try:
        return int((sweep_dir / STOP_FILE).read_text())
    except (OSError, ValueError):
        return None


def clear_stop(sweep_dir: Path) -> None:
    (sweep_dir / STOP_FILE).unlink(missing_ok=True)


def running_job_pids(sweep_dir: Path) -> list[int]:
    """Processes of this sweep's jobs that run on this host, other than this one."""
    statuses = (read_status(path.parent) for path in sweep_dir.glob(f"*/{STATUS}"))
    return [s.pid for s in statuses if s and s.status == RUNNING and s.pid != os.getpid() and s.pid > 0
            and s.host == socket.gethostname() and process_alive(s.host, s.pid)]


class SweepStopper:
    """In the sweep's main process: turns the first SIGINT / SIGTERM into a stop of every job."""

    def __init__(self, sweep_dir: Path):
        self.sweep_dir = sweep_dir
        self.done = threading.Event()
        self.previous: dict[int, object] = {}

    def install(self) -> None:
        os.environ[MAIN_PID] = str(os.getpid())
        clear_stop(self.sweep_dir)
        if threading.current_thread() is threading.main_thread():
            self.previous = {sig: signal.signal(sig, self.handle) for sig in STOP_SIGNALS}

    def handle(self, signum: int, frame) -> None:
        first = stop_requested(self.sweep_dir) is None
        request_stop(self.sweep_dir, 128 + signum)
        if first:
            threading.Thread(target=self.pass_on, args=(signum,), daemon=True).start()

    def pass_on(self, signum: int) -> None:
        while not self.done.is_set():
            for pid in running_job_pids(self.sweep_dir):
                try:
                    os.kill(pid, signum)
                except OSError:
                    pass
            self.done.wait(RESEND_EVERY_S)

    def uninstall(self) -> int | None:
        """Restore the handlers; the exit status the sweep ends with when it was stopped."""
        self.done.set()
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return stop_requested(self.sweep_dir)


def submitit_controllers_ignore_sigint(config: DictConfig) -> None:
    """Add ``trap '' INT`` to the ``setup`` of submitit's local launcher, unless it is there already.

    submitit starts a controller process per job in the terminal's process
    group; on a Ctrl-C there it kills its job a second later, before the job
    has saved its state. The ``setup`` lines run in the controller's shell, so
    the controller and its job start with SIGINT ignored, and the job stops on
    the signal the main process passes on (SIGTERM the controllers pass on
    themselves). The ``vaesae_submitit_local`` preset has the line; Hydra's own
    ``submitit_local`` launcher does not. Called before Hydra instantiates the
    launcher from ``config``.
    """
    launcher = config.hydra.launcher
    setup = list(launcher.get("setup") or [])
    if launcher.get("_target_") != SUBMITIT_LOCAL or IGNORE_SIGINT in setup:
        return
    with open_dict(launcher):
        launcher.setup = [*setup, IGNORE_SIGINT]


@contextmanager
def worker_ignores_stop_signals() -> Iterator[None]:
    """In a launcher's worker process, SIGINT / SIGTERM do nothing except where training handles them.

    SIGINT stays ignored after the job: a terminal's Ctrl-C reaches the whole
    process group, and a worker idle between jobs would otherwise die of it with
    a traceback, while the main process already stops the sweep.
    """
    in_worker = os.environ.get(MAIN_PID) not in (None, str(os.getpid()))
    if not in_worker or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if sig != signal.SIGINT:
                signal.signal(sig, handler)
