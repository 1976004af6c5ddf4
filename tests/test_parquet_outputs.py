"""Parquet outputs of task=extract and task=predict, the predictions' CSV written in chunks, and the SAE
trained on streamed Parquet embeddings."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from tests.in_process import run_main
from vaesae.data.embedding import EmbeddingDataLoader, check_array_fits_in_memory
from vaesae.data.encoding import ColumnEncoding
from vaesae.data.streaming import ParquetStreamLoader
from vaesae.engine.parquet_writer import ParquetFileWriter, embeddings_table
from vaesae.errors import DataError
from vaesae.models.sae import SAE
from vaesae.tasks import predict

CPU = ("experiment.device=cpu", "report.figures=false")


def run(*args: str, cwd) -> str:
    outcome = run_main(*CPU, *args, cwd=cwd)
    assert outcome.code == 0, outcome.output
    return outcome.output


@pytest.fixture
def trained(workdir):
    run("train.epochs=1", "val.early_stopping=null", cwd=workdir)
    return workdir / "experiments/vae/demo"


def test_the_writer_holds_at_most_one_row_group_and_writes_every_row_in_order(tmp_path):
    rows = np.arange(1000 * 3, dtype=np.float32).reshape(1000, 3)
    with ParquetFileWriter(tmp_path / "e.parquet", 1000, 3, embeddings_table("e"), row_group_rows=128) as writer:
        for start in range(0, 1000, 70):
            writer.append(rows[start:start + 70])
            assert writer.held_rows < 128 + 70
        writer.check_complete()
    file = pq.ParquetFile(tmp_path / "e.parquet")
    assert [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)] == [128] * 7 + [104]
    np.testing.assert_array_equal(np.stack(file.read().column("e").to_numpy(zero_copy_only=False)), rows)


def test_a_writer_short_of_rows_refuses_to_complete(tmp_path):
    with ParquetFileWriter(tmp_path / "e.parquet", 10, 2, embeddings_table("e")) as writer:
        writer.append(np.zeros((4, 2), dtype=np.float32))
        with pytest.raises(ValueError, match="4 rows were written"):
            writer.check_complete()


def test_extract_writes_parquet_embeddings_equal_to_the_npy_ones_with_provenance(workdir, trained):
    out = workdir / "out"
    run("task=extract", "~test", f"train.output={out / 'train.parquet'}", f"val.output={out / 'val.npy'}",
        "val.loader_params.batch_size=97", cwd=workdir)
    run("task=extract", "~test", "~train", f"val.output={out / 'val.parquet'}", "val.loader_params.batch_size=97",
        cwd=workdir)
    table = pq.read_table(out / "val.parquet")
    assert table.column_names == ["vae_embeddings"]
    np.testing.assert_array_equal(np.stack(table.column(0).to_numpy(zero_copy_only=False)), np.load(out / "val.npy"))
    assert pq.read_metadata(out / "train.parquet").num_rows == 3000
    assert json.loads((out / "val.parquet.source.json").read_text())["task"] == "extract"
    assert not list(out.glob(".*.tmp"))


def test_a_parquet_output_of_another_task_is_not_overwritten(workdir, trained):
    output = workdir / "preds.parquet"
    run("task=predict", f"test.output={output}", cwd=workdir)
    before = output.read_bytes()
    refused = run_main(*CPU, "task=extract", "~train", "~val", f"test.output={output}", cwd=workdir)
    assert refused.code != 0 and "overwrite_outputs=true" in refused.output
    assert output.read_bytes() == before


def test_predict_writes_the_readable_table_as_parquet(workdir, trained):
    run("task=predict", f"test.output={workdir / 'p.npy'}", cwd=workdir)
    run("task=predict", f"test.output={workdir / 'q.parquet'}", "test.loader_params.batch_size=111", cwd=workdir)
    from_csv = pd.read_csv(workdir / "p.csv")
    from_parquet = pq.read_table(workdir / "q.parquet").to_pandas()
    assert list(from_parquet.columns) == list(from_csv.columns) and len(from_parquet) == 1000
    pd.testing.assert_frame_equal(from_parquet, from_csv, check_dtype=False, rtol=1e-5)
    assert sorted(p.name for p in workdir.glob("q*")) == ["q.parquet", "q.parquet.source.json", "q_metrics.json"]


@pytest.mark.parametrize("key", ["test.output", "val.output"])
def test_an_output_suffix_that_is_no_format_is_refused(workdir, key):
    task = "task=predict" if key == "test.output" else "task=extract"
    refused = run_main(*CPU, task, "checkpoint.path=nowhere.pt", f"{key}=out.csv", cwd=workdir)
    assert refused.code == 2
    assert f"{key}: 'out.csv' does not end in .npy, .parquet, .pq" in refused.output


def write_embeddings(path, values: np.ndarray, row_group_rows: int) -> None:
    pq.write_table(embeddings_table("vae_embeddings")(values), path, row_group_size=row_group_rows)


def test_the_streamed_embedding_mean_is_the_float64_mean_of_the_split(tmp_path):
    values = (np.random.default_rng(0).normal(size=(1000, 6)) * 3 + 1e4).astype(np.float32)
    write_embeddings(tmp_path / "e.parquet", values, 90)
    columns = {"embeddings": ["vae_embeddings"]}
    streamed = ParquetStreamLoader(tmp_path / "e.parquet", columns, batch_size=32, shuffle=True, buffer_rows=64)
    streamed.use_encoding(streamed.fit_encoding())
    torch.testing.assert_close(streamed.mean("embeddings"), torch.from_numpy(values.astype(np.float64).mean(axis=0)),
                               rtol=0, atol=1e-9)
    np.save(tmp_path / "e.npy", values)
    in_memory = EmbeddingDataLoader(tmp_path / "e.npy", columns, batch_size=32, shuffle=True)
    in_memory.use_encoding(in_memory.fit_encoding())
    from_stream, from_memory = SAE(streamed.encoding), SAE(streamed.encoding)
    from_stream.initialize_from_data(streamed)
    from_memory.initialize_from_data(in_memory)
    torch.testing.assert_close(from_stream.b_dec, from_memory.b_dec, rtol=0, atol=0)


def test_the_sae_trains_on_streamed_parquet_embeddings_that_extract_wrote(workdir, trained):
    embeddings = workdir / "experiments/vae/demo/embeddings"
    run("task=extract", "~test", f"train.output={embeddings / 'train.parquet'}",
        f"val.output={embeddings / 'val.parquet'}", cwd=workdir)
    streamed = ("model=sae", "train.epochs=1", f"train.data_path={embeddings / 'train.parquet'}",
                f"val.data_path={embeddings / 'val.parquet'}", "train.loader_class=ParquetStreamLoader",
                "val.loader_class=ParquetStreamLoader", "+train.loader_params.buffer_rows=512")
    output = run(*streamed, cwd=workdir)
    assert "val_fvu" in (workdir / "experiments/sae/demo/metrics.jsonl").read_text(), output
    run("model=sae", "task=extract", "~train", "~test", "val.loader_class=ParquetStreamLoader",
        f"val.data_path={embeddings / 'val.parquet'}", f"val.output={workdir / 'features.parquet'}", cwd=workdir)
    assert pq.read_table(workdir / "features.parquet").column_names == ["sae_embeddings"]


def test_the_sae_on_the_streaming_loader_with_npy_embeddings_is_refused_naming_the_key(workdir):
    refused = run_main(*CPU, "model=sae", "train.loader_class=ParquetStreamLoader", "dry_run=true", cwd=workdir)
    assert refused.code == 2
    assert "train.data_path: ParquetStreamLoader cannot read the array file" in refused.output
    assert "train.output=experiments/vae/demo/embeddings/train_embeddings.parquet" in refused.output


def test_the_sae_refuses_columns_it_does_not_read(workdir):
    refused = run_main(*CPU, "model=sae", "data.columns.numerical=[amount]", "dry_run=true", cwd=workdir)
    assert refused.code == 2
    assert "data.columns.numerical: SAE reads only embeddings columns; set data.columns.numerical=[]" in refused.output


def test_a_npy_larger_than_the_available_memory_is_refused_with_the_parquet_route(tmp_path):
    path = tmp_path / "train_embeddings.npy"
    np.save(path, np.zeros((100, 8), dtype=np.float64))
    check_array_fits_in_memory(path, available=100 * 8 * 4)
    with pytest.raises(DataError, match="larger than the memory available") as refused:
        check_array_fits_in_memory(path, available=100 * 8 * 4 - 1)
    assert f"output={tmp_path / 'train_embeddings.parquet'}" in str(refused.value)
    assert "loader_class=ParquetStreamLoader" in str(refused.value)


def test_the_csv_beside_a_npy_of_predictions_is_the_whole_table_written_in_chunks(tmp_path, monkeypatch):
    encoding = ColumnEncoding(numerical=["a", "b"], categorical=["c"], means=[1.0, -2.0], stds=[2.0, 0.5],
                              category_maps={"c": {"x": 0, "y": 1}})
    rows = np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32)
    rows[:, 2] = np.arange(50) % 3
    np.save(tmp_path / "p.npy", rows)
    monkeypatch.setattr(predict, "CSV_ROWS", 7)
    written = predict.write_csv_table(tmp_path / "p.npy", encoding)
    assert written.read_text() == predict.prediction_table(rows, encoding).to_csv(index=False)
