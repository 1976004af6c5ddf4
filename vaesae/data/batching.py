"""Batches from tensors held in memory.

In-process batching slices a permutation of row indices, so one batch costs a
few tensor index operations, never a Python loop over rows. With
``num_workers > 0`` the same index batches go through a real
``torch.utils.data.DataLoader`` whose workers do the slicing; it gets its own
generator, because by default it draws its worker seed from the global torch
RNG, which would make results depend on ``num_workers`` and on where a resumed
epoch starts.
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

Batch = dict[str, torch.Tensor]


def epoch_order(num_rows: int, shuffle: bool, seed: int, epoch: int) -> torch.Tensor:
    """Row order of one epoch; a function of (seed, epoch) alone, so a resumed run replays it."""
    if not shuffle:
        return torch.arange(num_rows)
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(num_rows, generator=generator)


def index_batches(order: torch.Tensor, batch_size: int, max_batches: int | None) -> list[torch.Tensor]:
    batches = list(torch.split(order, batch_size))
    return batches if max_batches is None else batches[:max_batches]


class _IndexedTensors(Dataset):
    """A dataset whose items are whole batches: index lists in, sliced tensors out."""

    def __init__(self, tensors: Batch, batches: list[torch.Tensor]):
        self.tensors, self.batches = tensors, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, position: int) -> Batch:
        index = self.batches[position]
        return {name: tensor[index] for name, tensor in self.tensors.items()}


def iterate_batches(tensors: Batch, batches: list[torch.Tensor], num_workers: int) -> Iterator[Batch]:
    if num_workers == 0:
        for index in batches:
            yield {name: tensor[index] for name, tensor in tensors.items()}
        return
    loader = DataLoader(
        _IndexedTensors(tensors, batches),
        batch_size=None,
        shuffle=False,
        num_workers=num_workers,
        persistent_workers=False,
        generator=torch.Generator().manual_seed(0),
    )
    yield from loader
