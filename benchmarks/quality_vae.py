"""The VAE at its packaged defaults on one table: reconstruction per column, active units, a probe.

Everything runs through the real CLI (``python -m vaesae``, then ``task=predict``
and ``task=extract``) with only the data settings overridden. Baselines come
from the training split: its mean for a numerical column (RMSE), its most
frequent label for a categorical one (accuracy).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from benchmarks.quality_data import Table
from benchmarks.subprocesses import cli_env, run_checked, vaesae_command


@dataclass
class ColumnScore:
    column: str
    kind: str  # "rmse" or "accuracy"
    model: float
    baseline: float

    @property
    def ratio(self) -> float:
        """How many times better than the baseline (above 1 beats it)."""
        if self.kind == "rmse":
            return self.baseline / self.model if self.model > 0 else float("inf")
        return self.model / self.baseline if self.baseline > 0 else float("inf")


@dataclass
class VAEScore:
    table: str
    columns: list[ColumnScore]
    active_units: float
    latent_dim: int
    probe_column: str = ""
    probe_embeddings: float = float("nan")
    probe_raw: float = float("nan")


def data_overrides(table: Table, run_root: Path) -> list[str]:
    return [
        f"experiment.output_dir={run_root}",
        f"experiment.name={table.name}",
        f"data.columns.numerical=[{','.join(table.numerical)}]",
        f"data.columns.categorical=[{','.join(table.categorical)}]",
        f"data.cardinalities_path={table.cardinalities}",
        *(f"{split}.data_path={table.path(split)}" for split in ("train", "val", "test")),
        "report.figures=false",
    ]


def run_vaesae(table: Table, run_root: Path, *extra: str) -> Path:
    """Run ``python -m vaesae`` on ``table`` with ``extra`` arguments; returns the run folder."""
    run_checked(vaesae_command(*data_overrides(table, run_root), *extra), cwd=run_root, env=cli_env(threads=1))
    return run_root / table.name


def baseline_scores(table: Table, metrics: dict[str, float]) -> list[ColumnScore]:
    train, test = pd.read_csv(table.path("train")), pd.read_csv(table.path("test"))
    scores = []
    for column in table.numerical:
        baseline = float(np.sqrt(((test[column] - train[column].mean()) ** 2).mean()))
        scores.append(ColumnScore(column, "rmse", metrics[f"test_rmse_{column}"], baseline))
    for column in table.categorical:
        mode = train[column].astype(str).mode()[0]
        baseline = float((test[column].astype(str) == mode).mean())
        scores.append(ColumnScore(column, "accuracy", metrics[f"test_accuracy_{column}"], baseline))
    return scores


def reconstruction(table: Table, run_root: Path) -> VAEScore:
    """Train at the defaults, predict the test split, and score every column against its baseline."""
    run_dir = run_vaesae(table, run_root)
    run_vaesae(table, run_root, "task=predict")
    metrics = json.loads(next((run_dir / "predictions").glob("*_metrics.json")).read_text())
    latent_dim = int(OmegaConf.load(run_dir / "config.yaml").model.params.latent_dim)
    return VAEScore(table.name, baseline_scores(table, metrics), metrics["test_active_units"], latent_dim)


def raw_features(table: Table, train: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """The model's input columns as a linear model sees them: standardised numbers and one-hot labels."""
    numbers = (frame[table.numerical] - train[table.numerical].mean()) / train[table.numerical].std()
    one_hot = [
        (frame[c].astype(str).to_numpy()[:, None] == np.sort(train[c].astype(str).unique())[None, :]).astype(float)
        for c in table.categorical
    ]
    return np.hstack([numbers.to_numpy(), *one_hot])


def probe_accuracy(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_x)
    model = LogisticRegression(max_iter=2000).fit(scaler.transform(train_x), train_y)
    return float(model.score(scaler.transform(test_x), test_y))


def probe(table: Table, run_root: Path) -> tuple[float, float]:
    """Accuracy of a linear probe for the held-out column: from the embeddings, from the raw columns.

    The VAE is trained without the probe's column, so the embeddings only know
    what the other columns say about it.
    """
    inputs = table.without_probe()
    run_dir = run_vaesae(inputs, run_root)
    run_vaesae(inputs, run_root, "task=extract")
    train, test = pd.read_csv(table.path("train")), pd.read_csv(table.path("test"))
    target_train, target_test = train[table.probe].astype(str), test[table.probe].astype(str)
    embedded = [np.load(run_dir / "embeddings" / f"{split}_embeddings.npy") for split in ("train", "test")]
    from_embeddings = probe_accuracy(embedded[0], target_train, embedded[1], target_test)
    raw = [raw_features(inputs, train, frame) for frame in (train, test)]
    return from_embeddings, probe_accuracy(raw[0], target_train, raw[1], target_test)


def score_table(table: Table, run_root: Path) -> VAEScore:
    score = reconstruction(table, run_root)
    score.probe_column = table.probe
    score.probe_embeddings, score.probe_raw = probe(table, run_root)
    return score
