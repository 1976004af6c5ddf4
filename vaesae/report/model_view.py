"""The trained model of a run folder and the data split it is pictured on."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from omegaconf import OmegaConf

from vaesae.data.base import BaseDataLoader
from vaesae.engine.checkpoint_io import load_checkpoint
from vaesae.engine.inference import to_device
from vaesae.registry import import_plugins
from vaesae.report.run_folder import RunFolder
from vaesae.tasks.parts import build_loader
from vaesae.tasks.restore import Restored, rebuild_model

Batch = dict[str, torch.Tensor]


def report_device(configured: str | None) -> torch.device:
    """The run's device where it is available here; the CPU otherwise (a report never needs a GPU)."""
    use_cuda = configured not in (None, "cpu") and torch.cuda.is_available()
    return torch.device("cuda" if use_cuda else "cpu")


@dataclass
class ModelView:
    """A restored model with one split of its data, every row once, in file order."""

    run_label: str
    restored: Restored
    loader: BaseDataLoader
    split: str
    data_path: Path
    device: torch.device

    @classmethod
    def open(cls, run: RunFolder) -> "ModelView":
        import_plugins(list(run.config.get("plugins") or []))
        device = report_device((run.config.get("experiment") or {}).get("device"))
        path = run.checkpoint()
        restored = rebuild_model(path, load_checkpoint(path), device)
        split = run.split()
        section = OmegaConf.create({**run.config[split], "data_path": str(run.locate(run.config[split]["data_path"]))})
        seed = (run.config.get("experiment") or {}).get("seed") or 0
        loader = build_loader(section, restored.encoding.columns(), None, seed, shuffle=False, num_batches_per_epoch=None)
        return cls(run.label, restored, loader.use_encoding(restored.encoding), split, Path(section.data_path), device)

    @property
    def model(self) -> torch.nn.Module:
        return self.restored.model

    @property
    def rows(self) -> int:
        return self.loader.num_rows

    @property
    def epoch(self) -> Any:
        return self.restored.payload.get("epoch")

    @torch.inference_mode()
    def outputs(self, keep: Callable[[Batch, dict[str, Any]], Any]) -> Iterator[Any]:
        """``keep(batch, output)`` for every batch of the split, the model in evaluation mode."""
        self.model.eval()
        for batch in self.loader.epoch(0):
            batch = to_device(batch, self.device)
            yield keep(batch, self.model(batch))

    def describe(self) -> str:
        """Where the pictured numbers come from, for titles: ``val split, 4,000 rows, epoch 12``."""
        return f"{self.split} split, {self.rows:,} rows, checkpoint of epoch {self.epoch}"
