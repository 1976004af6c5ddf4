"""OmegaConf resolvers used by the packaged configs."""
from __future__ import annotations

from omegaconf import OmegaConf

from vaesae.demo_data import demo_path
from vaesae.sweep.folders import job_folder_name

OUTPUT_KIND = {"extract": "embeddings", "predict": "predictions"}


def default_output(task: str, split: str) -> str:
    """Where a split's output goes by default: ``embeddings/train_embeddings.npy``, ``predictions/test_predictions.npy``."""
    kind = OUTPUT_KIND.get(task, "embeddings")
    return f"{kind}/{split}_{kind}.npy"


def register_resolvers() -> None:
    resolvers = (("vaesae_demo", demo_path), ("vaesae_output", default_output), ("vaesae_job_dir", job_folder_name))
    for name, function in resolvers:
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, function)
