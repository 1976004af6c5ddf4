"""The data loader contract shared by every registered loader.

A loader reads its split (the in-memory loaders once, into raw arrays;
``ParquetStreamLoader`` a window at a time), is given the column encoding
(fitted on the training split, or taken from a checkpoint), and then serves
batches of tensors: ``numerical`` (float32), ``categorical`` (int64 codes) and
``embeddings`` (float32), each present when the config lists such columns.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

import torch

from vaesae.data.batching import Batch, Rows, epoch_batches, iterate_batches, say_workers_unused
from vaesae.data.encoding import ColumnEncoding
from vaesae.errors import DataError


class BaseDataLoader:
    """Reads one split and batches it; subclasses implement ``_read`` and ``_fit`` / ``_encode``."""

    reads_folders = False
    reads_arrays: bool | None = None  # False: the validator refuses a .npy / .npz data_path; None: not declared

    def __init__(
        self,
        data_path: str | Path,
        columns: Mapping[str, list[str]],
        batch_size: int,
        shuffle: bool,
        num_workers: int = 0,
        num_batches_per_epoch: int | None = None,
        seed: int = 0,
        cardinalities: Mapping[str, Mapping[str, int]] | None = None,
    ):
        self.data_path = Path(data_path)
        self.columns = {kind: list(columns.get(kind) or []) for kind in ("numerical", "categorical", "embeddings")}
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_workers = num_workers
        if num_workers > 0:
            say_workers_unused(num_workers)
        self.num_batches_per_epoch = num_batches_per_epoch
        self.seed = seed
        self.cardinalities = cardinalities
        if not (self.data_path.is_file() or (self.reads_folders and self.data_path.is_dir())):
            raise DataError(f"{self.data_path}: data file not found")
        self._read()
        self.tensors: Batch = {}

    @property
    def num_rows(self) -> int:
        raise NotImplementedError

    def _read(self) -> None:
        raise NotImplementedError

    def fit_encoding(self) -> ColumnEncoding:
        """Fit the encoding on this split's raw data (call on the training split only)."""
        raise NotImplementedError

    def use_encoding(self, encoding: ColumnEncoding) -> "BaseDataLoader":
        """Turn the raw data into model-ready tensors with ``encoding``."""
        raise NotImplementedError

    def mean(self, kind: str) -> torch.Tensor:
        """The float64 mean over the split of the encoded ``kind`` tensor (``numerical``, ``categorical`` or ``embeddings``)."""
        if kind not in self.tensors:
            raise DataError(f"{self.data_path}: no {kind} columns to average (data.columns.{kind} is empty)")
        return self.tensors[kind].double().mean(dim=0)

    def batches_for_epoch(self, epoch: int) -> list[Rows]:
        device = next(iter(self.tensors.values())).device if self.tensors else None
        return epoch_batches(self.num_rows, self.batch_size, self.shuffle, self.seed, epoch, self.num_batches_per_epoch, device)

    def __len__(self) -> int:
        batches = -(-self.num_rows // self.batch_size)
        return batches if self.num_batches_per_epoch is None else min(batches, self.num_batches_per_epoch)

    def epoch(self, epoch: int, first_batch: int = 0) -> Iterator[Batch]:
        """The batches of one epoch, in the order fixed by (seed, epoch), from batch ``first_batch`` on."""
        if not self.tensors:
            raise RuntimeError("use_encoding() must be called before iterating a loader")
        return iterate_batches(self.tensors, self.batches_for_epoch(epoch)[first_batch:])

    def __iter__(self) -> Iterator[Batch]:
        return self.epoch(0)
