"""Model quality at the packaged defaults: ``python -m benchmarks.quality``.

Trains the VAE on diamonds, the demo transactions and a planted table, and the
SAE on planted sparse directions, all through the real CLI with nothing but the
data settings changed, then prints a Markdown report and writes it to
``benchmarks/QUALITY.md``. Needs the ``bench`` extra (scikit-learn for the probe).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.machine import load_average
from benchmarks.quality_data import TABLES
from benchmarks.quality_sae import SAEScore, score_sae
from benchmarks.quality_vae import VAEScore, score_table

RESULTS = Path(__file__).resolve().parent / "QUALITY.md"
DEFAULT_CACHE = Path.home() / ".cache" / "vaesae" / "quality"


def vae_section(score: VAEScore) -> str:
    lines = [
        f"### {score.table}", "",
        f"Active latent units: {score.active_units:g} of {score.latent_dim}. Linear probe for `{score.probe_column}` "
        f"(VAE trained without it), test accuracy: embeddings {score.probe_embeddings:.3f}, raw columns "
        f"{score.probe_raw:.3f} ({score.probe_embeddings / score.probe_raw:.2f}×).", "",
        "| column | metric | VAE | baseline | better by |", "|---|---|---:|---:|---:|",
    ]
    for column in score.columns:
        baseline = "mean" if column.kind == "rmse" else "mode"
        lines.append(f"| {column.column} | {column.kind} (vs {baseline}) | {column.model:.4g} | {column.baseline:.4g} "
                     f"| {column.ratio:.2f}× |")
    return "\n".join(lines)


def sae_section(score: SAEScore) -> str:
    return "\n".join([
        "### SAE on planted directions", "",
        f"d=32, {score.directions} directions, planted L0 {score.planted_l0:.2f}; dictionary {score.features}, k={score.k}.", "",
        "| directions recovered (cos > 0.9) | L0 | FVU | dead fraction |", "|---:|---:|---:|---:|",
        f"| {score.recovered}/{score.directions} | {score.l0:.2f} | {score.fvu:.3f} | {score.dead_fraction:.1%} |",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the tables are written once")
    parser.add_argument("--only", nargs="+", choices=[*TABLES, "sae"], default=[*TABLES, "sae"])
    args = parser.parse_args(argv)
    started, load_before = time.perf_counter(), load_average()
    sections = []
    with tempfile.TemporaryDirectory(prefix="vaesae-quality-") as scratch:
        for name in args.only:
            run_root = Path(scratch) / name
            run_root.mkdir()
            if name == "sae":
                sections.append(sae_section(score_sae(run_root)))
            else:
                sections.append(vae_section(score_table(TABLES[name](args.cache), run_root)))
            print(sections[-1] + "\n", flush=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = (f"Run: `python -m benchmarks.quality` on {stamp}, {(time.perf_counter() - started) / 60:.1f} min; "
              f"load average before {load_before}, after {load_average()}. Packaged defaults, test splits.")
    RESULTS.write_text("# Model quality\n\n" + header + "\n\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
