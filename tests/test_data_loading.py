"""Loaders: encodings, batching, and clear errors for bad data."""
from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from vaesae.data.embedding import EmbeddingDataLoader
from vaesae.data.parallel import BLOCK_ROWS
from vaesae.data.tables import shared_dictionary
from vaesae.data.tabular import TabularDataLoader
from vaesae.errors import DataError

COLUMNS = {"numerical": ["amount", "hour"], "categorical": ["channel"], "embeddings": []}
CARDINALITIES = {"channel": {"online": 0, "store": 1}}


def tabular(path, columns=COLUMNS, **params) -> TabularDataLoader:
    return TabularDataLoader(path, columns, **{"batch_size": 4, "shuffle": False, "cardinalities": CARDINALITIES, **params})


def write_csv(tmp_path, frame: pd.DataFrame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def frame():
    return pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0, 5.0], "hour": [0, 6, 12, 18, 23], "channel": ["online", "store", "store", "online", "store"]})


def test_csv_and_parquet_give_the_same_tensors(tmp_path, frame):
    csv = write_csv(tmp_path, frame)
    parquet = tmp_path / "data.parquet"
    frame.to_parquet(parquet)
    loaders = [tabular(p) for p in (csv, parquet)]
    encoding = loaders[0].fit_encoding()
    for loader in loaders:
        loader.use_encoding(encoding)
    for name in ("numerical", "categorical"):
        assert torch.equal(loaders[0].tensors[name], loaders[1].tensors[name])
    assert loaders[0].tensors["numerical"].dtype == torch.float32
    assert loaders[0].tensors["categorical"].dtype == torch.int64
    assert loaders[0].tensors["categorical"][:, 0].tolist() == [0, 1, 1, 0, 1]


def test_numerical_scaling_is_fitted_on_the_training_split_only(tmp_path, frame):
    train = tabular(write_csv(tmp_path, frame))
    encoding = train.fit_encoding()
    shifted = frame.assign(amount=frame.amount + 100)
    val = tabular(write_csv(tmp_path, shifted, "val.csv")).use_encoding(encoding)
    assert encoding.means[0] == pytest.approx(3.0)
    assert val.tensors["numerical"][:, 0].mean().item() == pytest.approx(100 / encoding.stds[0], rel=1e-5)


def test_a_numerical_column_of_booleans_reads_as_zeros_and_ones(tmp_path, frame):
    loader = tabular(write_csv(tmp_path, frame.assign(hour=[True, False, True, True, False])))
    assert loader.fit_encoding().means[1] == pytest.approx(0.6)


def test_integer_labels_are_compared_as_strings(tmp_path):
    frame = pd.DataFrame({"amount": [1.0, 2.0], "hour": [1, 2], "channel": [7, 9]})
    loader = TabularDataLoader(write_csv(tmp_path, frame), COLUMNS, batch_size=2, shuffle=False,
                               cardinalities={"channel": {"7": 0, "9": 1}})
    loader.use_encoding(loader.fit_encoding())
    assert loader.tensors["categorical"][:, 0].tolist() == [0, 1]


def write_parquet(tmp_path, frame: pd.DataFrame, name="data.parquet", **options):
    path = tmp_path / name
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, **options)
    return path


@pytest.mark.parametrize("write", [write_csv, write_parquet])
def test_unknown_and_missing_labels_get_the_reserved_code_with_one_warning(tmp_path, frame, caplog, write):
    frame.loc[1, "channel"] = "atm"
    frame.loc[2, "channel"] = None
    frame.loc[3, "channel"] = "atm"
    loader = tabular(write(tmp_path, frame))
    with caplog.at_level(logging.WARNING):
        loader.use_encoding(loader.fit_encoding())
    assert loader.tensors["categorical"][:, 0].tolist() == [0, 2, 2, 2, 1]
    warnings = [r.getMessage() for r in caplog.records if "channel" in r.getMessage()]
    assert len(warnings) == 1 and "3 of 5 rows" in warnings[0]


def test_labels_spread_over_many_row_groups_get_the_same_codes(tmp_path):
    """Each Parquet row group has its own label dictionary; codes must not depend on it."""
    rng = np.random.default_rng(3)
    labels = rng.choice(np.array(["store", "online", "atm", None], dtype=object), size=5000)
    frame = pd.DataFrame({"amount": rng.random(5000), "hour": rng.integers(0, 24, 5000), "channel": labels})
    loader = tabular(write_parquet(tmp_path, frame, row_group_size=333))
    loader.use_encoding(loader.fit_encoding())
    expected = [CARDINALITIES["channel"].get(label, 2) for label in labels]
    assert loader.tensors["categorical"][:, 0].tolist() == expected


def test_csv_labels_first_seen_in_a_later_block_get_the_same_codes(tmp_path):
    """CSV label columns are read as text and share one dictionary, grown by the blocks that bring new labels."""
    rng = np.random.default_rng(4)
    rows = 300_000
    labels = np.where(np.arange(rows) < rows // 2, "store", rng.choice(np.array(["store", "online", "atm", ""]), rows))
    frame = pd.DataFrame({"amount": rng.random(rows), "hour": rng.integers(0, 24, rows), "channel": labels})
    loader = tabular(write_csv(tmp_path, frame))
    loader.use_encoding(loader.fit_encoding())
    expected = [CARDINALITIES["channel"].get(label, 2) for label in labels]
    assert loader.tensors["categorical"][:, 0].tolist() == expected


def test_csv_labels_that_are_not_utf8_are_an_error_naming_the_file(tmp_path):
    """The reader leaves UTF-8 to the label dictionary's check; a bad label past the header still fails the read."""
    path = tmp_path / "latin1.csv"
    path.write_bytes(("amount,hour,channel\n" + "1.0,2,store\n" * 100_000 + "2.0,3,caf\xe9\n").encode("latin-1"))
    with pytest.raises(DataError, match="latin1.csv: cannot parse CSV: .*invalid UTF8"):
        tabular(path)


def test_a_shared_dictionary_keeps_every_label_and_missing_value():
    text = pa.chunked_array([["b", None, "b"], ["c", "b", "a"], [None], []])
    encoded = shared_dictionary(text)
    assert encoded.to_pylist() == text.to_pylist()
    assert [chunk.dictionary.to_pylist() for chunk in encoded.chunks] == [["b", "c", "a"]] * 4


def test_many_blocks_and_columns_match_a_plain_numpy_encoding(tmp_path):
    """Rows are coded and scaled in blocks on several threads; the result must not show it."""
    rng = np.random.default_rng(5)
    rows = 3 * BLOCK_ROWS + 123
    frame = pd.DataFrame({
        "amount": rng.normal(50, 20, rows), "hour": rng.integers(0, 24, rows),
        "channel": rng.choice(["store", "online", "atm"], rows), "kind": rng.choice(["a", "b"], rows),
    })
    columns = {"numerical": ["amount", "hour"], "categorical": ["channel", "kind"], "embeddings": []}
    cardinalities = {**CARDINALITIES, "kind": {"b": 0, "a": 1}}
    loader = tabular(write_parquet(tmp_path, frame, row_group_size=10_000), columns, cardinalities=cardinalities)
    encoding = loader.fit_encoding()
    loader.use_encoding(encoding)
    raw = frame[["amount", "hour"]].to_numpy(np.float32)
    expected = (raw - np.float32(encoding.means)) / np.float32(encoding.stds)
    np.testing.assert_array_equal(loader.tensors["numerical"].numpy(), expected)
    codes = np.stack([frame.channel.map({**CARDINALITIES["channel"], "atm": 2}), frame.kind.map(cardinalities["kind"])], axis=1)
    np.testing.assert_array_equal(loader.tensors["categorical"].numpy(), codes)
    assert encoding.means == pytest.approx(raw.mean(axis=0, dtype=np.float64).tolist())


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda f: f.drop(columns=["hour"]), ["missing column(s) 'hour'", "the file has: amount, channel"]),
        (lambda f: f.assign(amount=["1", "x", "3", "y", "5"]), ["column 'amount' has 2 non-numeric value(s)", "'x'"]),
        (lambda f: f.assign(amount=[1.0, np.nan, 3.0, np.nan, 5.0]), ["column 'amount' has 2 missing, NaN or infinite value(s) in 5 rows"]),
        (lambda f: f.assign(hour=[1.0, np.inf, 3.0, 4.0, 5.0]), ["column 'hour' has 1 missing, NaN or infinite"]),
        (lambda f: f.iloc[:0], ["file has no data rows"]),
    ],
)
def test_bad_data_names_file_column_and_count(tmp_path, frame, mutate, expected):
    path = write_csv(tmp_path, mutate(frame))
    with pytest.raises(DataError) as caught:
        tabular(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        tabular(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="file is empty"):
        tabular(empty)


def test_batches_slice_a_seeded_permutation(tmp_path, frame):
    loader = tabular(write_csv(tmp_path, frame), shuffle=True, batch_size=2, seed=3)
    loader.use_encoding(loader.fit_encoding())
    first = torch.cat([b["numerical"] for b in loader.epoch(1)])
    again = torch.cat([b["numerical"] for b in loader.epoch(1)])
    other = torch.cat([b["numerical"] for b in loader.epoch(2)])
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert sorted(first[:, 0].tolist()) == sorted(loader.tensors["numerical"][:, 0].tolist())
    assert len(loader) == 3


def test_batches_in_input_order_are_copies(tmp_path, frame):
    """A model that changes its inputs in place must not change the loaded data."""
    loader = tabular(write_csv(tmp_path, frame), batch_size=2)
    loader.use_encoding(loader.fit_encoding())
    before = loader.tensors["numerical"].clone()
    batches = list(loader.epoch(0))
    for batch in batches:
        batch["numerical"].zero_()
    assert torch.equal(loader.tensors["numerical"], before)
    assert [len(b["numerical"]) for b in batches] == [2, 2, 1]


def test_num_batches_per_epoch_and_workers(tmp_path, frame):
    loader = tabular(write_csv(tmp_path, frame), batch_size=2, num_batches_per_epoch=2)
    loader.use_encoding(loader.fit_encoding())
    assert len(list(loader.epoch(1))) == 2 == len(loader)
    workers = tabular(write_csv(tmp_path, frame), batch_size=2, num_workers=2).use_encoding(loader.fit_encoding())
    in_process = tabular(write_csv(tmp_path, frame), batch_size=2).use_encoding(loader.fit_encoding())
    for a, b in zip(workers.epoch(1), in_process.epoch(1)):
        assert torch.equal(a["numerical"], b["numerical"])


def embedding_loader(path, **params):
    return EmbeddingDataLoader(path, {"embeddings": ["vae_embeddings"]}, batch_size=8, shuffle=False, **params)


def test_embedding_formats(tmp_path):
    array = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    np.save(tmp_path / "e.npy", array)
    np.savez(tmp_path / "e.npz", vae_embeddings=array)
    pq.write_table(pa.table({"vae_embeddings": list(array)}), tmp_path / "e.parquet")
    for name in ("e.npy", "e.npz", "e.parquet"):
        loader = embedding_loader(tmp_path / name)
        loader.use_encoding(loader.fit_encoding())
        assert np.array_equal(loader.tensors["embeddings"].numpy(), array), name


def test_embedding_shape_and_key_errors(tmp_path):
    np.save(tmp_path / "flat.npy", np.zeros(5))
    with pytest.raises(DataError, match="must be a 2-D numeric array, got shape \\(5,\\)"):
        embedding_loader(tmp_path / "flat.npy")
    np.savez(tmp_path / "other.npz", something=np.zeros((2, 2)))
    with pytest.raises(DataError, match="no array named 'vae_embeddings'; the file has: something"):
        embedding_loader(tmp_path / "other.npz")
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(DataError, match="1 row\\(s\\) of embeddings contain NaN"):
        embedding_loader(tmp_path / "nan.npy")


def test_bad_cardinalities_file_through_the_cli(cli, workdir, demo_dir):
    bad = workdir / "cards.json"
    bad.write_text(json.dumps({"channel": {"online": 0}}))
    result = cli("experiment.device=cpu", f"data.cardinalities_path={bad}")
    assert result.returncode == 2
    assert "no mapping {label: code} for categorical column 'merchant_type'" in result.stdout + result.stderr
