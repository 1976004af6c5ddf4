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

joblib's worker processes take seconds to start (they import torch) before
they can ignore anything, and a Ctrl-C in the terminal reaches them too. Under
the joblib launcher the main process therefore holds the two signals blocked
while the sweep runs and takes them from a thread of its own (``sigtimedwait``).
Processes it starts inherit the blocked signals, so a starting worker keeps
them pending instead of dying of them; a worker unblocks them once it ignores
them (``worker_ignores_stop_signals``), which discards what was pending.
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
JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
WAIT_S = 0.2
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


def launcher_starts_workers(config: DictConfig) -> bool:
    """Whether the sweep's launcher is joblib's, whose worker processes start without ignoring the signals."""
    return config.hydra.launcher.get("_target_") == JOBLIB


def start_resource_trackers() -> None:
    """Start the resource-tracker processes that joblib's executor would otherwise start later.

    Python's and loky's resource trackers block SIGINT and SIGTERM around their
    own start and then unblock them in the thread that started them, which would
    undo the main process's block before joblib starts its workers.
    """
    from multiprocessing import resource_tracker

    from joblib.externals.loky.backend import resource_tracker as loky_resource_tracker

    resource_tracker.ensure_running()
    loky_resource_tracker.ensure_running()


class SweepStopper:
    """In the sweep's main process: turns the first SIGINT / SIGTERM into a stop of every job.

    With ``hold_for_workers`` the signals stay blocked in this process (and so in
    the processes it starts) and a thread of its own takes them.
    """

    def __init__(self, sweep_dir: Path, hold_for_workers: bool = False):
        self.sweep_dir = sweep_dir
        self.hold_for_workers = hold_for_workers
        self.done = threading.Event()
        self.previous: dict[int, object] = {}
        self.waiter: threading.Thread | None = None

    def install(self) -> None:
        os.environ[MAIN_PID] = str(os.getpid())
        clear_stop(self.sweep_dir)
        if threading.current_thread() is not threading.main_thread():
            return
        self.previous = {sig: signal.signal(sig, self.handle) for sig in STOP_SIGNALS}
        if self.hold_for_workers:
            start_resource_trackers()
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            self.waiter = threading.Thread(target=self.take_blocked_signals, daemon=True)
            self.waiter.start()

    def take_blocked_signals(self) -> None:
        while not self.done.is_set():
            received = signal.sigtimedwait(STOP_SIGNALS, WAIT_S)
            if received is not None:
                self.handle(received.si_signo, None)

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
        if self.waiter is not None:
            self.waiter.join()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
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
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if sig != signal.SIGINT:
                signal.signal(sig, handler)
