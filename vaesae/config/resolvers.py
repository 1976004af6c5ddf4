"""OmegaConf resolvers used by the packaged configs."""
from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from vaesae.demo_data import demo_path
from vaesae.engine.run_layout import owning_run
from vaesae.sweep.folders import job_folder_name
from vaesae.sweep.plan import choose_sweep_dir

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


def register_resolvers() -> None:
    resolvers = (("vaesae_demo", demo_path), ("vaesae_output", default_output), ("vaesae_embeddings", embeddings_of),
                 ("vaesae_job_dir", job_folder_name), ("vaesae_sweep_dir", choose_sweep_dir))
    for name, function in resolvers:
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)
