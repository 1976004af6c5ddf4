"""Checks on output locations, made before any work starts."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from vaesae.engine.checkpoint_io import atomic_write_bytes
from vaesae.engine.run_layout import owning_run
from vaesae.errors import VaesaeError

OVERWRITE_KEY = "overwrite_outputs"
OUTPUT_KIND = {"extract": "embeddings", "predict": "predictions"}


def default_output(task: str, split: str, checkpoint_path: str | None) -> str:
    """Where a split's output goes by default: beside the model it comes from, in the run folder of
    ``checkpoint.path`` (``{run}/embeddings/train_embeddings.npy``, ``{run}/predictions/test_predictions.npy``)."""
    kind = OUTPUT_KIND.get(task, "embeddings")
    run = owning_run(Path(checkpoint_path)) if checkpoint_path else Path(".")
    return str(run / kind / f"{split}_{kind}.npy")


def embeddings_of(source: str, split: str) -> str:
    """The embeddings ``task=extract`` wrote by default for the model at ``source`` (a run, sweep or checkpoint)."""
    return default_output("extract", split, source)


def embeddings_column(model_class: str) -> str:
    """The column of a Parquet output of ``task=extract``: ``vae_embeddings`` for a VAE, ``sae_embeddings`` for an SAE."""
    return f"{model_class.lower()}_embeddings"


def ensure_writable(folder: Path) -> None:
    """Create ``folder`` and prove a file can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise VaesaeError(f"{folder}: output folder is not writable ({exc.strerror or exc})") from None


def refuse_existing_run(checkpoint_dir: Path) -> None:
    """A new training run never overwrites the checkpoints of an earlier one."""
    existing = sorted(p.name for p in checkpoint_dir.glob("*.pt")) if checkpoint_dir.is_dir() else []
    if existing:
        raise VaesaeError(
            f"{checkpoint_dir} already holds checkpoints ({', '.join(existing[:3])}{'…' if len(existing) > 3 else ''}) "
            "from an earlier run; continue it with checkpoint.resume=auto, choose another experiment.name, "
            "or delete that folder to start over"
        )


def output_file(path_text: str, key: str) -> Path:
    """An output file path whose folder exists and is writable."""
    path = Path(path_text)
    if path.is_dir():
        raise VaesaeError(f"{key}: {path} is a folder; give a file path such as {path / 'output.npy'}")
    ensure_writable(path.parent if str(path.parent) else Path(os.curdir))
    return path


def source_file(output: Path) -> Path:
    """``train_embeddings.npy.source.json``: which task wrote ``output``, from the model of which run."""
    return output.with_name(output.name + ".source.json")


def output_source(task: str, checkpoint: Path) -> dict[str, str]:
    """The task and the run folder of its checkpoint: another checkpoint of the same run is the same model's."""
    return {"task": task, "run": str(owning_run(checkpoint).resolve())}


def claim_output(output: Path, task: str, checkpoint: Path, overwrite: bool) -> None:
    """Refuse to replace an output that another task or another run's model wrote, unless ``overwrite``."""
    if overwrite or not output.exists():
        return
    try:
        earlier = json.loads(source_file(output).read_text())
    except (OSError, ValueError):
        earlier = None
    if earlier == output_source(task, checkpoint):
        return
    written_by = f"task={earlier.get('task')} from the model of {earlier.get('run')}" if isinstance(earlier, dict) else "an unknown source"
    raise VaesaeError(
        f"{output} already holds the output of {written_by}; this run is task={task} from {checkpoint}. "
        f"Choose another output path, or add {OVERWRITE_KEY}=true to replace it"
    )


def overwrite_allowed(cfg: DictConfig) -> bool:
    return bool(OmegaConf.select(cfg, OVERWRITE_KEY, default=False))


def record_output(output: Path, task: str, checkpoint: Path) -> None:
    atomic_write_bytes(source_file(output), json.dumps(output_source(task, checkpoint)).encode())
