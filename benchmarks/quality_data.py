"""The tables the quality benchmark trains on: diamonds, the demo transactions, a planted table.

Each table is written once into a cache folder as ``train.csv``, ``val.csv``,
``test.csv`` and ``cardinalities.json`` (the layout every vaesae config reads).
Diamonds is not part of the repository: it is read at benchmark time from the
``plotnine`` wheel, which bundles it as ``plotnine/data/diamonds.csv``.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SPLITS = ("train", "val", "test")
DIAMONDS_MEMBER = "plotnine/data/diamonds.csv"


@dataclass
class Table:
    """A table on disk, the columns the VAE reconstructs, and the column the probe predicts."""

    name: str
    folder: Path
    numerical: list[str]
    categorical: list[str]
    probe: str

    def path(self, split: str) -> Path:
        return self.folder / f"{split}.csv"

    @property
    def cardinalities(self) -> Path:
        return self.folder / "cardinalities.json"

    def without_probe(self) -> "Table":
        """The same table with the probe's column left out of the model's inputs."""
        return Table(
            f"{self.name}-probe", self.folder,
            [c for c in self.numerical if c != self.probe], [c for c in self.categorical if c != self.probe], self.probe,
        )


def write_splits(frame: pd.DataFrame, categorical: list[str], folder: Path, seed: int) -> None:
    """Shuffle ``frame`` into 80/10/10 train/val/test CSVs with a cardinalities file of every label seen."""
    folder.mkdir(parents=True, exist_ok=True)
    order = np.random.default_rng(seed).permutation(len(frame))
    bounds = [0, int(0.8 * len(frame)), int(0.9 * len(frame)), len(frame)]
    for split, start, stop in zip(SPLITS, bounds[:-1], bounds[1:]):
        frame.iloc[order[start:stop]].to_csv(folder / f"{split}.csv", index=False, lineterminator="\n")
    labels = {c: {label: code for code, label in enumerate(sorted(frame[c].astype(str).unique()))} for c in categorical}
    (folder / "cardinalities.json").write_text(json.dumps(labels, indent=2) + "\n", encoding="utf-8")


def is_written(folder: Path) -> bool:
    return all((folder / f"{split}.csv").is_file() for split in SPLITS) and (folder / "cardinalities.json").is_file()


def fetch_diamonds_csv(target: Path) -> None:
    """Download the ``plotnine`` wheel (no dependencies) and copy its diamonds CSV to ``target``."""
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "plotnine", "--no-deps", "--quiet", "-d", download], check=True,
        )
        wheel = next(Path(download).glob("plotnine-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            target.write_bytes(archive.read(DIAMONDS_MEMBER))


def diamonds(cache: Path) -> Table:
    """53,940 diamonds: 7 numerical columns (carat, depth, table, price, x, y, z) and 3 graded labels."""
    folder = cache / "diamonds"
    categorical = ["cut", "color", "clarity"]
    if not is_written(folder):
        raw = cache / "diamonds.csv"
        if not raw.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            fetch_diamonds_csv(raw)
        write_splits(pd.read_csv(raw), categorical, folder, seed=0)
    return Table("diamonds", folder, ["carat", "depth", "table", "price", "x", "y", "z"], categorical, probe="cut")


def demo(cache: Path) -> Table:
    """The bundled synthetic card transactions, at the size ``python -m vaesae`` trains on."""
    from vaesae.data.demo import DEMO_CATEGORICAL, DEMO_NUMERICAL, write_demo_data

    folder = cache / "demo"
    if not is_written(folder):
        write_demo_data(folder)
    return Table("demo", folder, list(DEMO_NUMERICAL), list(DEMO_CATEGORICAL), probe="channel")


def planted_frame(rows: int, seed: int) -> pd.DataFrame:
    """A table whose structure is known: ``group`` fixes four numerical columns up to small noise,
    two more are independent noise, and ``label`` is a noisy threshold of a linear score of the group
    centre and one noise column."""
    rng = np.random.default_rng(seed)
    groups, columns = 12, 4
    centres = np.random.default_rng(1234).normal(0.0, 2.0, size=(groups, columns))
    group = rng.integers(0, groups, size=rows)
    values = centres[group] + rng.normal(0.0, 0.1, size=(rows, columns))
    noise = rng.normal(0.0, 1.0, size=(rows, 2))
    score = centres[group, 0] - centres[group, 1] + noise[:, 0] + rng.normal(0.0, 0.5, size=rows)
    frame = pd.DataFrame(values, columns=[f"v{i}" for i in range(columns)])
    frame[["u0", "u1"]] = noise
    frame["group"] = [f"g{g:02d}" for g in group]
    frame["label"] = np.where(score > 0, "yes", "no")
    return frame


def planted(cache: Path) -> Table:
    folder = cache / "planted"
    if not is_written(folder):
        write_splits(planted_frame(20000, seed=7), ["group", "label"], folder, seed=0)
    return Table(
        "planted", folder, ["v0", "v1", "v2", "v3", "u0", "u1"], ["group", "label"], probe="label",
    )


TABLES = {"diamonds": diamonds, "demo": demo, "planted": planted}
