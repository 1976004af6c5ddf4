"""What the numbers were measured on: CPU, cores, memory, library versions, load."""
from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was."""
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def describe(threads: int) -> str:
    """One line for the table header."""
    import hydra
    import pyarrow
    import torch

    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {memory_gib():.0f} GiB RAM; Python {platform.python_version()}, "
        f"torch {torch.__version__} ({threads} intra-op thread{'s' if threads != 1 else ''} unless a row says otherwise), "
        f"hydra {hydra.__version__}, pyarrow {pyarrow.__version__}"
    )
