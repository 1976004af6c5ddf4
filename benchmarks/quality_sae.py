"""The SAE at its packaged defaults (``model=sae``) on embeddings built from known sparse directions.

Rows are sparse non-negative combinations of 128 random unit directions in 32
dimensions (each direction active with probability 4/128, so about 4 per row,
coefficients uniform in [0.5, 2]) plus a little noise. A direction counts as
recovered when some decoder column has cosine similarity above 0.9 with it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmarks.subprocesses import cli_env, run_checked, vaesae_command

WIDTH, DIRECTIONS, ACTIVE_PER_ROW = 32, 128, 4
ROWS = {"train": 50_000, "val": 5_000, "test": 5_000}
RECOVERED_COSINE = 0.9


@dataclass
class SAEScore:
    recovered: int
    directions: int
    planted_l0: float
    l0: float
    fvu: float
    dead_fraction: float
    features: int
    k: int | None


def planted_directions(seed: int = 0) -> np.ndarray:
    directions = np.random.default_rng(seed).normal(size=(DIRECTIONS, WIDTH))
    return directions / np.linalg.norm(directions, axis=1, keepdims=True)


def planted_rows(directions: np.ndarray, rows: int, seed: int) -> tuple[np.ndarray, float]:
    """Rows of sparse codes times ``directions`` plus noise, and the codes' mean L0."""
    rng = np.random.default_rng(seed)
    active = rng.random((rows, DIRECTIONS)) < ACTIVE_PER_ROW / DIRECTIONS
    codes = active * rng.uniform(0.5, 2.0, size=(rows, DIRECTIONS))
    x = codes @ directions + 0.01 * rng.normal(size=(rows, WIDTH))
    return x.astype(np.float32), float(active.sum(axis=1).mean())


def write_planted(folder: Path) -> tuple[np.ndarray, float]:
    folder.mkdir(parents=True, exist_ok=True)
    directions = planted_directions()
    planted_l0 = 0.0
    for seed, (split, rows) in enumerate(ROWS.items(), start=1):
        x, l0 = planted_rows(directions, rows, seed)
        np.save(folder / f"{split}.npy", x)
        planted_l0 = l0 if split == "train" else planted_l0
    return directions, planted_l0


def decoder_directions(checkpoint: Path) -> np.ndarray:
    """The decoder's unit-norm columns, as rows, from a checkpoint."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model_state"]
    weight = state["decoder.parametrizations.weight.original"].double().numpy()
    return (weight / np.linalg.norm(weight, axis=0, keepdims=True)).T


def score_sae(run_root: Path) -> SAEScore:
    """Train ``model=sae`` on planted rows with no other setting changed, then measure it on the test split."""
    data = run_root / "planted_embeddings"
    directions, planted_l0 = write_planted(data)
    overrides = [
        "model=sae", f"experiment.output_dir={run_root}", "experiment.name=planted", "report.figures=false",
        *(f"{split}.data_path={data / f'{split}.npy'}" for split in ROWS),
    ]
    env = cli_env(threads=1)
    run_checked(vaesae_command(*overrides), cwd=run_root, env=env)
    run_checked(vaesae_command(*overrides, "task=predict"), cwd=run_root, env=env)
    run_dir = run_root / "planted"
    metrics = json.loads(next((run_dir / "predictions").glob("*_metrics.json")).read_text())
    checkpoint = run_dir / "checkpoints" / "best_model.pt"
    learned = decoder_directions(checkpoint)
    cosine = directions @ learned.T
    params = torch.load(checkpoint, map_location="cpu", weights_only=True)["model_params"]
    return SAEScore(
        recovered=int((cosine.max(axis=1) > RECOVERED_COSINE).sum()), directions=DIRECTIONS, planted_l0=planted_l0,
        l0=metrics["test_l0"], fvu=metrics["test_fvu"], dead_fraction=metrics["test_dead_fraction"],
        features=params["hidden_dim"], k=params["k"],
    )
