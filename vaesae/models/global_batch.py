"""What one process computes on a whole batch, when data-parallel ranks each hold a part of it.

Under data-parallel training (``torch.distributed`` initialised with more than
one rank) every rank holds one contiguous part of each global batch, the parts
in rank order, and ``DistributedDataParallel`` averages the ranks' gradients.
Models and losses call these helpers wherever they need the whole batch; with
one process they are the plain operations and never communicate.

* ``global_mean``: the mean over the rows of the whole batch. Its value is the
  same on every rank; its gradient reaches only this rank's rows and is scaled
  by the number of ranks, so the ranks' averaged gradient is one process's,
  whatever the part sizes (a part may even be empty).
* ``global_sum``: a sum over the ranks, without gradient.
* ``standard_normal_like``: noise for this part's rows, cut from the noise of
  the whole batch, which every rank draws from the same generator state, so
  the random stream advances exactly as one process's does.

Every rank must call them in the same order, once per batch.
"""
from __future__ import annotations

import torch
import torch.distributed as dist


def ranks() -> int:
    """How many ranks share each batch: 1 without ``torch.distributed``."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def global_sum(values: torch.Tensor) -> torch.Tensor:
    """``values`` summed over the ranks (in place); unchanged with one process."""
    if ranks() > 1:
        dist.all_reduce(values)
    return values


def global_mean(rows: torch.Tensor) -> torch.Tensor:
    """The mean over dim 0 of the whole batch of which ``rows`` is this rank's part."""
    world = ranks()
    if world == 1:
        return rows.mean(dim=0)
    local = rows.sum(dim=0)
    totals = global_sum(torch.cat([local.detach().flatten(), local.new_tensor([rows.shape[0]])]))
    whole = totals[:-1].view_as(local) + world * (local - local.detach())
    return whole / totals[-1]


def standard_normal_like(part: torch.Tensor) -> torch.Tensor:
    """``torch.randn_like(part)`` as the matching rows of one draw for the whole batch."""
    if ranks() == 1:
        return torch.randn_like(part)
    counts = [part.new_zeros(1, dtype=torch.long) for _ in range(ranks())]
    dist.all_gather(counts, part.new_tensor([part.shape[0]], dtype=torch.long))
    sizes = [int(count) for count in counts]
    noise = torch.randn((sum(sizes), *part.shape[1:]), dtype=part.dtype, device=part.device)
    start = sum(sizes[: dist.get_rank()])
    return noise[start : start + part.shape[0]]
