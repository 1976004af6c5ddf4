"""Batches from tensors held in memory.

Batching slices a permutation of row indices (or, in input order, contiguous
ranges), so one batch costs a few tensor operations, never a Python loop over
rows. It always runs in this process: ``num_workers`` stays a valid setting,
but worker processes would only add cost here (started again every epoch, each
a copy of this process, to do slicing that takes microseconds), so it is not
used and the log says so once.
"""
from __future__ import annotations

import functools
import logging
from typing import Iterator

import torch

log = logging.getLogger("vaesae")

Batch = dict[str, torch.Tensor]
Rows = torch.Tensor | slice


def epoch_batches(
    num_rows: int, batch_size: int, shuffle: bool, seed: int, epoch: int, max_batches: int | None,
    device: torch.device | None = None,
) -> list[Rows]:
    """The rows of each batch of one epoch; a function of (seed, epoch) alone, so a resumed run replays it.

    Shuffled, a batch is an index tensor cut from a seeded permutation; in input
    order it is a contiguous range, which is copied at memory speed instead of
    gathered row by row. The permutation is drawn on the CPU (the same on every
    device) and moved to ``device`` once per epoch, where the tensors live.
    """
    if shuffle:
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        order = torch.randperm(num_rows, generator=generator)
        batches: list[Rows] = list(torch.split(order if device is None else order.to(device), batch_size))
    else:
        batches = [slice(start, start + batch_size) for start in range(0, num_rows, batch_size)]
    return batches if max_batches is None else batches[:max_batches]


def select(tensors: Batch, rows: Rows) -> Batch:
    """One batch as tensors of its own, never views: a model may change its inputs in place."""
    if isinstance(rows, slice):
        return {name: tensor[rows].clone() for name, tensor in tensors.items()}
    return {name: tensor[rows] for name, tensor in tensors.items()}


@functools.cache
def say_workers_unused(num_workers: int) -> None:
    log.info(
        "loader_params.num_workers=%d: batches are sliced in this process; they are slices of tensors already in "
        "memory, which worker processes would only slow down", num_workers,
    )


def iterate_batches(tensors: Batch, batches: list[Rows]) -> Iterator[Batch]:
    for rows in batches:
        yield select(tensors, rows)
