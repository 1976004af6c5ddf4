"""How big each measurement is (full run or ``--quick``) and what every row family is handed."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.datasets import DemoSplits


@dataclass(frozen=True)
class Plan:
    """Sizes and repeats; rows whose runs take a second or less get more repeats against noise."""

    repeats: int
    short_repeats: int
    train_rows: int
    val_rows: int
    epochs: int
    batch_sizes: tuple[int, ...]
    load_rows: tuple[int, ...]
    linear_rows: int  # a CSV this large is loaded against the smallest of load_rows: cost per row
    sweep_epochs: int
    sweep_repeats: int
    startup_repeats: int

    @property
    def extract_rows(self) -> int:
        return self.load_rows[0]

    @property
    def memory_rows(self) -> int:
        return self.load_rows[-1]


FULL = Plan(repeats=5, short_repeats=11, train_rows=100_000, val_rows=20_000, epochs=2, batch_sizes=(128, 1024),
            load_rows=(1_000_000, 5_000_000), linear_rows=10_000_000, sweep_epochs=16, sweep_repeats=2, startup_repeats=5)
QUICK = Plan(repeats=1, short_repeats=1, train_rows=4_000, val_rows=1_000, epochs=1, batch_sizes=(128, 1024),
             load_rows=(20_000, 50_000), linear_rows=200_000, sweep_epochs=1, sweep_repeats=1, startup_repeats=1)


@dataclass(frozen=True)
class Context:
    """Shared by every row family: sizes, data, a scratch folder, the children's environment."""

    plan: Plan
    demo: DemoSplits
    large: dict[tuple[int, str], Path]
    workdir: Path
    env: dict[str, str]

    def scratch(self, name: str) -> Path:
        folder = self.workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def rows_text(rows: int) -> str:
    """1000000 -> '1M', 50000 -> '50k'."""
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return f"{rows:,}"
