"""task=extract and task=predict on real checkpoints, and the whole chain script."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import FAST_TRAIN, REPO, cli_env
from vaesae.data.encoding import ColumnEncoding
from vaesae.data.tabular import TabularDataLoader
from vaesae.engine.checkpoint_io import load_checkpoint
from vaesae.tasks.parts import build_model

CPU = "experiment.device=cpu"


@pytest.fixture
def trained(cli, workdir):
    """A VAE trained for 3 epochs with every epoch kept."""
    result = cli(*FAST_TRAIN, "train.epochs=3", "checkpoint.save_strategy=all", "val.early_stopping=null")
    assert result.returncode == 0, result.stdout + result.stderr
    return workdir / "experiments/vae/demo"


def encode_directly(checkpoint, data_path) -> np.ndarray:
    payload = load_checkpoint(checkpoint)
    encoding = ColumnEncoding.from_state(payload["encoding"])
    model = build_model(payload["model_class"], payload["model_params"], encoding)
    model.load_state_dict(payload["model_state"])
    model.eval()
    loader = TabularDataLoader(data_path, encoding.columns(), batch_size=10_000, shuffle=False).use_encoding(encoding)
    with torch.no_grad():
        return model.encode(loader.tensors).numpy()


@pytest.mark.slow
def test_extracted_embeddings_equal_model_encode_and_are_deterministic(cli, trained, demo_dir):
    assert cli("task=extract", CPU, "val.loader_params.batch_size=333").returncode == 0
    path = trained / "embeddings/val_embeddings.npy"
    first = path.read_bytes()
    embeddings = np.load(path)
    assert embeddings.shape == (1000, 16) and embeddings.dtype == np.float32
    expected = encode_directly(trained / "checkpoints/best_model.pt", demo_dir / "val.csv")
    np.testing.assert_allclose(embeddings, expected, rtol=1e-5, atol=1e-6)
    assert cli("task=extract", CPU, "val.loader_params.batch_size=333").returncode == 0
    assert path.read_bytes() == first


def test_epoch_n_loading_picks_that_epoch(cli, trained, demo_dir):
    result = cli("task=extract", CPU, "checkpoint.load_strategy=epoch_1", "~train", "~test")
    assert result.returncode == 0, result.stdout + result.stderr
    embeddings = np.load(trained / "embeddings/val_embeddings.npy")
    np.testing.assert_allclose(embeddings, encode_directly(trained / "checkpoints/epoch_1.pt", demo_dir / "val.csv"), atol=1e-6)
    assert not np.allclose(embeddings, encode_directly(trained / "checkpoints/epoch_3.pt", demo_dir / "val.csv"), atol=1e-4)


@pytest.mark.slow
def test_checkpoint_path_forms(cli, trained):
    for path in (trained, trained / "checkpoints", trained / "checkpoints/last_model.pt"):
        result = cli("task=extract", CPU, f"checkpoint.path={path}", "~train", "~val")
        assert result.returncode == 0, result.stdout + result.stderr
    missing = cli("task=extract", CPU, "checkpoint.load_strategy=epoch_9")
    assert missing.returncode == 2 and "epoch_9" in missing.stdout and "epoch_1.pt" in missing.stdout


def test_mismatched_model_class_is_refused(cli, trained):
    result = cli("task=extract", CPU, "model=sae", f"checkpoint.path={trained}")
    assert result.returncode == 2
    assert "model.class: 'SAE' but the checkpoint" in result.stdout and "holds a 'VAE' model" in result.stdout


@pytest.mark.slow
def test_predictions_table_decodes_labels_and_units(cli, trained, demo_dir):
    result = cli("task=predict", CPU)
    assert result.returncode == 0, result.stdout + result.stderr
    table = pd.read_csv(trained / "predictions/test_predictions.csv")
    original = pd.read_csv(demo_dir / "test.csv")
    assert list(table.columns) == list(original.columns)
    assert len(table) == len(original) == len(np.load(trained / "predictions/test_predictions.npy"))
    codes = np.load(trained / "predictions/test_predictions.npy")
    encoding = ColumnEncoding.from_state(load_checkpoint(trained / "checkpoints/best_model.pt")["encoding"])
    for i, column in enumerate(encoding.categorical):
        labels = encoding.labels(column)
        assert table[column].tolist() == [labels[int(c)] for c in codes[:, 3 + i]]
        assert set(table[column]) <= set(original[column])
    np.testing.assert_allclose(table[encoding.numerical].to_numpy(), encoding.unscale(codes[:, :3]), rtol=1e-5)
    assert abs(table["transaction_hour"].mean() - original["transaction_hour"].mean()) < 3
    assert '"test_loss"' in result.stdout


@pytest.mark.slow
def test_sae_features_are_sparse_and_non_negative(cli, trained, workdir):
    assert cli("task=extract", CPU).returncode == 0
    sae = cli(*FAST_TRAIN, "model=sae", "model.params.activation=topk", "model.params.k=4")
    assert sae.returncode == 0, sae.stdout + sae.stderr
    assert cli("model=sae", "task=extract", CPU).returncode == 0
    features = np.load(workdir / "experiments/sae/demo/embeddings/val_embeddings.npy")
    assert features.shape == (1000, 64) and (features >= 0).all()
    assert ((features > 0).sum(axis=1) <= 4).all()
    predict = cli("model=sae", "task=predict", CPU)
    assert predict.returncode == 0 and "test_fvu" in predict.stdout


@pytest.mark.slow
def test_pipeline_script_runs_the_chain_from_nothing(workdir):
    quick = ["train.epochs=2", "val.frequency=1", CPU, "train.loader_params.num_workers=0", "val.loader_params.num_workers=0"]
    env = cli_env(PYTHON=sys.executable)
    result = subprocess.run(["bash", str(REPO / "multirun_examples/pipeline.sh"), *quick], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert np.load(workdir / "experiments/sae/baseline/embeddings/test_embeddings.npy").shape == (1000, 16)
    assert (workdir / "experiments/vae/baseline/predictions/test_predictions.csv").is_file()
