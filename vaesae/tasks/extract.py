"""``task=extract``: write a trained model's representation of every configured split."""
from __future__ import annotations

import logging

from vaesae.config.schema import SPLITS
from vaesae.engine.inference import write_inference
from vaesae.engine.interrupts import interrupt_on_signals
from vaesae.engine.parquet_writer import embeddings_table
from vaesae.engine.rng import seed_everything
from vaesae.engine.threads import apply_threads
from vaesae.tasks.job import Job, print_summary
from vaesae.tasks.outputs import claim_output, embeddings_column, output_file, overwrite_allowed, record_output
from vaesae.tasks.parts import inference_loader, open_checked_tracking, resolve_device
from vaesae.tasks.restore import restore_model

log = logging.getLogger("vaesae")


def run_extract(job: Job) -> None:
    """VAE: posterior means; SAE: sparse feature activations; one row per input row, in a ``.npy`` array
    or, for a ``.parquet`` output, in the list column ``embeddings_column(model class)``."""
    cfg = job.cfg
    tracking = open_checked_tracking(job)
    seed_everything(cfg.experiment.seed or 0)
    device = resolve_device(cfg.experiment.device)
    restored = restore_model(cfg, device)
    splits = [s for s in SPLITS if cfg[s] is not None]
    apply_threads(cfg.experiment.get("threads"), restored.model, max((cfg[s].loader_params.batch_size for s in splits), default=1))
    if cfg.dry_run:
        loaders = {s: inference_loader(cfg, s, restored.encoding) for s in splits}
        print_summary("dry run: task=extract (nothing written)", [
            ("checkpoint", f"{restored.path} ({restored.payload['model_class']}, epoch {restored.payload['epoch']})"),
            *[(s, f"{cfg[s].data_path}: {loaders[s].num_rows:,} rows -> {cfg[s].output}") for s in splits],
        ])
        return None
    config_path = job.write_config()
    outputs = {s: output_file(cfg[s].output, f"{s}.output") for s in splits}
    for output in outputs.values():
        claim_output(output, "extract", restored.path, overwrite_allowed(cfg))
    tags = job.hooks.checkpoint_tags(restored.path, restored.payload)
    to_table = embeddings_table(embeddings_column(restored.payload["model_class"]))
    with interrupt_on_signals(), job.hooks.job_run(tracking, job, config_path, tags) as run:
        for split in splits:
            loader = inference_loader(cfg, split, restored.encoding)
            shape = write_inference(restored.model, loader, restored.model.encode, device, outputs[split], to_table)
            record_output(outputs[split], "extract", restored.path)
            log.info("%s: wrote %s embeddings of shape %s to %s", split, restored.payload["model_class"], shape, outputs[split])
            run.log_metrics({f"{split}_rows": shape[0], f"{split}_dim": shape[1]}, step=0)
            run.log_artifact(outputs[split], "outputs")
    return None
