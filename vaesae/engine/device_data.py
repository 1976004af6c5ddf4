"""Keeping data where the model is: the table on the GPU when it fits, outputs back through pinned memory.

On a GPU, copying every batch from host memory costs more than the step of a
small model. A split whose tensors fit in a share of the device's free memory
is moved there once, and its batches are sliced there (the epoch's shuffled
order included). A larger split stays on the host in pinned (page-locked)
memory, from which batches copy without an extra staging copy. Outputs of
``task=extract`` and ``task=predict`` come back through two reusable pinned
buffers, so copying one batch back overlaps writing the one before.
"""
from __future__ import annotations

import logging
from typing import Iterable, Iterator

import numpy as np
import torch

log = logging.getLogger("vaesae")

# Share of the device's free memory a split's tensors may take; the rest is left to the model and its activations.
DEVICE_SHARE = 0.5


def table_bytes(tensors: dict[str, torch.Tensor]) -> int:
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors.values())


def place_on_device(loader, device: torch.device) -> None:
    """Move ``loader``'s tensors to a CUDA ``device`` when they fit, else pin them; nothing on the CPU."""
    if device.type != "cuda":
        return
    size = table_bytes(loader.tensors)
    free, _ = torch.cuda.mem_get_info(device)
    if size <= DEVICE_SHARE * free:
        loader.tensors = {name: tensor.to(device) for name, tensor in loader.tensors.items()}
        log.info("%s: %.1f MiB of tensors on %s; batches are sliced there", loader.data_path, size / 2**20, device)
        return
    loader.tensors = {name: tensor.pin_memory() for name, tensor in loader.tensors.items()}
    log.info("%s: %.1f MiB of tensors stay in pinned host memory (more than %.0f%% of the %.1f MiB free on %s)",
             loader.data_path, size / 2**20, DEVICE_SHARE * 100, free / 2**20, device)


def host_arrays(outputs: Iterable[torch.Tensor], device: torch.device) -> Iterator[np.ndarray]:
    """Each output as a float32 host array, in order; from a GPU through two pinned buffers used in turn.

    An array yielded from a pinned buffer is overwritten two batches later, so
    the caller writes it out before asking for the next one.
    """
    if device.type != "cuda":
        for values in outputs:
            yield values.float().cpu().numpy()
        return
    buffers: list[torch.Tensor | None] = [None, None]
    pending: tuple[torch.Tensor, torch.cuda.Event] | None = None
    for index, values in enumerate(outputs):
        slot = index % 2
        buffer = buffers[slot]
        if buffer is None or buffer.shape != values.shape:
            buffer = buffers[slot] = torch.empty(values.shape, dtype=torch.float32, pin_memory=True)
        buffer.copy_(values.float(), non_blocking=True)
        copied = torch.cuda.Event()
        copied.record()
        if pending is not None:
            pending[1].synchronize()
            yield pending[0].numpy()
        pending = (buffer, copied)
    if pending is not None:
        pending[1].synchronize()
        yield pending[0].numpy()
