"""The optimizer step's share of training, by implementation: the measurement behind vaesae's fused default.

``python -m benchmarks.optimizer_step`` builds the VAE on the demo schema at the
default size and at TVAE's size, computes one batch's gradients, and times the
configured optimizer's step (Adam) as torch builds it by default (one tensor at a
time on the CPU), with ``foreach=True`` and with ``fused=True`` (what
``task=train`` builds), interleaved. For scale it also times a whole training
step (forward, backward, default step) at the same size. Threads: what
``experiment.threads: auto`` picks for each size.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.datasets import demo_splits
from benchmarks.machine import load_average
from benchmarks.measure import interleaved, median
from benchmarks.parts import LOSS_PARAMS, OPTIMIZER, loaders
from vaesae.engine.threads import choose_threads, current_limits, step_work
from vaesae.losses.vae import VAELoss
from vaesae.models.vae import VAE

SIZES = (("default", [64, 32], 8, 256), ("TVAE-sized", [128, 128], 128, 500))
IMPLEMENTATIONS = {"torch default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}
STEPS = 200


def optimizer_seconds(model: VAE, options: dict) -> float:
    """Seconds per step of the configured optimizer over the gradients already in ``model``."""
    settings = dict(OPTIMIZER)
    optimizer_cls = getattr(torch.optim, settings.pop("optimizer"))
    optimizer = optimizer_cls(model.parameters(), lr=settings.pop("learning_rate") * 1e-6, **settings, **options)
    optimizer.step()
    started = time.perf_counter()
    for _ in range(STEPS):
        optimizer.step()
    return (time.perf_counter() - started) / STEPS


def training_step_seconds(model: VAE, batch: dict[str, torch.Tensor]) -> float:
    """Seconds per forward, backward and default optimizer step on ``batch``."""
    loss, optimizer = VAELoss(**LOSS_PARAMS), torch.optim.Adam(model.parameters(), lr=1e-9)
    started = time.perf_counter()
    for _ in range(STEPS // 4):
        value = loss(batch, model(batch))["loss"]
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
    return (time.perf_counter() - started) / (STEPS // 4)


def measure(repeats: int) -> list[str]:
    lines = [f"load average {load_average()}",
             "| model | threads | whole step (torch default) | " + " | ".join(f"step: {name}" for name in IMPLEMENTATIONS) + " |",
             "|---|---|---|" + "---|" * len(IMPLEMENTATIONS)]
    with tempfile.TemporaryDirectory() as scratch:
        data = demo_splits(Path(scratch) / "demo", 20_000, 2_000)
        for name, hidden, latent, batch_size in SIZES:
            parts = loaders(data, batch_size)
            torch.manual_seed(0)
            model = VAE(parts.encoding, latent_dim=latent, hidden_dims=hidden)
            threads = choose_threads("auto", step_work(model, batch_size), current_limits(measure_idle=True)).threads
            torch.set_num_threads(threads)
            batch = {key: tensor[:batch_size] for key, tensor in parts.train.tensors.items()}
            whole = median([training_step_seconds(model, batch) for _ in range(repeats)])
            VAELoss(**LOSS_PARAMS)(batch, model(batch))["loss"].backward()
            sides = {impl: (lambda options=options: optimizer_seconds(model, options)) for impl, options in IMPLEMENTATIONS.items()}
            seconds = {impl: median(values) for impl, values in interleaved(sides, repeats).items()}
            cells = " | ".join(f"{seconds[impl] * 1e3:.2f} ms" for impl in IMPLEMENTATIONS)
            lines.append(f"| {name} ({hidden}, latent {latent}, batch {batch_size}) | {threads} | {whole * 1e3:.2f} ms | {cells} |")
            print(lines[-1], file=sys.stderr, flush=True)
    lines.append(f"load average after {load_average()}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.optimizer_step", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print("\n".join(measure(args.repeats)))


if __name__ == "__main__":
    main()
