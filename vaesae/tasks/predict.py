"""``task=predict``: reconstruct the test split, as an array and as a readable table, with metrics."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from vaesae.data.encoding import ColumnEncoding
from vaesae.engine.checkpoint_io import atomic_write_bytes, replacing
from vaesae.engine.inference import evaluate, is_parquet, write_inference
from vaesae.engine.interrupts import interrupt_on_signals
from vaesae.engine.metrics_file import json_safe
from vaesae.engine.parquet_writer import ToTable
from vaesae.engine.rng import seed_everything
from vaesae.engine.threads import apply_threads
from vaesae.tasks.job import Job, print_summary
from vaesae.tasks.outputs import claim_output, output_file, overwrite_allowed, record_output
from vaesae.tasks.parts import build_loss, inference_loader, open_checked_tracking, resolve_device
from vaesae.tasks.restore import Restored, restore_model

log = logging.getLogger("vaesae")

CSV_ROWS = 65_536


def prediction_table(predictions: np.ndarray, encoding: ColumnEncoding) -> pd.DataFrame:
    """Predictions in the data's own terms: numerical columns in original units, categories as labels.

    ``predictions`` has the layout of ``model.reconstruct``: numerical (scaled),
    categorical codes, then embedding dimensions. A model whose output has another
    width gets plain ``prediction_{i}`` columns.
    """
    if predictions.shape[1] != encoding.input_dim:
        return pd.DataFrame(predictions, columns=[f"prediction_{i}" for i in range(predictions.shape[1])])
    n_num, n_cat = len(encoding.numerical), len(encoding.categorical)
    table = pd.DataFrame(encoding.unscale(predictions[:, :n_num]), columns=encoding.numerical)
    for i, column in enumerate(encoding.categorical):
        labels = np.array(encoding.labels(column), dtype=object)
        table[column] = labels[predictions[:, n_num + i].astype(np.int64)]
    embedding_part = predictions[:, n_num + n_cat:]
    if embedding_part.shape[1]:
        names = [f"{encoding.embeddings[0]}_{i}" if len(encoding.embeddings) == 1 else f"dim_{i}" for i in range(embedding_part.shape[1])]
        table = pd.concat([table, pd.DataFrame(embedding_part, columns=names)], axis=1)
    return table


def sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.stem + suffix)


def readable_table(encoding: ColumnEncoding) -> ToTable:
    """Rows of predictions as the Parquet form of ``prediction_table``."""
    return lambda rows: pa.Table.from_pandas(prediction_table(rows, encoding), preserve_index=False)


def write_csv_table(predictions: Path, encoding: ColumnEncoding) -> Path:
    """The ``.csv`` beside a ``.npy`` of predictions, written ``CSV_ROWS`` rows at a time."""
    table_path = sibling(predictions, ".csv")
    rows = np.load(predictions, mmap_mode="r")
    with replacing(table_path) as temp, open(temp, "w", newline="") as handle:
        for start in range(0, len(rows), CSV_ROWS):
            prediction_table(rows[start:start + CSV_ROWS], encoding).to_csv(handle, index=False, header=start == 0)
    return table_path


def write_predictions(restored: Restored, loader, loss, device, output: Path) -> tuple[list[Path], dict | None]:
    """Writes ``output`` and, with a loss, ``*_metrics.json``; returns the files and the metrics.

    A ``.npy`` output gets a readable ``.csv`` table beside it; a ``.parquet`` output is that table itself.
    """
    encoding = restored.encoding
    shape = write_inference(restored.model, loader, restored.model.reconstruct, device, output, readable_table(encoding))
    files = [output] if is_parquet(output) else [output, write_csv_table(output, encoding)]
    log.info("test: wrote predictions of shape %s to %s", shape, " and ".join(map(str, files)))
    if loss is None:
        return files, None
    metrics = evaluate(restored.model, loader, loss, device, "test")
    metrics_path = sibling(output, "_metrics.json")
    atomic_write_bytes(metrics_path, json.dumps(json_safe(metrics), indent=2).encode())
    return [*files, metrics_path], metrics


def run_predict(job: Job) -> float | None:
    """Predict the test split; returns ``test_loss`` when metrics are computed."""
    cfg = job.cfg
    tracking = open_checked_tracking(job)
    seed_everything(cfg.experiment.seed or 0)
    device = resolve_device(cfg.experiment.device)
    restored = restore_model(cfg, device)
    apply_threads(cfg.experiment.get("threads"), restored.model, cfg.test.loader_params.batch_size)
    loader = inference_loader(cfg, "test", restored.encoding)
    compute = cfg.test.metrics is not None and cfg.test.metrics.compute
    loss = build_loss(cfg.test.metrics.loss, "test.metrics.loss") if compute else None
    if cfg.dry_run:
        print_summary("dry run: task=predict (nothing written)", [
            ("checkpoint", f"{restored.path} ({restored.payload['model_class']}, epoch {restored.payload['epoch']})"),
            ("test", f"{cfg.test.data_path}: {loader.num_rows:,} rows -> {cfg.test.output}"),
            ("metrics", cfg.test.metrics.loss["class"] if compute else "off"),
        ])
        return None
    config_path = job.write_config()
    output = output_file(cfg.test.output, "test.output")
    claim_output(output, "predict", restored.path, overwrite_allowed(cfg))
    tags = job.hooks.checkpoint_tags(restored.path, restored.payload)
    with interrupt_on_signals(), job.hooks.job_run(tracking, job, config_path, tags) as run:
        files, metrics = write_predictions(restored, loader, loss, device, output)
        record_output(output, "predict", restored.path)
        for path in files:
            run.log_artifact(path, "outputs")
        run.log_metrics(metrics or {}, step=0)
    if metrics is None:
        return None
    print(json.dumps(json_safe(metrics), indent=2))
    return metrics["test_loss"]
