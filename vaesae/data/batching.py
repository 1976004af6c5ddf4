"""Batches from tensors held in memory.

In-process batching slices a permutation of row indices (or, in input order,
contiguous ranges), so one batch costs a few tensor operations, never a Python
loop over rows. With ``num_workers > 0`` the same batches go through a real
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
Rows = torch.Tensor | slice


def epoch_batches(
    num_rows: int, batch_size: int, shuffle: bool, seed: int, epoch: int, max_batches: int | None
) -> list[Rows]:
    """The rows of each batch of one epoch; a function of (seed, epoch) alone, so a resumed run replays it.

    Shuffled, a batch is an index tensor cut from a seeded permutation; in input
    order it is a contiguous range, which is copied at memory speed instead of
    gathered row by row.
    """
    if shuffle:
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        batches: list[Rows] = list(torch.split(torch.randperm(num_rows, generator=generator), batch_size))
    else:
        batches = [slice(start, start + batch_size) for start in range(0, num_rows, batch_size)]
    return batches if max_batches is None else batches[:max_batches]


def select(tensors: Batch, rows: Rows) -> Batch:
    """One batch as tensors of its own, never views: a model may change its inputs in place."""
    if isinstance(rows, slice):
        return {name: tensor[rows].clone() for name, tensor in tensors.items()}
    return {name: tensor[rows] for name, tensor in tensors.items()}


class _IndexedTensors(Dataset):
    """A dataset whose items are whole batches: index lists in, sliced tensors out."""

    def __init__(self, tensors: Batch, batches: list[Rows]):
        self.tensors, self.batches = tensors, batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, position: int) -> Batch:
        return select(self.tensors, self.batches[position])


def iterate_batches(tensors: Batch, batches: list[Rows], num_workers: int) -> Iterator[Batch]:
    if num_workers == 0:
        for rows in batches:
            yield select(tensors, rows)
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
