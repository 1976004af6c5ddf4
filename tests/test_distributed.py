"""``torchrun --nproc_per_node=2 -m vaesae`` on CPU (gloo): one set of outputs, the one-process weights and
validation metrics (SAE and VAE), resume after kill -9."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.cli_process import epochs_logged, metrics_without_timing
from tests.conftest import cli_env, run_cli
from vaesae.engine.checkpoint_io import load_checkpoint

pytestmark = pytest.mark.slow

TORCHRUN = (sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "vaesae")


def sae_args(folder: Path, epochs: int) -> tuple[str, ...]:
    """The SAE (no sampling noise) on random embeddings, 2,000 rows in batches of 200 (100 rows per rank)."""
    return ("model=sae", f"train.data_path={folder / 'train.npy'}", f"val.data_path={folder / 'val.npy'}",
            "train.loader_params.batch_size=200", f"train.epochs={epochs}", "checkpoint.save_strategy=all",
            "experiment.device=cpu", "report.figures=false")


@pytest.fixture(scope="module")
def embeddings(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("embeddings")
    rng = np.random.default_rng(5)
    np.save(folder / "train.npy", rng.normal(size=(2000, 16)).astype(np.float32))
    np.save(folder / "val.npy", rng.normal(size=(400, 16)).astype(np.float32))
    return folder


def torchrun(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([*TORCHRUN, *args], cwd=cwd, env=env or cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def finished(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    return output


RUN_DIR = "experiments/sae/demo"


def assert_same_run(one: Path, two: Path) -> None:
    """The same files, checkpoints of the same weights and the same metrics, up to floating-point order."""
    names = sorted(p.name for p in (one / "checkpoints").iterdir())
    assert sorted(p.name for p in (two / "checkpoints").iterdir()) == names
    assert sorted(p.name for p in two.iterdir() if p.is_file()) == sorted(p.name for p in one.iterdir() if p.is_file())
    for name in (n for n in names if n.endswith(".pt")):
        expected, got = load_checkpoint(one / "checkpoints" / name), load_checkpoint(two / "checkpoints" / name)
        for key, tensor in expected["model_state"].items():
            torch.testing.assert_close(got["model_state"][key], tensor, rtol=1e-4, atol=1e-5, msg=f"{name}: {key}")
    for expected, got in zip(metrics_without_timing(one), metrics_without_timing(two), strict=True):
        assert got.keys() == expected.keys()
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def test_two_ranks_write_one_run_with_the_weights_of_one_process(tmp_path, embeddings):
    (tmp_path / "single").mkdir()
    (tmp_path / "ranks").mkdir()
    single = run_cli(*sae_args(embeddings, 2), cwd=tmp_path / "single")
    assert single.returncode == 0, single.stdout + single.stderr
    output = finished(torchrun(*sae_args(embeddings, 2), cwd=tmp_path / "ranks"))
    assert output.count("epoch 2/2") == 1
    assert_same_run(tmp_path / "single" / RUN_DIR, tmp_path / "ranks" / RUN_DIR)


VAE_RUN_DIR = "experiments/vae/demo"


def test_two_ranks_train_the_vae_of_one_process_with_unequal_parts(tmp_path, demo_dir):
    """Odd batches (150 and 149 rows a rank), a last validation batch of one row (an empty part on rank 1),
    and the VAE's sampling noise, calibrated variance and free bits, all of which depend on the whole batch."""
    args = ("train.loader_params.batch_size=299", "val.loader_params.batch_size=333", "train.epochs=2",
            "checkpoint.save_strategy=all", "experiment.device=cpu", "report.figures=false")
    env = cli_env(VAESAE_DEMO_DIR=str(demo_dir))
    (tmp_path / "single").mkdir()
    (tmp_path / "ranks").mkdir()
    single = run_cli(*args, cwd=tmp_path / "single", env=env)
    assert single.returncode == 0, single.stdout + single.stderr
    finished(torchrun(*args, cwd=tmp_path / "ranks", env=env))
    assert_same_run(tmp_path / "single" / VAE_RUN_DIR, tmp_path / "ranks" / VAE_RUN_DIR)
    assert "val_rmse_distance_km" in metrics_without_timing(tmp_path / "ranks" / VAE_RUN_DIR)[0]


def test_kill_9_of_the_whole_job_then_resume_auto_finishes(tmp_path, embeddings):
    args = sae_args(embeddings, 30)
    job = torchrun(*args, cwd=tmp_path)
    deadline = time.monotonic() + 300
    while epochs_logged(tmp_path / RUN_DIR) < 2 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.poll() is None, "the job ended before it could be killed"
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    done_before = epochs_logged(tmp_path / RUN_DIR)
    assert 2 <= done_before < 30
    output = finished(torchrun(*args, "checkpoint.resume=auto", cwd=tmp_path))
    assert output.count("resuming from") == 1
    assert epochs_logged(tmp_path / RUN_DIR) == 30
    assert load_checkpoint(tmp_path / RUN_DIR / "checkpoints/last_model.pt")["epoch"] == 30


def rank_process(job: subprocess.Popen, rank: int) -> int:
    """The pid of the worker process of ``rank`` among the children of ``torchrun``."""
    children = Path(f"/proc/{job.pid}/task/{job.pid}/children").read_text().split()
    for pid in children:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"RANK={rank}".encode() in environment:
            return int(pid)
    raise AssertionError(f"no worker with RANK={rank} among {children}")


def test_a_killed_rank_stops_the_whole_job(tmp_path, embeddings):
    job = torchrun(*sae_args(embeddings, 30), cwd=tmp_path)
    deadline = time.monotonic() + 300
    while epochs_logged(tmp_path / RUN_DIR) < 1 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    other = rank_process(job, 0)
    os.kill(rank_process(job, 1), signal.SIGKILL)
    output, _ = job.communicate(timeout=120)
    assert job.returncode != 0, output
    assert not Path(f"/proc/{other}").exists() or "zombie" in Path(f"/proc/{other}/status").read_text()
    assert epochs_logged(tmp_path / RUN_DIR) < 30


def test_sigterm_to_the_job_stops_every_rank_after_the_same_batch_and_resumes_exactly(tmp_path, embeddings):
    """Batches of 9 rows (parts of 5 and 4): the resumed epoch's means count the part before the stop once."""
    args = (*sae_args(embeddings, 3), "train.loader_params.batch_size=9")
    (tmp_path / "whole").mkdir()
    (tmp_path / "stopped").mkdir()
    finished(torchrun(*args, cwd=tmp_path / "whole"))
    job = torchrun(*args, cwd=tmp_path / "stopped")
    deadline = time.monotonic() + 300
    while epochs_logged(tmp_path / "stopped" / RUN_DIR) < 1 and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    job.send_signal(signal.SIGTERM)
    output, _ = job.communicate(timeout=120)
    assert "interrupted by SIGTERM during epoch 2" in output and "Connection closed" not in output, output
    state = load_checkpoint(tmp_path / "stopped" / RUN_DIR / "resume_state.pt")["trainer"]
    assert state["epoch"] == 1 and 0 < state["batch"] < 223, state
    resumed = finished(torchrun(*args, "checkpoint.resume=auto", cwd=tmp_path / "stopped"))
    assert f"and {state['batch']} batch(es) of epoch 2" in resumed
    for name in ("best_model.pt", "last_model.pt", "epoch_3.pt"):
        expected = load_checkpoint(tmp_path / "whole" / RUN_DIR / "checkpoints" / name)["model_state"]
        got = load_checkpoint(tmp_path / "stopped" / RUN_DIR / "checkpoints" / name)["model_state"]
        for key, tensor in expected.items():
            assert torch.equal(got[key], tensor), f"{name}: {key}"
    for expected, got in zip(metrics_without_timing(tmp_path / "whole" / RUN_DIR),
                             metrics_without_timing(tmp_path / "stopped" / RUN_DIR), strict=True):
        assert got == pytest.approx(expected, rel=1e-5)
