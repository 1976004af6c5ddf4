"""The pieces of a sweep that need no process: folder names, settings, CPU shares, the summary."""
from __future__ import annotations

import csv
import json
import os

import pyarrow as pa
import pytest
import torch
from omegaconf import OmegaConf

from vaesae.cli_args import prepare_args
from vaesae.sweep.folders import job_folder_name, swept_values
from vaesae.sweep.job import continue_earlier_attempt
from vaesae.sweep.resources import cap_loader_workers, cpu_share, share_cpus
from vaesae.sweep.settings import fixed_keys, sweep_settings
from vaesae.sweep.stopping import IGNORE_SIGINT, SUBMITIT_LOCAL, submitit_controllers_ignore_sigint
from vaesae.engine.run_layout import COMPLETED, FAILED, JobStatus, write_status
from vaesae.sweep.summary import collect, format_table, write_csv


def test_job_folder_names_show_the_swept_values_briefly():
    overrides = ["train.epochs=2", "train.loss.params.beta=0.5", "model.params.hidden_dims=[64,32]"]
    assert job_folder_name(3, overrides, ["train.epochs"]) == "3_beta-0.5+hidden_dims-64-32"
    assert job_folder_name(0, ["data.train_path=/tmp/x y.csv", "~val"]) == "0_no-val+train_path-_tmp_x_y.csv"
    assert job_folder_name(4, ["+train.loss.params.beta=0.17885175001727033", "model.params.latent_dim=16"]) == \
        "4_beta-0.1789+latent_dim-16"
    assert job_folder_name(1, []) == "1"


def test_status_keeps_the_exact_swept_values():
    overrides = ["train.epochs=2", "+train.loss.params.beta=0.17885175001727033", "model.params.hidden_dims=[64,32]"]
    assert swept_values(overrides, ["train.epochs"]) == {
        "train.loss.params.beta": 0.17885175001727033, "model.params.hidden_dims": "[64,32]"}


def test_long_job_folder_names_end_in_a_hash_and_stay_distinct():
    first = job_folder_name(0, [f"model.params.p{i}={'1' * 20}" for i in range(10)])
    second = job_folder_name(0, [f"model.params.p{i}={'2' * 20}" for i in range(10)])
    assert len(first) == len(second) == 102 and first != second


def test_fixed_keys_are_the_overrides_that_do_not_sweep():
    overrides = ["train.epochs=2", "train.loss.params.beta=0.5,1", "model.params.latent_dim=range(4,9,4)",
                 "hydra/launcher=basic", "+x=1"]
    assert fixed_keys(overrides) == ["train.epochs", "x"]
    assert fixed_keys(["train.epochs=[unclosed"]) == []


def test_every_sweep_gets_its_own_folder():
    dirs = {next(s for s in sweep_settings([], False) if s.startswith("hydra.sweep.dir=")) for _ in range(50)}
    assert len(dirs) == 50


def test_launcher_default_gives_way_to_the_users_choice(tmp_path):
    assert "hydra/launcher=vaesae_joblib" in prepare_args(["-m", "train.epochs=1"])
    chosen = prepare_args(["-m", "hydra/launcher=basic"])
    assert "hydra/launcher=basic" in chosen and "hydra/launcher=vaesae_joblib" not in chosen
    (tmp_path / "mine.yaml").write_text("defaults:\n  - override hydra/launcher: vaesae_ray\n")
    assert "hydra/launcher=vaesae_joblib" not in prepare_args(["--config-dir", str(tmp_path), "--config-name", "mine"])


@pytest.mark.parametrize("launcher,setup", [
    ({"_target_": SUBMITIT_LOCAL}, [IGNORE_SIGINT]),
    ({"_target_": SUBMITIT_LOCAL, "setup": ["export A=1"]}, ["export A=1", IGNORE_SIGINT]),
    ({"_target_": SUBMITIT_LOCAL, "setup": [IGNORE_SIGINT]}, [IGNORE_SIGINT]),
    ({"_target_": "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"}, None),
])
def test_submitit_local_controllers_start_with_sigint_ignored(launcher, setup):
    config = OmegaConf.create({"hydra": {"launcher": launcher}})
    OmegaConf.set_struct(config, True)
    submitit_controllers_ignore_sigint(config)
    assert OmegaConf.to_container(config.hydra.launcher).get("setup") == setup


@pytest.mark.parametrize("launcher,cores,share", [
    ({"n_jobs": -1}, 8, 1), ({"n_jobs": 2}, 8, 4), ({"n_jobs": -2}, 8, 1), ({"n_jobs": 3}, 2, 1),
    ({"cpus_per_task": 4}, 16, 4), ({"ray": {"remote": {"num_cpus": 2}}}, 16, 2), ({}, 8, None), (None, 8, None),
])
def test_cpu_share_follows_the_launcher(launcher, cores, share):
    assert cpu_share(OmegaConf.create(launcher) if launcher is not None else None, cores) == share


def test_a_parallel_job_keeps_to_its_share(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "0")
    threads, arrow_threads = torch.get_num_threads(), pa.cpu_count()
    cfg = OmegaConf.create({"train": {"loader_params": {"num_workers": 4}}, "val": {"loader_params": {"num_workers": 0}}})
    try:
        assert share_cpus(cfg, OmegaConf.create({"n_jobs": -1})) == 1
        assert torch.get_num_threads() == 1 and pa.cpu_count() == 1 and os.environ["TQDM_DISABLE"] == "1"
    finally:
        torch.set_num_threads(threads)
        pa.set_cpu_count(arrow_threads)
    assert cfg.train.loader_params.num_workers == 0 and cfg.val.loader_params.num_workers == 0
    cap_loader_workers(cfg, 3)
    assert cfg.train.loader_params.num_workers == 0


def job(tmp_path, num, status, values, mode="min", error=None):
    """A job folder as a finished job leaves it: status.json, metrics.jsonl, a checkpoint."""
    folder = tmp_path / f"{num}_lr-{num}"
    write_status(folder, JobStatus(num, folder.name, [f"lr={num}"], "val_loss", mode, status, error=error,
                                   wall_time_s=1.5, values={"lr": num}))
    lines = [{"epoch": float(e), "train_loss": 9.0, "val_loss": v} for e, v in enumerate(values, 1)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    if status == COMPLETED:
        (folder / "checkpoints").mkdir()
        (folder / "checkpoints/best_model.pt").write_bytes(b"")
    return folder


def test_summary_ranks_best_first_and_failures_last(tmp_path):
    job(tmp_path, 0, COMPLETED, [3.0, 2.0, 2.5])
    job(tmp_path, 1, FAILED, [0.5], error="training loss became nan\nat epoch 2")
    job(tmp_path, 2, COMPLETED, [1.5, 1.0, None])
    rows = collect(tmp_path)
    assert [(r.status.num, r.result.best, r.result.best_epoch, r.result.epochs) for r in rows] == [
        (2, 1.0, 2, 3), (0, 2.0, 2, 3), (1, 0.5, 1, 1)]
    with write_csv(rows, tmp_path / "summary.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [t["job"] for t in table] == ["2_lr-2", "0_lr-0", "1_lr-1"] and [t["lr"] for t in table] == ["2", "0", "1"]
    assert table[0]["checkpoint"].endswith("2_lr-2/checkpoints/best_model.pt") and table[1]["final_val_loss"] == "2.5"
    assert table[2]["status"] == "failed" and table[2]["checkpoint"] == ""
    text = format_table(rows, tmp_path)
    assert "best val_loss" in text and "2_lr-2/checkpoints/best_model.pt" in text
    assert "1_lr-1 failed: training loss became nan at epoch 2" in text


def test_a_metrics_line_cut_short_by_a_kill_is_skipped(tmp_path):
    folder = job(tmp_path, 0, COMPLETED, [3.0, 2.0, 1.0])
    text = (folder / "metrics.jsonl").read_text()
    (folder / "metrics.jsonl").write_text(text[:-12])
    (row,) = collect(tmp_path)
    assert (row.result.best, row.result.epochs) == (2.0, 2)


def test_summary_ranks_by_the_checkpoint_mode(tmp_path):
    job(tmp_path, 0, COMPLETED, [0.7], mode="max")
    job(tmp_path, 1, COMPLETED, [0.9], mode="max")
    assert [r.status.num for r in collect(tmp_path)] == [1, 0]


@pytest.mark.parametrize("config,attempt,resume", [
    ({}, 2, "auto"), ({"task": "train", "checkpoint": {"resume": None}}, 3, "auto"), ({}, 1, None),
    ({"task": "extract"}, 2, None), ({"checkpoint": {"resume": "elsewhere.pt"}}, 2, "elsewhere.pt"),
])
def test_a_later_attempt_of_a_training_job_resumes(config, attempt, resume):
    cfg = OmegaConf.create(config)
    OmegaConf.set_struct(cfg, True)
    continue_earlier_attempt(cfg, JobStatus(0, "0", [], attempt=attempt))
    assert OmegaConf.select(cfg, "checkpoint.resume", default=None) == resume
