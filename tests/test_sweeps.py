"""Real sweeps through the CLI: joblib (default), submitit_local, Ray, and an Optuna search."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import FAST_TRAIN, REPO, cli_env
from vaesae.engine.metrics_file import read_metrics

OPTUNA_CONFIGS = REPO / "multirun_examples/configs"


def sweep_folder(workdir: Path) -> Path:
    (folder,) = (workdir / "experiments/vae/demo/sweeps").iterdir()
    return folder


def summary(folder: Path) -> list[dict[str, str]]:
    with (folder / "summary.csv").open() as handle:
        return list(csv.DictReader(handle))


def assert_beta_sweep_failed_only_at_abc(result, workdir: Path) -> None:
    """``beta=0.5,1,abc``: two jobs trained, the third failed, and the sweep says so."""
    assert result.returncode == 1, result.stdout + result.stderr
    folder = sweep_folder(workdir)
    rows = {row["job"]: row for row in summary(folder)}
    assert set(rows) == {"0_beta-0.5", "1_beta-1", "2_beta-abc"}
    for name in ("0_beta-0.5", "1_beta-1"):
        assert rows[name]["status"] == "completed" and (folder / name / "checkpoints/best_model.pt").is_file()
    failed = json.loads((folder / "2_beta-abc/status.json").read_text())
    assert failed["status"] == "failed" and "train.loss.params.beta: expected float, got 'abc'" in failed["error"]
    assert "expected float, got 'abc'" in (folder / "2_beta-abc/vaesae.log").read_text()
    assert "1 of 3 job(s) failed: 2_beta-abc" in result.stdout


def test_beta_sweep_runs_in_parallel_with_a_summary(cli, workdir):
    result = cli("-m", *FAST_TRAIN, "train.loss.params.beta=0.5,1,2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Joblib.Parallel(n_jobs=-1" in result.stdout
    folder = sweep_folder(workdir)
    rows = summary(folder)
    assert sorted(row["job"] for row in rows) == ["0_beta-0.5", "1_beta-1", "2_beta-2"]
    bests = [float(row["best"]) for row in rows]
    assert bests == sorted(bests) and all(row["status"] == "completed" for row in rows)
    for row in rows:
        assert Path(row["checkpoint"]).is_file() and row["best_epoch"] == "2" and float(row["wall_time_s"]) > 0
        assert row["overrides"].endswith(f"train.loss.params.beta={row['job'].split('-')[1]}")
        assert row["train.loss.params.beta"] == row["job"].split("-")[1]
        assert float(row["final_val_loss"]) > 0
        assert "job {}: 1 CPU thread(s)".format(row["job"][0]) in (folder / row["job"] / "vaesae.log").read_text()
    table = result.stdout[result.stdout.index(f"sweep {folder.relative_to(workdir)}"):]
    assert table.splitlines()[3].split()[:3] == ["1", rows[0]["job"], "completed"]
    drawn = sorted(path.parents[1].name for path in folder.glob("*/figures/loss_curves.png"))
    assert drawn == [rows[0]["job"]] and f"pictures of the best job, {rows[0]['job']}" in result.stdout


@pytest.mark.slow
def test_report_figures_true_on_the_command_line_draws_every_jobs_pictures(cli, workdir):
    result = cli("-m", *FAST_TRAIN, "hydra/launcher=basic", "train.loss.params.beta=0.5,1", "report.figures=true")
    assert result.returncode == 0, result.stdout + result.stderr
    folder = sweep_folder(workdir)
    assert len(list(folder.glob("*/figures/loss_curves.png"))) == 2 and "pictures of the best job" not in result.stdout


@pytest.mark.slow
def test_failed_jobs_neither_stop_nor_lose_the_others(cli, workdir):
    result = cli("-m", *FAST_TRAIN, "train.loss.params.beta=0.5,1,abc")
    assert_beta_sweep_failed_only_at_abc(result, workdir)


FAILING_LOSS = '''
from vaesae import register_loss
from vaesae.losses.vae import VAELoss


@register_loss("VAELossThatMayFail")
class VAELossThatMayFail(VAELoss):
    """A loss with a bug that shows only for some parameter values."""

    def __init__(self, fail: bool = False, **params):
        super().__init__(**params)
        self.fail = fail

    def __call__(self, batch, output):
        if self.fail:
            raise RuntimeError("bug in the loss")
        return super().__call__(batch, output)
'''


@pytest.mark.slow
def test_a_crashing_job_records_its_traceback_and_the_others_go_on(cli, workdir):
    (workdir / "failing_loss.py").write_text(FAILING_LOSS)
    result = cli("-m", *FAST_TRAIN, "plugins=[failing_loss]", "train.loss.class=VAELossThatMayFail",
                 "+train.loss.params.fail=false,true")
    assert result.returncode == 1, result.stdout + result.stderr
    folder = sweep_folder(workdir)
    assert {row["job"]: row["status"] for row in summary(folder)} == {"0_fail-False": "completed", "1_fail-True": "failed"}
    failed = json.loads((folder / "1_fail-True/status.json").read_text())
    assert failed["error"] == "RuntimeError: bug in the loss"
    assert "Traceback" in failed["traceback"] and "Traceback" in (folder / "1_fail-True/vaesae.log").read_text()


@pytest.mark.slow
def test_nan_metric_is_a_failed_job_with_a_clear_message(cli, workdir):
    result = cli("-m", *FAST_TRAIN, "hydra/launcher=basic", "train.optimizer_config.learning_rate=0.002,1e30")
    assert result.returncode == 1, result.stdout + result.stderr
    rows = {row["job"]: row for row in summary(sweep_folder(workdir))}
    assert rows["0_learning_rate-0.002"]["status"] == "completed"
    assert rows["1_learning_rate-1e+30"]["status"] == "failed"
    assert "training loss became nan" in rows["1_learning_rate-1e+30"]["error"]


@pytest.mark.slow
def test_optuna_search_returns_the_best_parameters(cli, workdir):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="needs the optuna extra")
    result = cli("-m", "--config-dir", str(OPTUNA_CONFIGS), "hydra/sweeper=vaesae_optuna",
                 "hydra.sweeper.n_trials=4", *FAST_TRAIN)
    assert result.returncode == 0, result.stdout + result.stderr
    folder = sweep_folder(workdir)
    found = yaml.safe_load((folder / "optimization_results.yaml").read_text())
    rows = summary(folder)
    assert len(rows) == 4 and found["best_value"] == pytest.approx(float(rows[0]["best"]))
    assert set(found["best_params"]) == {"train.loss.params.beta", "model.params.latent_dim"}
    best_overrides = rows[0]["overrides"].split()
    assert f"model.params.latent_dim={found['best_params']['model.params.latent_dim']}" in best_overrides


@pytest.mark.slow
def test_a_stopped_seeded_optuna_search_continues_trial_by_trial_with_the_same_command(cli, workdir):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="needs the optuna extra")
    args = ("-m", "--config-dir", str(OPTUNA_CONFIGS), "hydra/sweeper=vaesae_optuna", "hydra.sweeper.n_trials=4",
            "train.epochs=4", "experiment.device=cpu", "checkpoint.metric=val_elbo")
    process = subprocess.Popen([sys.executable, "-m", "vaesae", *args], cwd=workdir, env=cli_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    second_batch = "experiments/vae/demo/sweeps/*/[23]_*/metrics.jsonl"  # a first batch all stopped leaves no best trial
    while time.monotonic() < deadline and not any(p.read_text().strip() for p in workdir.glob(second_batch)):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=300) == 130
    folder = sweep_folder(workdir)
    first = {row["job"]: row["status"] for row in summary(folder)}
    assert "interrupted" in first.values()

    result = cli(*args, "checkpoint.resume=auto")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "with sampler seed 0: it asks its trials again in the same order" in result.stdout
    rows = {row["job"]: row["status"] for row in summary(sweep_folder(workdir))}
    assert len(rows) == 4 and set(rows.values()) == {"completed"} and set(first) <= set(rows)
    for job, state in first.items():
        skipped = f"job {job} completed in an earlier attempt; skipped" in result.stdout
        assert skipped == (state == "completed")


@pytest.mark.slow
def test_a_search_stopped_before_any_trial_completed_ends_as_a_stop_and_its_command_finishes_it(cli, workdir):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper", reason="needs the optuna extra")
    args = ("-m", "--config-dir", str(OPTUNA_CONFIGS), "hydra/sweeper=vaesae_optuna", "hydra.sweeper.n_trials=4",
            "train.epochs=100", "experiment.device=cpu", "checkpoint.metric=val_elbo")
    out = workdir / "search.out"
    with out.open("w") as handle:
        process = subprocess.Popen([sys.executable, "-m", "vaesae", *args], cwd=workdir, env=cli_env(),
                                   stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    first_batch = "experiments/vae/demo/sweeps/*/*/metrics.jsonl"
    while time.monotonic() < deadline and not any(p.read_text().strip() for p in workdir.glob(first_batch)):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=300) == 130, out.read_text()
    output = out.read_text()
    assert "Traceback" not in output and "continue this sweep with:" in output
    folder = sweep_folder(workdir)
    states = {row["job"]: row["status"] for row in summary(folder)}
    assert "interrupted" in states.values() and "completed" not in states.values()
    assert all((job.parent / "status.json").is_file() for job in folder.glob("*/.hydra"))

    command = output.split("continue this sweep with: ")[-1].splitlines()[0]
    result = cli(*command.split()[3:])
    assert result.returncode == 0, result.stdout + result.stderr
    rows = summary(sweep_folder(workdir))
    assert len(rows) == 4 and all(row["status"] == "completed" for row in rows)


def test_continuing_a_search_without_a_sampler_seed_warns_that_it_picks_new_trials(tmp_path, caplog):
    from omegaconf import OmegaConf

    from vaesae.sweep.continued_search import note_continued_search

    config = OmegaConf.create({"hydra": {"sweeper": {"_target_": "hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper",
                                                     "sampler": {"seed": None}}}})
    note_continued_search(config, tmp_path)
    assert "without a sampler seed (hydra.sweeper.sampler.seed): it picks new trials in new job folders" in caplog.text


@pytest.mark.slow
def test_submitit_local_sweep(cli, workdir):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the slurm extra")
    result = cli("-m", "hydra/launcher=vaesae_submitit_local", *FAST_TRAIN, "train.loss.params.beta=0.5,1,abc")
    assert_beta_sweep_failed_only_at_abc(result, workdir)
    assert "Submitit 'local' sweep output dir" in result.stdout
    assert any((sweep_folder(workdir) / ".submitit").glob("*/*_result.pkl"))


@pytest.mark.slow
def test_ray_local_cluster_sweep(cli, workdir):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="needs the ray extra")
    result = cli("-m", "hydra/launcher=vaesae_ray", "+hydra.launcher.ray.init.num_cpus=2",
                 *FAST_TRAIN, "train.loss.params.beta=0.5,1,abc")
    assert_beta_sweep_failed_only_at_abc(result, workdir)
    assert "Ray Launcher is launching 3 jobs" in result.stdout


def wait_for_training(job: Path, epochs: int, timeout: float = 240) -> dict:
    """The job's status once it has finished ``epochs`` epochs (and so written checkpoints)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metrics = job / "metrics.jsonl"
        if metrics.is_file() and len(read_metrics(metrics)) >= epochs:
            return json.loads((job / "status.json").read_text())
        time.sleep(0.05)
    raise AssertionError(f"{job} did not train {epochs} epochs in {timeout} s")


@pytest.mark.slow
def test_a_preempted_slurm_job_is_requeued_and_resumes_in_its_own_folder(workdir):
    """submitit's local executor handles the preemption signal as on Slurm: checkpoint, requeue, run again."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="needs the slurm extra")
    command = [sys.executable, "-m", "vaesae", "-m", "hydra/launcher=vaesae_submitit_local", "experiment.device=cpu",
               "train.epochs=200", "val.early_stopping=null", "report.figures=false"]
    sweep = subprocess.Popen(command, cwd=workdir, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        job = workdir / "experiments/vae/demo/sweeps"
        while not any(job.glob("*/0/status.json")) and sweep.poll() is None:
            time.sleep(0.05)
        (job,) = job.glob("*/0")
        first = wait_for_training(job, 3)
        os.kill(first["pid"], signal.SIGUSR2)
        output, _ = sweep.communicate(timeout=600)
    finally:
        sweep.kill()
    assert sweep.returncode == 0, output
    status = json.loads((job / "status.json").read_text())
    assert (first["attempt"], status["attempt"], status["status"]) == (1, 2, "completed")
    assert status["pid"] != first["pid"]
    assert [int(line["epoch"]) for line in read_metrics(job / "metrics.jsonl")] == list(range(1, 201))
    log = (job / "vaesae.log").read_text()
    assert "attempt 2 of job 0: continuing from its newest checkpoint" in log and "resuming from" in log
