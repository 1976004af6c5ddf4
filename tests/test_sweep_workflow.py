"""The steps around a sweep, through the real CLI on joblib: stop it, continue it with the same command,
read its results while it is broken, and take its best job into extract and the SAE."""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cli_process import assert_same_weights, metrics_without_timing
from tests.conftest import cli_env, run_cli

# Enough epochs that a job is still training when the stop reaches it, a few milliseconds after its first epoch
SWEEP = ("-m", "train.epochs=12", "experiment.device=cpu", "train.loss.params.beta=0.5,1,2", "hydra.launcher.n_jobs=2")
JOBS = ["0_beta-0.5", "1_beta-1", "2_beta-2"]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    from vaesae.data.demo import write_demo_data

    folder = tmp_path_factory.mktemp("sweep-demo")
    write_demo_data(folder, n_train=2000, n_val=500, n_test=500)
    return cli_env(VAESAE_DEMO_DIR=str(folder))


def sweeps_of(cwd: Path) -> list[Path]:
    root = cwd / "experiments/vae/demo/sweeps"
    return sorted(root.iterdir()) if root.is_dir() else []


def summary(sweep: Path) -> dict[str, dict[str, str]]:
    with (sweep / "summary.csv").open() as handle:
        return {row["job"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def finished(tmp_path_factory, env) -> Path:
    """An uninterrupted 3-job beta sweep: the reference the other tests compare with."""
    cwd = tmp_path_factory.mktemp("finished")
    result = run_cli(*SWEEP, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    (sweep,) = sweeps_of(cwd)
    (cwd / "sweep.out").write_text(result.stdout + result.stderr)
    return sweep


@pytest.mark.slow
def test_job_folders_are_typed_unquoted_and_the_summary_has_a_column_per_swept_key(finished):
    rows = summary(finished)
    assert sorted(rows) == JOBS and all(row["status"] == "completed" for row in rows.values())
    assert [rows[job]["train.loss.params.beta"] for job in JOBS] == ["0.5", "1", "2"]
    status = json.loads((finished / "2_beta-2/status.json").read_text())
    assert status["values"] == {"train.loss.params.beta": 2} and status["attempt"] == 1


@pytest.mark.slow
def test_a_beta_sweep_ranked_by_val_loss_warns_and_names_val_elbo(finished):
    output = (finished.parents[4] / "sweep.out").read_text()
    assert "checkpoint.metric=val_loss includes the loss weights this sweep varies (train.loss.params.beta)" in output
    assert "e.g. checkpoint.metric=val_elbo" in output
    assert "val_elbo" in summary(finished)["0_beta-0.5"] or "final_val_elbo" in summary(finished)["0_beta-0.5"]


@pytest.mark.slow
def test_extract_from_a_sweep_folder_uses_its_best_job_and_the_sae_finds_the_embeddings(tmp_path, finished, env):
    cwd = finished.parents[4]
    best = min(summary(finished).values(), key=lambda row: float(row["best"]))["job"]
    other = next(job for job in JOBS if job != best)
    extract = run_cli("task=extract", f"checkpoint.path={finished.relative_to(cwd)}", cwd=cwd, env=env)
    assert extract.returncode == 0, extract.stdout + extract.stderr
    assert f"its best job {best}" in extract.stdout + extract.stderr
    again = run_cli("task=extract", f"checkpoint.path={(finished / other).relative_to(cwd)}", cwd=cwd, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    for job in (best, other):
        assert np.load(finished / job / "embeddings/train_embeddings.npy").shape == (2000, 16)
    sae = run_cli("model=sae", f"data.embeddings_from={finished.relative_to(cwd)}", "train.epochs=1",
                  "experiment.device=cpu", "dry_run=true", cwd=cwd, env=env)
    assert sae.returncode == 0, sae.stdout + sae.stderr
    assert f"{best}/embeddings/train_embeddings.npy" in sae.stdout


@pytest.mark.slow
def test_an_output_of_another_task_is_refused_unless_overwrite_outputs(finished, env):
    cwd = finished.parents[4]
    job = finished / "0_beta-0.5"
    extract = run_cli("task=extract", f"checkpoint.path={job.relative_to(cwd)}", "overwrite_outputs=true", cwd=cwd, env=env)
    assert extract.returncode == 0, extract.stdout + extract.stderr
    target = job / "embeddings/test_embeddings.npy"
    before = target.read_bytes()
    predict = run_cli("task=predict", f"checkpoint.path={job.relative_to(cwd)}", f"test.output={target}", cwd=cwd, env=env)
    assert predict.returncode == 2 and "Traceback" not in predict.stderr
    assert f"{target} already holds the output of task=extract" in predict.stdout + predict.stderr
    assert "overwrite_outputs=true" in predict.stdout + predict.stderr and target.read_bytes() == before
    forced = run_cli("task=predict", f"checkpoint.path={job.relative_to(cwd)}", f"test.output={target}",
                     "overwrite_outputs=true", cwd=cwd, env=env)
    assert forced.returncode == 0, forced.stdout + forced.stderr


def cut_last_line(path: Path) -> None:
    text = path.read_text()
    path.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])


def test_a_metrics_line_cut_short_and_a_vanished_job_are_read_truly(tmp_path, finished):
    sweep = tmp_path / finished.name
    shutil.copytree(finished, sweep)
    cut_last_line(sweep / "1_beta-1/metrics.jsonl")
    status = json.loads((sweep / "2_beta-2/status.json").read_text())
    status.update(status="running", pid=2**22 + 1)  # a process that no longer exists
    (sweep / "2_beta-2/status.json").write_text(json.dumps(status))
    shutil.rmtree(sweep / "0_beta-0.5")
    report = subprocess.run([sys.executable, "-m", "vaesae.report", str(sweep)], env=cli_env(), capture_output=True,
                            text=True, timeout=300)
    assert report.returncode == 0, report.stdout + report.stderr
    with (sweep / "figures/sweep_results.csv").open() as handle:
        states = {row["job"]: row["status"] for row in csv.DictReader(handle)}
    assert states == {"0_beta-0.5": "not started", "1_beta-1": "completed", "2_beta-2": "interrupted"}
    from vaesae.sweep.summary import collect, format_table

    rows = {row.folder.name: row for row in collect(sweep)}
    epochs = len((finished / "1_beta-1/metrics.jsonl").read_text().splitlines())
    assert rows["1_beta-1"].result.epochs == epochs - 1 and rows["2_beta-2"].state == "interrupted"
    assert "continue this sweep with: python -m vaesae -m" in format_table(list(rows.values()), sweep)


def test_the_report_refuses_a_folder_that_is_neither_run_nor_sweep(tmp_path):
    (tmp_path / "experiments/vae").mkdir(parents=True)
    result = subprocess.run([sys.executable, "-m", "vaesae.report", str(tmp_path / "experiments/vae")], env=cli_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "neither a training run folder" in result.stderr and "Traceback" not in result.stderr


def start_sweep(cwd: Path, env: dict[str, str], args: tuple[str, ...] = SWEEP) -> subprocess.Popen:
    """The sweep in a session of its own (a terminal's process group), its output in ``cwd/sweep.out``."""
    with (cwd / "sweep.out").open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "vaesae", *args], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def continue_command(output: str) -> str:
    return output.split("continue this sweep with: ")[-1].splitlines()[0]


def continue_to_the_end(output: str, cwd: Path, env: dict[str, str], sweep: Path, finished: Path) -> dict:
    """Runs the command the stopped sweep printed; it completes every job in the same sweep folder, each with
    the metrics of the uninterrupted sweep (no epoch trained twice). Returns the summary rows."""
    resumed = run_cli(*continue_command(output).split()[3:], cwd=cwd, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sweeps_of(cwd) == [sweep]
    rows = summary(sweep)
    assert all(row["status"] == "completed" for row in rows.values()), rows
    for job in JOBS:
        assert metrics_without_timing(sweep / job) == metrics_without_timing(finished / job)
    return rows


def wait_for_first_epoch(cwd: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(path.read_text().strip() for path in cwd.glob("experiments/vae/demo/sweeps/*/*/metrics.jsonl")):
            return
        time.sleep(0.2)
    raise AssertionError("no job finished an epoch before the sweep ended")


@pytest.mark.slow
@pytest.mark.parametrize("whom", ["main process", "process group"])
def test_ctrl_c_then_the_same_command_with_resume_auto_equals_an_uninterrupted_sweep(tmp_path, env, finished, whom):
    process = start_sweep(tmp_path, env)
    wait_for_first_epoch(tmp_path, process)
    os.killpg(process.pid, signal.SIGINT) if whom == "process group" else process.send_signal(signal.SIGINT)
    assert process.wait(timeout=300) == 130
    output = (tmp_path / "sweep.out").read_text()
    (sweep,) = sweeps_of(tmp_path)
    stopped = summary(sweep)
    assert "Traceback" not in output and "continue this sweep with:" in output
    assert sorted(stopped) == JOBS and "running" not in {row["status"] for row in stopped.values()}
    assert "interrupted" in {row["status"] for row in stopped.values()}
    assert continue_command(output) == "python -m vaesae " + " ".join(SWEEP) + " checkpoint.resume=auto"

    rows = continue_to_the_end(output, tmp_path, env, sweep, finished)
    for job in JOBS:
        for name in ("checkpoints/best_model.pt", "resume_state.pt"):
            assert_same_weights(sweep / job / name, finished / job / name)
    assert float(rows["0_beta-0.5"]["wall_time_s"]) > float(json.loads(
        (sweep / "0_beta-0.5/status.json").read_text())["earlier_wall_time_s"])


def loky_workers(parent: int) -> list[int]:
    """Processes ``parent`` started as joblib's (loky's) workers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent_pid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent_pid == parent and b"popen_loky_posix" in command:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_ctrl_c_while_the_joblib_workers_start_stops_the_sweep_without_a_traceback(tmp_path, env, finished):
    process = start_sweep(tmp_path, env)
    deadline = time.monotonic() + 120
    while not loky_workers(process.pid) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert loky_workers(process.pid) and not list(tmp_path.glob("experiments/vae/demo/sweeps/*/*/status.json"))
    os.killpg(process.pid, signal.SIGINT)  # the workers are still importing: no job has started
    assert process.wait(timeout=300) == 130
    output = (tmp_path / "sweep.out").read_text()
    (sweep,) = sweeps_of(tmp_path)
    assert "Traceback" not in output and "KeyboardInterrupt" not in output
    assert {row["status"] for row in summary(sweep).values()} == {"not started"}
    continue_to_the_end(output, tmp_path, env, sweep, finished)


SUBMITIT_SWEEPS = {  # Hydra's own preset gets the others' CPU share: the jobs' results are compared with theirs
    "vaesae_submitit_local": ("-m", "hydra/launcher=vaesae_submitit_local", *SWEEP[1:-1]),
    "submitit_local": ("-m", "hydra/launcher=submitit_local", "hydra.launcher.cpus_per_task=1", *SWEEP[1:-1]),
}


@pytest.mark.slow
@pytest.mark.parametrize("launcher, sig, whom", [
    ("vaesae_submitit_local", signal.SIGINT, "process group"), ("vaesae_submitit_local", signal.SIGINT, "main process"),
    ("vaesae_submitit_local", signal.SIGTERM, "process group"), ("vaesae_submitit_local", signal.SIGTERM, "main process"),
    ("submitit_local", signal.SIGINT, "process group")])
def test_a_stopped_submitit_local_sweep_saves_its_jobs_and_the_same_command_completes_it(tmp_path, env, finished,
                                                                                           launcher, sig, whom):
    sweep_args = SUBMITIT_SWEEPS[launcher]
    process = start_sweep(tmp_path, env, sweep_args)
    wait_for_first_epoch(tmp_path, process)
    os.killpg(process.pid, sig) if whom == "process group" else process.send_signal(sig)
    assert process.wait(timeout=300) == 128 + sig
    output = (tmp_path / "sweep.out").read_text()
    (sweep,) = sweeps_of(tmp_path)
    states = {row["status"] for row in summary(sweep).values()}
    assert "Traceback" not in output and "interrupted" in states and states <= {"interrupted", "not started", "completed"}
    assert continue_command(output) == "python -m vaesae " + " ".join(sweep_args) + " checkpoint.resume=auto"
    continue_to_the_end(output, tmp_path, env, sweep, finished)


@pytest.mark.slow
def test_wall_time_sums_every_attempt_including_one_killed_with_sigkill(tmp_path, env):
    args = ("-m", "hydra/launcher=basic", "train.epochs=8", "experiment.device=cpu", "train.loss.params.beta=0.5,1")
    process = start_sweep(tmp_path, env, args)
    status_file = tmp_path / "experiments/vae/demo/sweeps"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not [s for s in status_file.glob("*/0_beta-0.5/status.json")
                                               if json.loads(s.read_text())["wall_time_s"]]:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    (sweep,) = sweeps_of(tmp_path)
    killed = json.loads((sweep / "0_beta-0.5/status.json").read_text())
    assert killed["status"] == "running" and killed["wall_time_s"] > 0

    resumed = run_cli(*args, "checkpoint.resume=auto", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    status = json.loads((sweep / "0_beta-0.5/status.json").read_text())
    assert status["attempt"] == 2 and status["earlier_wall_time_s"] == killed["wall_time_s"]
    assert float(summary(sweep)["0_beta-0.5"]["wall_time_s"]) > killed["wall_time_s"]
