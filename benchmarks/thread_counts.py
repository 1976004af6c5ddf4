"""Which intra-op thread count trains fastest, by model size: the measurement behind ``experiment.threads: auto``.

``python -m benchmarks.thread_counts`` trains the VAE on the demo schema for a
few hundred steps at every thread count from 1 to this machine's usable CPUs,
interleaved, for model sizes from the default to far larger ones, and prints
rows per second with the work of one step (multiply-adds of a forward pass).
``--busy`` runs one busy process per usable CPU alongside, as on a shared machine.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.busy import busy_cores
from benchmarks.datasets import demo_splits
from benchmarks.machine import load_average
from benchmarks.measure import interleaved, median
from benchmarks.parts import loaders
from vaesae.engine.threads import current_limits, step_work
from vaesae.losses.vae import VAELoss
from vaesae.models.vae import VAE

SIZES = (([64, 32], 8, 256), ([256, 128], 32, 128), ([128, 128], 128, 500), ([256, 128], 32, 1024), ([1024, 1024], 128, 1024))
STEPS = 30


def every_cpu() -> int:
    """The CPUs this process may use, however busy other work keeps them."""
    return current_limits(measure_idle=False).usable


def steps_seconds(model: VAE, tensors: dict[str, torch.Tensor], batch_size: int, threads: int) -> float:
    """Seconds of ``STEPS`` training steps (forward, backward, Adam) at ``threads`` intra-op threads."""
    torch.set_num_threads(threads)
    optimizer, loss = torch.optim.Adam(model.parameters(), lr=1e-3), VAELoss()
    rows = len(tensors["numerical"])
    started = time.perf_counter()
    for step in range(STEPS):
        start = (step * batch_size) % max(rows - batch_size, 1)
        batch = {name: tensor[start:start + batch_size] for name, tensor in tensors.items()}
        value = loss(batch, model(batch))["loss"]
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
    return time.perf_counter() - started


def measure(sizes, repeats: int) -> list[str]:
    cpus = every_cpu()
    lines = [f"usable CPUs {cpus}; load average {load_average()}",
             "| hidden | latent | batch | multiply-adds per step | " + " | ".join(f"{t} thread(s)" for t in range(1, cpus + 1)) + " | fastest |",
             "|---|---|---|---|" + "---|" * cpus + "---|"]
    with tempfile.TemporaryDirectory() as scratch:
        data = demo_splits(Path(scratch) / "demo", 20_000, 2_000)
        for hidden, latent, batch_size in sizes:
            parts = loaders(data, batch_size)
            torch.manual_seed(0)
            model = VAE(parts.encoding, latent_dim=latent, hidden_dims=hidden)
            sides = {t: (lambda t=t: steps_seconds(model, parts.train.tensors, batch_size, t)) for t in range(1, cpus + 1)}
            seconds = interleaved(sides, repeats)
            rates = {t: STEPS * batch_size / median(s) for t, s in seconds.items()}
            work = step_work(model, batch_size)
            cells = " | ".join(f"{rates[t]:,.0f} rows/s" for t in rates)
            lines.append(f"| {hidden} | {latent} | {batch_size} | {work:,} | {cells} | {max(rates, key=rates.get)} |")
            print(lines[-1], file=sys.stderr, flush=True)
    lines.append(f"load average after {load_average()}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.thread_counts", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--largest", type=int, default=len(SIZES), help="only the last N model sizes")
    parser.add_argument("--busy", action="store_true", help="one busy process per usable CPU alongside")
    args = parser.parse_args(argv)
    with busy_cores(every_cpu() if args.busy else 0):
        print("\n".join(measure(SIZES[-args.largest:], args.repeats)))


if __name__ == "__main__":
    main()
