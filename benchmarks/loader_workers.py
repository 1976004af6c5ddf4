"""Loader workers on in-memory tensors: ``python -m benchmarks.loader_workers``.

Times the batches of a few epochs as the documented Example 1 makes them
(20,000 demo rows, batch 128, shuffled, ``num_workers: 4``): vaesae's loader,
which slices in this process whatever ``num_workers`` says, against a
``torch.utils.data.DataLoader`` with 4 workers over the same batches (what
vaesae did before), interleaved.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from torch.utils.data import DataLoader, Dataset

from benchmarks.datasets import COLUMNS, demo_splits
from benchmarks.machine import load_average
from benchmarks.measure import interleaved, median, paired_ratio
from vaesae.data.batching import select
from vaesae.data.tabular import TabularDataLoader

EPOCHS, WORKERS, BATCH = 3, 4, 128


class BatchesOf(Dataset):
    """Whole batches as items: the same slices, served by worker processes."""

    def __init__(self, loader: TabularDataLoader, epoch: int):
        self.tensors, self.batches = loader.tensors, loader.batches_for_epoch(epoch)

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, position: int):
        return select(self.tensors, self.batches[position])


def vaesae_epochs(loader: TabularDataLoader) -> float:
    started = time.perf_counter()
    for epoch in range(EPOCHS):
        for _ in loader.epoch(epoch):
            pass
    return time.perf_counter() - started


def worker_epochs(loader: TabularDataLoader) -> float:
    started = time.perf_counter()
    for epoch in range(EPOCHS):
        for _ in DataLoader(BatchesOf(loader, epoch), batch_size=None, num_workers=WORKERS):
            pass
    return time.perf_counter() - started


def main() -> None:
    before = load_average()
    with tempfile.TemporaryDirectory() as scratch:
        data = demo_splits(Path(scratch) / "demo", 20_000, 1_000)
        loader = TabularDataLoader(data.train, COLUMNS, batch_size=BATCH, shuffle=True, num_workers=WORKERS,
                                   cardinalities=data.cardinalities)
        loader.use_encoding(loader.fit_encoding())
        seconds = interleaved({"vaesae": lambda: vaesae_epochs(loader), "workers": lambda: worker_epochs(loader)}, 3)
    print(f"{EPOCHS} epochs of {len(loader)} batches: num_workers={WORKERS} in vaesae (in-process) "
          f"{median(seconds['vaesae']):.3f} s, torch DataLoader with {WORKERS} workers {median(seconds['workers']):.3f} s, "
          f"ratio {paired_ratio(seconds['workers'], seconds['vaesae']):.1f}x; load average before {before}, after {load_average()}")


if __name__ == "__main__":
    main()
