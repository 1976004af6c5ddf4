"""The five complete examples of the configuration documentation, run as primary configs.

Overrides used, and only these: ``experiment.device=cpu`` (no CUDA here), ``~mlflow`` (the example
server does not exist), and small epoch counts / in-process loading to keep the tests fast.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.conftest import REPO, SMALL_DEMO, run_cli
from vaesae.config.load import load_config
from vaesae.data.demo import write_demo_data

DOCS = REPO / "tests" / "configs" / "documented"
CPU = ("experiment.device=cpu",)
QUICK_VAE = ("train.epochs=2", "val.frequency=1", "train.loader_params.num_workers=0", "val.loader_params.num_workers=0")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A user's project folder: the documented configs in configs/ and the demo data in data/."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(DOCS, root / "configs")
    write_demo_data(root / "data", **SMALL_DEMO)
    return root


def vaesae(project, name: str, *overrides: str):
    return run_cli("--config-dir", "configs", "--config-name", name, *CPU, *overrides, cwd=project)


@pytest.fixture(scope="module")
def trained_vae(project):
    """Example 1 trained briefly (without the mismatched input_dim): the checkpoint the other examples use."""
    result = vaesae(project, "train_vae", "~mlflow", "~model.params.input_dim", *QUICK_VAE)
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "experiments/vae/baseline/checkpoints/best_model.pt"


def test_example1_input_dim_mismatch_is_reported_with_both_numbers(project):
    result = vaesae(project, "train_vae", "~mlflow", "dry_run=true")
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "model.params.input_dim" in output and "784" in output and "5 input features" in output
    assert "Traceback" not in output


def test_example1_dry_run_passes_without_input_dim(project):
    result = vaesae(project, "train_vae", "~mlflow", "~model.params.input_dim", "dry_run=true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run: task=train" in result.stdout and "parameters" in result.stdout
    assert not (project / "experiments/vae/baseline/checkpoints").exists()


def test_example3_debug_dry_run(project):
    result = vaesae(project, "debug_vae", "dry_run=true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "10 batches/epoch" in result.stdout


def test_documented_optimizer_values_are_typed(project, monkeypatch):
    monkeypatch.chdir(project)
    cfg = OmegaConf.load(DOCS / "train_vae.yaml")
    cfg.train.optimizer_config = OmegaConf.create(
        "optimizer: Adam\nlearning_rate: 0.001\nweight_decay: 0.0001\nbetas: [0.9, 0.999]\neps: 1e-08\namsgrad: false\n"
    )
    cfg.experiment.device = "cpu"
    typed = load_config(cfg)
    options = typed.train.optimizer_config
    assert isinstance(options.eps, float) and options.eps == 1e-08
    assert all(isinstance(b, float) for b in options.betas)
    assert options.amsgrad is False


@pytest.mark.slow
def test_example2_sae_dry_run(project, trained_vae):
    extract = vaesae(project, "extract_embeddings", "task=extract")
    assert extract.returncode == 0, extract.stdout + extract.stderr
    result = vaesae(project, "train_sae", "~mlflow", "dry_run=true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SAE" in result.stdout


@pytest.mark.parametrize("name,task", [("extract_embeddings", "extract"), ("predict", "predict")])
def test_extract_and_predict_dry_runs(project, trained_vae, name, task):
    result = vaesae(project, name, f"task={task}", "dry_run=true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"dry run: task={task}" in result.stdout and str(trained_vae.name) in result.stdout


@pytest.mark.slow
def test_documented_chain_end_to_end(project, trained_vae):
    """train VAE (Example 1) -> extract -> train SAE (Example 2) -> predict, as documented."""
    extract = vaesae(project, "extract_embeddings", "task=extract")
    assert extract.returncode == 0, extract.stdout + extract.stderr
    embeddings = {s: np.load(project / f"experiments/vae/baseline/embeddings/{s}_embeddings.npy") for s in ("train", "val", "test")}
    assert [e.shape for e in embeddings.values()] == [(3000, 32), (1000, 32), (1000, 32)]

    sae = vaesae(project, "train_sae", "~mlflow", "train.epochs=3", "val.frequency=1")
    assert sae.returncode == 0, sae.stdout + sae.stderr
    assert (project / "experiments/sae/baseline/checkpoints/best_model.pt").is_file()

    predict = vaesae(project, "predict", "task=predict")
    assert predict.returncode == 0, predict.stdout + predict.stderr
    out = project / "experiments/vae/baseline/predictions"
    assert np.load(out / "test_predictions.npy").shape == (1000, 5)
    metrics = json.loads((out / "test_predictions_metrics.json").read_text())
    assert metrics["test_loss"] > 0 and "test_accuracy_channel" in metrics
