"""Training through the real CLI: determinism, checkpoint strategies, early stopping, quality."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FAST_TRAIN
from vaesae.engine.checkpoint_io import load_checkpoint
from vaesae.engine.metrics_file import read_metrics


def train(cli, name: str, *overrides: str):
    result = cli(*FAST_TRAIN, f"experiment.name={name}", *overrides)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def run_folder(workdir, name: str):
    return workdir / "experiments/vae" / name


def without_timing(rows):
    return [{k: v for k, v in row.items() if k != "rows_per_s"} for row in rows]


@pytest.mark.slow
def test_same_seed_gives_identical_metrics(cli, workdir):
    train(cli, "a")
    train(cli, "b")
    train(cli, "c", "experiment.seed=7")
    a, b, c = (read_metrics(run_folder(workdir, n) / "metrics.jsonl") for n in "abc")
    assert without_timing(a) == without_timing(b)
    assert without_timing(a) != without_timing(c)
    assert {"train_loss", "val_loss", "val_kl_loss", "lr", "epoch", "rows_per_s", "val_active_units"} <= set(a[-1])


@pytest.mark.parametrize(
    "strategy,files",
    [
        ("best", {"best_model.pt"}),
        ("last", {"last_model.pt"}),
        ("all", {"best_model.pt", "last_model.pt", "epoch_1.pt", "epoch_2.pt", "epoch_3.pt"}),
    ],
)
@pytest.mark.slow
def test_save_strategy_leaves_exactly_its_files(cli, workdir, strategy, files):
    train(cli, strategy, f"checkpoint.save_strategy={strategy}", "train.epochs=3")
    folder = run_folder(workdir, strategy) / "checkpoints"
    assert {p.name for p in folder.glob("*.pt")} == files
    for name in files:
        payload = load_checkpoint(folder / name)
        assert {"model_state", "optimizer_state", "config", "encoding", "model_class", "model_params", "metrics"} <= set(payload)
    if strategy == "all":
        assert load_checkpoint(folder / "epoch_2.pt")["epoch"] == 2
        assert load_checkpoint(folder / "last_model.pt")["epoch"] == 3


@pytest.mark.slow
def test_early_stopping_counts_validations_without_improvement(cli, workdir):
    result = train(
        cli, "stop", "train.epochs=10", "train.optimizer_config.optimizer=SGD",
        "train.optimizer_config.learning_rate=1e-12", "val.early_stopping.patience=2",
    )
    assert len(read_metrics(run_folder(workdir, "stop") / "metrics.jsonl")) == 3
    assert "early stopping at epoch 3" in result.stdout + result.stderr


@pytest.mark.slow
def test_validation_every_n_epochs_and_patience_in_validations(cli, workdir):
    train(cli, "freq", "train.epochs=4", "val.frequency=2")
    rows = read_metrics(run_folder(workdir, "freq") / "metrics.jsonl")
    assert ["val_loss" in r for r in rows] == [False, True, False, True]


@pytest.mark.slow
def test_train_metric_without_val_section(cli, workdir):
    train(cli, "noval", "~val", "checkpoint.metric=train_loss")
    payload = load_checkpoint(run_folder(workdir, "noval") / "checkpoints/best_model.pt")
    assert "train_loss" in payload["metrics"] and not any(k.startswith("val_") for k in payload["metrics"])


@pytest.mark.slow
def test_vae_beats_the_mean_and_mode_baseline(cli, workdir, demo_dir):
    train(cli, "quality", "train.epochs=15", "val.early_stopping=null")
    metrics = read_metrics(run_folder(workdir, "quality") / "metrics.jsonl")[-1]
    train_frame, val_frame = pd.read_csv(demo_dir / "train.csv"), pd.read_csv(demo_dir / "val.csv")
    cardinalities = json.loads((demo_dir / "cardinalities.json").read_text())
    for column in ("log_amount_normalized", "transaction_hour"):
        baseline = np.sqrt(((val_frame[column] - train_frame[column].mean()) ** 2).mean())
        assert metrics[f"val_rmse_{column}"] < baseline, column
    for column in cardinalities:
        baseline = (val_frame[column] == train_frame[column].mode()[0]).mean()
        assert metrics[f"val_accuracy_{column}"] > baseline, column
