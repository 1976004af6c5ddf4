"""ParquetStreamLoader: the rows and order of its epochs, its encoding, its errors, and exact resume through the CLI."""
from __future__ import annotations

import logging
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import torch

from tests.cli_process import CliProcess, assert_same_run, epochs_logged, wait_until
from tests.conftest import run_cli
from tests.streaming_data import COLUMNS, StreamingData, write_streaming_data
from vaesae.data.large_csv import check_csv_fits_in_memory, conversion_command
from vaesae.data.streaming import ParquetStreamLoader
from vaesae.data.tabular import TabularDataLoader
from vaesae.engine.checkpoint_io import load_checkpoint
from vaesae.errors import DataError

RUN = ("experiment.device=cpu", "report.figures=false", "checkpoint.save_strategy=all")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> StreamingData:
    return write_streaming_data(tmp_path_factory.mktemp("small"), train_rows=3000, val_rows=500, row_group_rows=700)


def loader(data: StreamingData, **params) -> ParquetStreamLoader:
    settings = {"batch_size": 256, "shuffle": True, "buffer_rows": 1000, "seed": 3, **params}
    built = ParquetStreamLoader(data.train, COLUMNS, cardinalities=data.cardinalities, **settings)
    return built.use_encoding(built.fit_encoding())


def rows_of(batches: list[dict]) -> torch.Tensor:
    return torch.cat([torch.cat([b["numerical"], b["categorical"].float()], dim=1) for b in batches])


def in_memory_rows(data: StreamingData, encoding) -> torch.Tensor:
    tables = [pq.read_table(path) for path in sorted(data.train.iterdir())]
    pq.write_table(pa.concat_tables(tables), data.folder / "whole.parquet")
    whole = TabularDataLoader(data.folder / "whole.parquet", COLUMNS, 10**6, False, cardinalities=data.cardinalities)
    return rows_of([next(whole.use_encoding(encoding).epoch(0))])


def sorted_rows(rows: torch.Tensor) -> torch.Tensor:
    return torch.unique(rows, dim=0)


def test_an_epoch_serves_every_row_once_in_an_order_fixed_by_seed_and_epoch(small):
    streamed = loader(small)
    epoch_1 = list(streamed.epoch(1))
    assert len(epoch_1) == len(streamed) == 12
    assert [b["numerical"].shape[0] for b in epoch_1] == [256] * 11 + [3000 - 11 * 256]
    assert torch.equal(sorted_rows(rows_of(epoch_1)), sorted_rows(in_memory_rows(small, streamed.encoding)))
    assert torch.equal(rows_of(epoch_1), rows_of(list(loader(small).epoch(1))))
    assert not torch.equal(rows_of(epoch_1), rows_of(list(streamed.epoch(2))))
    assert not torch.equal(rows_of(epoch_1), rows_of(list(loader(small, seed=4).epoch(1))))


def test_input_order_is_kept_without_shuffle(small):
    streamed = loader(small, shuffle=False)
    assert torch.equal(rows_of(list(streamed.epoch(5))), in_memory_rows(small, streamed.encoding))


def test_an_epoch_started_at_a_later_batch_serves_the_same_batches_from_there(small):
    streamed = loader(small)
    whole = list(streamed.epoch(1))
    for first in (3, 4, 11):
        assert torch.equal(rows_of(list(streamed.epoch(1, first_batch=first))), rows_of(whole[first:]))


def test_num_batches_per_epoch_stops_the_epoch_early(small):
    streamed = loader(small, num_batches_per_epoch=5)
    assert len(streamed) == 5 and len(list(streamed.epoch(1))) == 5


def test_the_streamed_encoding_matches_the_in_memory_fit(small):
    streamed = loader(small).encoding
    tables = [pq.read_table(path) for path in sorted(small.train.iterdir())]
    pq.write_table(pa.concat_tables(tables), small.folder / "fit.parquet")
    whole = TabularDataLoader(small.folder / "fit.parquet", COLUMNS, 256, False, cardinalities=small.cardinalities)
    expected = whole.fit_encoding()
    np.testing.assert_allclose(streamed.means, expected.means, rtol=1e-12)
    np.testing.assert_allclose(streamed.stds, expected.stds, rtol=1e-12)
    assert streamed.category_maps == expected.category_maps


def test_unknown_labels_are_counted_over_the_whole_split_in_one_warning(tmp_path, small, caplog):
    table = pq.read_table(small.val)
    channels = table.column("channel").to_pylist()
    channels[10] = channels[450] = "teleport"
    pq.write_table(table.set_column(table.schema.get_field_index("channel"), "channel", pa.array(channels)),
                   tmp_path / "val.parquet", row_group_size=100)
    encoding = loader(small).encoding
    with caplog.at_level(logging.WARNING):
        ParquetStreamLoader(tmp_path / "val.parquet", COLUMNS, 100, False).use_encoding(encoding)
    warnings = [r.getMessage() for r in caplog.records if "'channel'" in r.getMessage()]
    assert len(warnings) == 1 and "2 of 500 rows" in warnings[0]


@pytest.mark.slow
def test_a_bad_value_in_a_late_row_group_stops_before_training(tmp_path, small):
    data = write_streaming_data(tmp_path / "data", train_rows=3000, val_rows=500, row_group_rows=700)
    part = data.train / "part-1.parquet"
    table = pq.read_table(part)
    distances = table.column("distance_km").to_pylist()
    distances[-1] = float("nan")
    pq.write_table(table.set_column(table.schema.get_field_index("distance_km"), "distance_km", pa.array(distances)),
                   part, row_group_size=700)
    done = run_cli(*RUN, *data.args(1000), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output
    assert f"{part}: column 'distance_km' has 1 missing, NaN or infinite value(s)" in output
    assert not (tmp_path / "experiments/vae/demo/checkpoints").exists()


@pytest.mark.slow
def test_csv_is_refused_with_a_conversion_command_that_works(tmp_path, small):
    csv = tmp_path / "train.csv"
    pa_csv.write_csv(pq.read_table(small.train / "part-0.parquet"), csv)
    args = (*RUN, "train.epochs=1", f"val.data_path={small.val}", f"data.cardinalities_path={small.cardinalities_path}",
            "train.loader_class=ParquetStreamLoader", "val.loader_class=ParquetStreamLoader")
    refused = run_cli(*args, f"train.data_path={csv}", cwd=tmp_path)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 2 and "Traceback" not in output
    assert conversion_command(csv) in output
    converted = subprocess.run(conversion_command(csv), shell=True, cwd=tmp_path, capture_output=True, text=True)
    assert converted.returncode == 0, converted.stderr
    assert pq.read_table(tmp_path / "train.parquet").num_rows == 1500
    trained = run_cli(*args, f"train.data_path={tmp_path / 'train.parquet'}", cwd=tmp_path)
    assert trained.returncode == 0, trained.stdout + trained.stderr


def test_a_csv_larger_than_the_available_memory_is_refused_before_reading(tmp_path):
    csv = tmp_path / "big.csv"
    csv.write_text("a,b\n" + "1,2\n" * 1000)
    check_csv_fits_in_memory(csv, available=csv.stat().st_size)
    with pytest.raises(DataError, match="larger than the memory available") as refused:
        check_csv_fits_in_memory(csv, available=csv.stat().st_size - 1)
    assert conversion_command(csv) in str(refused.value)


@pytest.fixture(scope="module")
def resumable(tmp_path_factory) -> StreamingData:
    return write_streaming_data(tmp_path_factory.mktemp("resumable"), train_rows=40000, val_rows=2000, row_group_rows=3000)


RESUME_ARGS = (*RUN, "train.epochs=3", "train.loader_params.batch_size=64")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, resumable) -> Path:
    cwd = tmp_path_factory.mktemp("uninterrupted")
    done = run_cli(*RESUME_ARGS, *resumable.args(5000), cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return cwd / "experiments/vae/demo"


def start_and_stop_in_epoch_2(cwd: Path, data: StreamingData, stop) -> CliProcess:
    training = CliProcess(*RESUME_ARGS, *data.args(5000), cwd=cwd)
    assert wait_until(lambda: epochs_logged(cwd / "experiments/vae/demo") >= 1, training), training.output
    time.sleep(0.5)
    stop(training.process)
    training.wait()
    return training


@pytest.mark.slow
def test_sigterm_mid_epoch_then_resume_gives_the_uninterrupted_weights(tmp_path, resumable, uninterrupted):
    training = start_and_stop_in_epoch_2(tmp_path, resumable, lambda p: p.send_signal(signal.SIGTERM))
    assert training.process.returncode == 128 + signal.SIGTERM, training.output
    state = load_checkpoint(tmp_path / "experiments/vae/demo/resume_state.pt")["trainer"]
    assert state["epoch"] == 1 and 0 < state["batch"] < 625, state
    resumed = run_cli(*RESUME_ARGS, *resumable.args(5000), "checkpoint.resume=auto", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"and {state['batch']} batch(es) of epoch 2" in resumed.stdout + resumed.stderr
    assert_same_run(tmp_path / "experiments/vae/demo", uninterrupted)


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_gives_the_uninterrupted_weights(tmp_path, resumable, uninterrupted):
    training = start_and_stop_in_epoch_2(tmp_path, resumable, lambda p: p.kill())
    assert training.process.returncode == -signal.SIGKILL
    assert load_checkpoint(tmp_path / "experiments/vae/demo/resume_state.pt")["trainer"]["batch"] == 0
    resumed = run_cli(*RESUME_ARGS, *resumable.args(5000), "checkpoint.resume=auto", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert_same_run(tmp_path / "experiments/vae/demo", uninterrupted)


@pytest.mark.slow
def test_extract_streams_the_same_embeddings_as_the_in_memory_loader(tmp_path, small):
    trained = run_cli(*RUN, "train.epochs=1", *small.args(1000), cwd=tmp_path)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    streamed = run_cli(*RUN, "task=extract", "~test", *small.args(1000), cwd=tmp_path)
    assert streamed.returncode == 0, streamed.stdout + streamed.stderr
    in_memory = run_cli(*RUN, "task=extract", "~train", "~test", f"val.data_path={small.val}",
                        f"data.cardinalities_path={small.cardinalities_path}", f"val.output={tmp_path / 'val.npy'}",
                        cwd=tmp_path)
    assert in_memory.returncode == 0, in_memory.stdout + in_memory.stderr
    embeddings = tmp_path / "experiments/vae/demo/embeddings"
    assert np.load(embeddings / "train_embeddings.npy").shape == (3000, 16)
    np.testing.assert_array_equal(np.load(embeddings / "val_embeddings.npy"), np.load(tmp_path / "val.npy"))
