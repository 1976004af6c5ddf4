"""Data-parallel training with ``torch.distributed``, when the run is started by ``torchrun``.

``torchrun`` (or ``srun torchrun`` on Slurm) starts one process per rank and
tells each its ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``. Every rank builds
the same model from the same seed and reads the same global batches, training
and validation alike; each takes its contiguous part of every batch
(``RankShard``), and ``DistributedDataParallel`` averages the gradients (gloo
on CPU, NCCL on GPU). Wherever a model or loss needs the whole batch (the
mean of a loss over its rows, the VAE's calibrated variance and free bits, its
sampling noise, the SAE's dead features), ``vaesae.models.global_batch``
computes it over all the parts, so a run on N ranks computes what one process
computes with the same ``batch_size``, up to the order of floating-point
additions, whatever the part sizes. The loss sums and row counts of a
training epoch and of a validation, and the models' quality-metric sums, are
added over the ranks (``sum_over_ranks``), so every rank sees the metrics of
the whole split and early stopping stops all of them at the same epoch. A stop
signal (SIGTERM, Ctrl-C) reaching any rank stops every rank after the same
batch, so the position rank 0 saves is one every rank has reached. Only rank 0
writes files, metrics and MLflow records, and logs; the others report through
their exit status.
"""
from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from vaesae.data.batching import Batch
from vaesae.engine.callbacks import Callback
from vaesae.errors import ConfigError


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.world > 1


def launched_ranks() -> Ranks:
    """This process's place in a ``torchrun`` job; one rank of one when started directly."""
    return Ranks(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))


def join(ranks: Ranks, device: torch.device) -> torch.device:
    """Join the process group of a multi-rank job; returns the device this rank trains on."""
    if not ranks.parallel:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", ranks.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if not ranks.is_main:
        logging.getLogger("vaesae").setLevel(logging.CRITICAL)
    return device


def leave(ranks: Ranks) -> None:
    if ranks.parallel and dist.is_initialized():
        dist.destroy_process_group()


def check_batches(ranks: Ranks, rows: int, batch_size: int, limited: bool) -> None:
    """Every rank needs at least one row of every batch, the epoch's last one included."""
    last = rows % batch_size
    if ranks.parallel and (batch_size < ranks.world or (not limited and 0 < last < ranks.world)):
        raise ConfigError(
            f"train.loader_params.batch_size: {batch_size} with {rows} rows leaves a batch of fewer rows than the "
            f"{ranks.world} ranks; choose a batch size whose last batch has at least {ranks.world} rows"
        )


class RankShard:
    """A loader whose every batch is cut into ``world`` contiguous parts, of which this rank serves its own."""

    def __init__(self, loader, ranks: Ranks):
        self.loader, self.ranks = loader, ranks

    def __len__(self) -> int:
        return len(self.loader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def epoch(self, epoch: int, first_batch: int = 0) -> Iterator[Batch]:
        for batch in self.loader.epoch(epoch, first_batch):
            yield {name: tensor.tensor_split(self.ranks.world)[self.ranks.rank] for name, tensor in batch.items()}


def rank_shard(loader, ranks: Ranks):
    """``loader`` itself for one process, else this rank's ``RankShard`` of it."""
    return RankShard(loader, ranks) if ranks.parallel else loader


def sum_over_ranks(device: torch.device):
    """A function adding tensors over the ranks in place (one all-reduce in float64 on ``device``)."""

    def combine(tensors: list[torch.Tensor]) -> None:
        flat = torch.cat([tensor.to(device, torch.float64).flatten() for tensor in tensors])
        dist.all_reduce(flat)
        for tensor, total in zip(tensors, flat.split([tensor.numel() for tensor in tensors])):
            tensor.copy_(total.view_as(tensor))

    return combine


def rank_sums(ranks: Ranks, device: torch.device):
    """How the trainer combines the ranks' metric sums: ``sum_over_ranks`` for several ranks, None for one."""
    return sum_over_ranks(device) if ranks.parallel else None


class DataParallelModel(DistributedDataParallel):
    """DDP that keeps the wrapped model's interface and state dict, so checkpoints are the same as one process's."""

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)

    def state_dict(self, *args, **kwargs):
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, *args, **kwargs):
        return self.module.load_state_dict(*args, **kwargs)


def data_parallel(model: torch.nn.Module, ranks: Ranks, device: torch.device) -> torch.nn.Module:
    if not ranks.parallel:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return DataParallelModel(model, device_ids=device_ids)


class StopTogether(Callback):
    """Stop signals reach this instead of the trainer; after each batch the ranks agree whether to stop.

    One small all-reduce per batch: when any rank was signalled, every rank asks
    its trainer to stop before the next batch, with the highest exit status asked for.
    """

    def __init__(self) -> None:
        self.exit_code = 0

    def request_interrupt(self, reason: str, exit_code: int) -> None:
        self.exit_code = exit_code

    def on_batch_end(self, trainer, epoch: int, batch_index: int, total_batches: int) -> None:
        agreed = torch.tensor([self.exit_code], device=trainer.device)
        dist.all_reduce(agreed, op=dist.ReduceOp.MAX)
        exit_code = int(agreed.item())
        if exit_code:
            trainer.request_interrupt(f"interrupted by {signal.Signals(exit_code - 128).name}", exit_code)


def rank_callbacks(ranks: Ranks, callbacks: Iterable[Callback], shared: tuple[type, ...]) -> list[Callback]:
    """Rank 0 keeps every callback; the others only those in ``shared`` (which decide, never write)."""
    if not ranks.parallel:
        return list(callbacks)
    kept = list(callbacks) if ranks.is_main else [c for c in callbacks if isinstance(c, shared)]
    return [StopTogether(), *kept]


def interrupt_target(trainer):
    """What stop signals should reach: the ranks' agreement when there is one, else the trainer itself."""
    return next((c for c in trainer.callbacks if isinstance(c, StopTogether)), trainer)
