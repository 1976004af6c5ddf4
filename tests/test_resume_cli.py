"""Interrupting and resuming training through the real CLI, compared with an uninterrupted run."""
from __future__ import annotations

import hashlib
import os
import random
import shlex
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.cli_process import CliProcess, assert_same_run, epochs_logged, wait_until
from tests.conftest import cli_env, run_cli
from vaesae.engine.checkpoint_io import load_checkpoint

# Early stopping watches a metric that rises (the KL term), so the run stops at epoch 4 of 6: resumed
# runs must restore the early-stopping state to stop there too.
ARGS = ("experiment.device=cpu", "train.epochs=6", "checkpoint.save_strategy=all",
        "val.early_stopping.metric=val_kl_loss", "val.early_stopping.patience=3")
# Wide layers make each checkpoint about 7 MB, so a save lasts long enough to be caught in the act; without
# KL warm-up and free bits the wide model's KL term rises from the start, so early stopping ends it too.
WIDE_ARGS = (*ARGS, "model.params.hidden_dims=[512,512]", "train.loss.params.kl_warmup_epochs=0", "train.loss.params.free_bits=0")


@pytest.fixture(scope="module")
def env(demo_dir) -> dict[str, str]:
    return cli_env(VAESAE_DEMO_DIR=str(demo_dir))


def uninterrupted_run(tmp_path_factory, env: dict[str, str], args: tuple[str, ...]) -> tuple[Path, str]:
    """The run folder and output of a training that nothing interrupts."""
    cwd = tmp_path_factory.mktemp("reference")
    done = run_cli(*args, cwd=cwd, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return cwd / "experiments/vae/demo", done.stdout + done.stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory, env) -> Path:
    run_dir, output = uninterrupted_run(tmp_path_factory, env, ARGS)
    assert "early stopping at epoch 4" in output
    return run_dir


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def resume_command(output: str) -> list[str]:
    """The command the interruption message tells the user to run, as an argument list."""
    line = next(line for line in output.splitlines() if "resume with: " in line)
    command = shlex.split(line.split("resume with: ", 1)[1])
    assert command[:3] == ["python", "-m", "vaesae"] and command[-1] == "checkpoint.resume=auto"
    return command[3:]


def interrupt_after_first_epoch(cwd: Path, env: dict[str, str], sig: signal.Signals) -> CliProcess:
    training = CliProcess(*ARGS, cwd=cwd, env=env)
    assert wait_until(lambda: epochs_logged(cwd / "experiments/vae/demo") >= 1, training), training.output
    training.process.send_signal(sig)
    assert training.wait() == 128 + sig, training.output
    errors = [line for line in training.output.splitlines() if "[ERROR]" in line]
    assert len(errors) == 1 and f"interrupted by {sig.name}" in errors[0] and "Traceback" not in training.output
    assert load_checkpoint(cwd / "experiments/vae/demo/checkpoints/last_model.pt")["trainer"]["epoch"] >= 1
    return training


def test_sigterm_saves_state_and_the_printed_command_resumes_exactly(tmp_path, env, reference):
    training = interrupt_after_first_epoch(tmp_path, env, signal.SIGTERM)
    resumed = run_cli(*resume_command(training.output), "checkpoint.resume=auto", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming from" in resumed.stdout + resumed.stderr
    assert_same_run(tmp_path / "experiments/vae/demo", reference)


@pytest.mark.slow
def test_ctrl_c_stops_the_same_way_with_status_130(tmp_path, env):
    interrupt_after_first_epoch(tmp_path, env, signal.SIGINT)


def test_resume_with_a_changed_latent_dim_is_refused(tmp_path, env, reference):
    before = digests(reference / "checkpoints")
    refused = run_cli(*ARGS, f"checkpoint.resume={reference}", "model.params.latent_dim=4", cwd=tmp_path, env=env)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 2 and "Traceback" not in output
    assert "model.params.latent_dim: 16 in the checkpoint, 4 now" in output and "checkpoint.resume_force=true" in output
    assert digests(reference / "checkpoints") == before
    assert not (tmp_path / "experiments/vae/demo/checkpoints").exists()


@pytest.mark.slow
def test_nan_loss_stops_clearly_and_keeps_the_best_checkpoint(tmp_path, env, reference):
    """Continuing epoch 2's state with an absurd learning rate: the first step blows the weights up."""
    run_dir = tmp_path / "experiments/vae/demo"
    shutil.copytree(reference, run_dir)
    before = digests(run_dir / "checkpoints")
    blown = run_cli(*ARGS, f"checkpoint.resume={run_dir / 'checkpoints/epoch_2.pt'}", "checkpoint.resume_force=true",
                    "train.optimizer_config.learning_rate=1e30", cwd=tmp_path, env=env)
    output = blown.stdout + blown.stderr
    assert blown.returncode == 2 and "Traceback" not in output and "Warning" not in output
    assert "training loss became nan at epoch 3, batch 2" in output
    assert digests(run_dir / "checkpoints") == before


@pytest.mark.slow
def test_resume_auto_on_a_finished_run_changes_nothing(tmp_path, env, reference):
    run_dir = tmp_path / "experiments/vae/demo"
    shutil.copytree(reference, run_dir)
    before = digests(run_dir / "checkpoints")
    again = run_cli(*ARGS, "checkpoint.resume=auto", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert digests(run_dir / "checkpoints") == before
    assert_same_run(run_dir, reference)


def freeze(training: CliProcess) -> bool:
    """SIGSTOP the process and wait until it is stopped; False if it ended instead (its status is kept)."""
    pid = training.process.pid
    os.kill(pid, signal.SIGSTOP)
    _, status = os.waitpid(pid, os.WUNTRACED)
    if os.WIFSTOPPED(status):
        return True
    training.process.returncode = os.waitstatus_to_exitcode(status)
    return False


def kill_mid_save(training: CliProcess, folder: Path, rng: random.Random) -> bool:
    """SIGKILL the process while it is writing a checkpoint; False if the run ended first.

    Watching the folder from outside races with the save, so the process is
    frozen at random moments and killed at the first moment it is frozen with
    one of its temporary checkpoint files open.
    """
    own_temp = f".{training.process.pid}.tmp"
    while training.process.poll() is None:
        time.sleep(rng.uniform(0.0005, 0.003))
        if not freeze(training):
            return False
        if any(name.endswith(own_temp) for name in _names(folder)):
            training.process.kill()
            return True
        os.kill(training.process.pid, signal.SIGCONT)
    return False


def kill_at_random(training: CliProcess, run_dir: Path, rng: random.Random, seen: int) -> bool:
    """SIGKILL at a random moment after this process finished one more epoch; False if the run ended first."""
    if not wait_until(lambda: epochs_logged(run_dir) > seen, training):
        return False
    time.sleep(rng.uniform(0.0, 0.6))
    if training.process.poll() is not None:
        return False
    training.process.kill()
    return True


def _names(folder: Path) -> list[str]:
    try:
        return [p.name for p in folder.iterdir()]
    except FileNotFoundError:
        return []


@pytest.mark.slow
def test_kill_9_at_random_points_then_resume_matches_an_uninterrupted_run(tmp_path_factory, tmp_path, env):
    reference, output = uninterrupted_run(tmp_path_factory, env, WIDE_ARGS)
    assert "early stopping at epoch" in output
    rng = random.Random(20240611)
    run_dir = tmp_path / "experiments/vae/demo"
    folder = run_dir / "checkpoints"
    plan = ["mid-save", "random", "mid-save", "random"]
    kills = []
    for mode in plan:
        seen = epochs_logged(run_dir)
        training = CliProcess(*WIDE_ARGS, "checkpoint.resume=auto", cwd=tmp_path, env=env)
        killed = kill_mid_save(training, folder, rng) if mode == "mid-save" else kill_at_random(training, run_dir, rng, seen)
        training.wait()
        if not killed:
            break
        kills.append(mode)
        if mode == "mid-save":
            assert any(name.endswith(".tmp") for name in _names(folder))
        for path in folder.glob("*.pt"):
            load_checkpoint(path)
    assert kills.count("mid-save") >= 1 and len(kills) >= 2, kills
    final = run_cli(*WIDE_ARGS, "checkpoint.resume=auto", cwd=tmp_path, env=env)
    assert final.returncode == 0, final.stdout + final.stderr
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert_same_run(run_dir, reference)
