"""The packaged default config through the real CLI: train, extract, predict, SAE."""
import json

import numpy as np
import pytest

from tests.conftest import FAST_TRAIN


def test_help_and_cfg_job(cli):
    assert "Configuration groups" in cli("--help").stdout
    job = cli("--cfg", "job")
    assert job.returncode == 0 and "class: VAE" in job.stdout
    sae = cli("model=sae", "--cfg", "job")
    assert sae.returncode == 0 and "class: SAE" in sae.stdout and "EmbeddingDataLoader" in sae.stdout


def test_default_chain_vae_then_sae(cli, workdir):
    assert cli(*FAST_TRAIN).returncode == 0
    run = workdir / "experiments/vae/demo"
    assert (run / "checkpoints/best_model.pt").is_file()
    assert (run / "config.yaml").is_file()
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and "val_loss" in json.loads(lines[-1])

    extract = cli("task=extract", "experiment.device=cpu")
    assert extract.returncode == 0, extract.stdout + extract.stderr
    embeddings = np.load(run / "embeddings/val_embeddings.npy")
    assert embeddings.shape == (1000, 16) and embeddings.dtype == np.float32

    predict = cli("task=predict", "experiment.device=cpu")
    assert predict.returncode == 0, predict.stdout + predict.stderr
    metrics = json.loads((run / "predictions/test_predictions_metrics.json").read_text())
    assert {"test_loss", "test_kl_loss", "test_accuracy_channel"} <= set(metrics)

    sae = cli("model=sae", *FAST_TRAIN)
    assert sae.returncode == 0, sae.stdout + sae.stderr
    assert (workdir / "experiments/sae/demo/checkpoints/best_model.pt").is_file()
