"""vaesae side by side with SDV's TVAE (``ctgan.TVAE``): ``python -m benchmarks.tvae``.

The same generated table for both: the demo transactions plus ``merchant_id``,
a label column with 1,000 labels (each merchant type has its own 125, drawn
with a skew so a few merchants are common), 100,000 rows (``--rows``) of which
80,000 train and 20,000 are held out. The same model size as TVAE's defaults: latent 128,
hidden 128 x 128, batch 500, 11 epochs. Each side is timed as a user meets it,
from starting a fresh Python process to a saved model: ``python -m vaesae``
(no validation split, pictures off, since TVAE has neither) against a script
that reads the CSV with pandas, fits TVAE and saves it. The sides alternate.

Then both reconstruct the held-out rows through their posterior mean: vaesae
with ``task=predict`` (its metrics file), TVAE by running its encoder and
decoder on its own transform of the rows and inverting the transform without
sampling noise. TVAE keeps its encoder local to ``fit``, so the script keeps a
handle on the one it builds. Reported per column: RMSE in the column's units
(numerical) and accuracy (labels).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.datasets import SEED
from benchmarks.machine import load_average
from benchmarks.measure import interleaved, median, paired_ratio
from benchmarks.subprocesses import cli_env, run_checked, vaesae_command
from vaesae.data.demo import DEMO_CATEGORICAL, DEMO_NUMERICAL, MERCHANT_TYPES, demo_cardinalities, generate_transactions

ROWS, EPOCHS, BATCH, LATENT, HIDDEN = 100_000, 11, 500, 128, 128
PER_TYPE = 125  # merchants per merchant type: 8 types x 125 = 1,000 labels
CATEGORICAL = DEMO_CATEGORICAL + ["merchant_id"]

TVAE_SCRIPT = """
import sys, pickle
import pandas as pd
import ctgan.synthesizers.tvae as tvae

built = []
build = tvae.Encoder.__init__

def build_and_keep(self, *args, **kwargs):
    build(self, *args, **kwargs)
    built.append(self)

tvae.Encoder.__init__ = build_and_keep
train_path, model_path, categorical = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
frame = pd.read_csv(train_path)
model = tvae.TVAE(embedding_dim={latent}, compress_dims=({hidden}, {hidden}), decompress_dims=({hidden}, {hidden}),
                  batch_size={batch}, epochs={epochs}, enable_gpu=False)
model.fit(frame, discrete_columns=categorical)
model.kept_encoder = built[-1]
model.save(model_path)
""".format(latent=LATENT, hidden=HIDDEN, batch=BATCH, epochs=EPOCHS)


def write_table(folder: Path, rows: int) -> dict[str, Path]:
    """Train and held-out (the last fifth) CSVs and the cardinalities of every label column, ``merchant_id`` included."""
    frame = generate_transactions(rows, SEED + 7)
    rng = np.random.default_rng(SEED + 7)
    type_code = frame["merchant_type"].map({name: code for code, name in enumerate(MERCHANT_TYPES)}).to_numpy()
    within = np.minimum(rng.zipf(1.3, size=rows) - 1, PER_TYPE - 1)
    frame["merchant_id"] = [f"m{code * PER_TYPE + offset:04d}" for code, offset in zip(type_code, within)]
    cardinalities = demo_cardinalities()
    cardinalities["merchant_id"] = {f"m{index:04d}": index for index in range(len(MERCHANT_TYPES) * PER_TYPE)}
    paths = {"train": folder / "train.csv", "test": folder / "heldout.csv", "cardinalities": folder / "cardinalities.json"}
    held_out = rows // 5
    frame.iloc[:-held_out].to_csv(paths["train"], index=False)
    frame.iloc[-held_out:].to_csv(paths["test"], index=False)
    paths["cardinalities"].write_text(json.dumps(cardinalities))
    return paths


def vaesae_overrides(paths: dict[str, Path], out: Path) -> list[str]:
    return [
        f"experiment.output_dir={out}", "experiment.name=tvae_side", "experiment.device=cpu",
        f"data.columns.numerical=[{','.join(DEMO_NUMERICAL)}]", f"data.columns.categorical=[{','.join(CATEGORICAL)}]",
        f"data.cardinalities_path={paths['cardinalities']}", f"train.data_path={paths['train']}",
        f"test.data_path={paths['test']}", "~val", "checkpoint.metric=train_loss",
        f"model.params.latent_dim={LATENT}", f"model.params.hidden_dims=[{HIDDEN},{HIDDEN}]",
        f"train.loader_params.batch_size={BATCH}", f"train.epochs={EPOCHS}",
    ]


def vaesae_side(paths: dict[str, Path], root: Path, env: dict[str, str], found: dict):
    """Times training; leaves the held-out metrics of ``task=predict`` in ``found["vaesae"]``."""

    def run() -> float:
        out = Path(tempfile.mkdtemp(dir=root))
        started = time.perf_counter()
        run_checked(vaesae_command(*vaesae_overrides(paths, out), "report.figures=false"), root, env)
        seconds = time.perf_counter() - started
        run_checked(vaesae_command("task=predict", *vaesae_overrides(paths, out)), root, env)
        found["vaesae"] = json.loads((out / "tvae_side/predictions/test_predictions_metrics.json").read_text())
        return seconds

    return run


def tvae_side(paths: dict[str, Path], root: Path, env: dict[str, str], found: dict):
    """Times training; leaves the saved model's path in ``found["tvae"]``."""

    def run() -> float:
        model = Path(tempfile.mkdtemp(dir=root)) / "tvae.pkl"
        started = time.perf_counter()
        run_checked([sys.executable, "-c", TVAE_SCRIPT, str(paths["train"]), str(model), ",".join(CATEGORICAL)], root, env)
        found["tvae"] = model
        return time.perf_counter() - started

    return run


def tvae_reconstruction(model_path: Path, heldout: Path) -> dict[str, float]:
    """Per-column RMSE and accuracy of TVAE's posterior-mean reconstruction of the held-out rows."""
    import pandas as pd
    import torch
    from ctgan.synthesizers.tvae import TVAE

    model, frame = TVAE.load(model_path), pd.read_csv(heldout)
    with torch.no_grad():
        encoded = torch.from_numpy(model.transformer.transform(frame).astype("float32"))
        mean = model.kept_encoder.eval()(encoded)[0]
        decoded = torch.tanh(model.decoder.eval()(mean)[0]).numpy()
    rebuilt = model.transformer.inverse_transform(decoded, None)
    return column_scores(frame, rebuilt)


def column_scores(truth, rebuilt) -> dict[str, float]:
    scores = {f"rmse_{c}": float(np.sqrt(np.mean((rebuilt[c].to_numpy(float) - truth[c].to_numpy(float)) ** 2)))
              for c in DEMO_NUMERICAL}
    scores.update({f"accuracy_{c}": float(np.mean(rebuilt[c].astype(str).to_numpy() == truth[c].astype(str).to_numpy()))
                   for c in CATEGORICAL})
    return scores


def report(seconds: dict[str, list[float]], mine: dict[str, float], theirs: dict[str, float], before: str, rows: int) -> str:
    ratio = paired_ratio(seconds["vaesae"], seconds["tvae"])
    lines = [
        f"Load average before {before}, after {load_average()}; {len(seconds['vaesae'])} repeat(s), sides alternating.",
        "",
        "| | vaesae | TVAE | ratio (vaesae / TVAE) | target |",
        "|---|---|---|---|---|",
        f"| cold process to saved model, {rows - rows // 5:,} rows, {EPOCHS} epochs | {median(seconds['vaesae']):.1f} s "
        f"| {median(seconds['tvae']):.1f} s | {ratio:.2f} | ≤ 0.33 ({'met' if ratio <= 1 / 3 else 'missed'}) |",
    ]
    lines += [f"| held-out {name.replace('_', ' ', 1)} | {mine[f'test_{name}']:.4g} | {theirs[name]:.4g} | | |" for name in theirs]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tvae", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows of the table, a fifth of them held out")
    args = parser.parse_args(argv)
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="vaesae-tvae-") as scratch:
        root = Path(scratch)
        paths, env, found = write_table(root, args.rows), cli_env(), {}
        env.pop("OMP_NUM_THREADS", None)  # each side with the threads it picks by default
        sides = {"vaesae": vaesae_side(paths, root, env, found), "tvae": tvae_side(paths, root, env, found)}
        seconds = interleaved(sides, args.repeats, warmup=False)
        print(report(seconds, found["vaesae"], tvae_reconstruction(found["tvae"], paths["test"]), before, args.rows))


if __name__ == "__main__":
    main()
