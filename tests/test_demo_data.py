from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from vaesae.data.demo import (
    DEMO_CATEGORICAL,
    DEMO_NUMERICAL,
    demo_cardinalities,
    generate_transactions,
    write_demo_data,
)

N = 20_000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return generate_transactions(N, seed=7)


def test_same_seed_same_frame_other_seed_differs(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(frame, generate_transactions(N, seed=7))
    other = generate_transactions(N, seed=8)
    assert not frame.equals(other)
    assert not np.array_equal(frame["log_amount_normalized"], other["log_amount_normalized"])


def test_columns_and_dtypes(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == DEMO_NUMERICAL + DEMO_CATEGORICAL
    assert len(frame) == N
    for column in DEMO_NUMERICAL:
        assert frame[column].dtype == np.float64
    for column in DEMO_CATEGORICAL:
        assert pd.api.types.is_string_dtype(frame[column])
    assert list(generate_transactions(0, seed=0).columns) == DEMO_NUMERICAL + DEMO_CATEGORICAL


def test_labels_are_known_and_codes_contiguous(frame: pd.DataFrame) -> None:
    cardinalities = demo_cardinalities()
    assert set(cardinalities) == set(DEMO_CATEGORICAL)
    for column, mapping in cardinalities.items():
        assert all(isinstance(label, str) for label in mapping)
        assert sorted(mapping.values()) == list(range(len(mapping)))
        assert set(frame[column].unique()) == set(mapping)


def test_value_ranges(frame: pd.DataFrame) -> None:
    hour = frame["transaction_hour"]
    assert hour.between(0, 23).all()
    assert (hour == hour.round()).all()
    assert hour.nunique() == 24
    assert (frame["distance_km"] >= 0).all()
    assert frame.notna().all().all()
    amount = frame["log_amount_normalized"]
    assert abs(amount.mean()) < 0.05
    assert abs(amount.std() - 1.0) < 0.05


def test_columns_are_correlated(frame: pd.DataFrame) -> None:
    distance = frame.groupby("channel")["distance_km"]
    assert distance.mean()["online"] < 0.25 * distance.mean()["store"]
    assert distance.median()["online"] < 0.5 < distance.median()["store"]

    by_channel = pd.crosstab(frame["channel"], frame["merchant_type"], normalize="index")
    total_variation = 0.5 * (by_channel.loc["online"] - by_channel.loc["store"]).abs().sum()
    assert total_variation > 0.2

    counts = pd.crosstab(frame["channel"], frame["merchant_type"]).to_numpy(dtype=float)
    expected = counts.sum(1, keepdims=True) * counts.sum(0, keepdims=True) / counts.sum()
    chi2 = ((counts - expected) ** 2 / expected).sum()
    cramers_v = np.sqrt(chi2 / (counts.sum() * (min(counts.shape) - 1)))
    assert cramers_v > 0.2

    amount = frame.groupby("merchant_type")["log_amount_normalized"].mean()
    assert amount["travel"] > amount["restaurant"] + 1.0
    foreign = (frame["country_code"] != "US").groupby(frame["merchant_type"]).mean()
    assert foreign["travel"] > 2 * foreign["grocery"]


def test_write_demo_data_is_byte_identical(tmp_path) -> None:
    first = write_demo_data(tmp_path / "a", seed=3)
    second = write_demo_data(tmp_path / "b", seed=3)
    assert set(first) == {"train", "val", "test", "cardinalities"}
    for key, path in first.items():
        assert path.parent == tmp_path / "a" and path.is_file()
        assert path.read_bytes() == second[key].read_bytes()

    assert json.loads(first["cardinalities"].read_text()) == demo_cardinalities()
    splits = {name: pd.read_csv(first[name]) for name in ("train", "val", "test")}
    assert [len(splits[name]) for name in ("train", "val", "test")] == [20000, 4000, 4000]
    for split in splits.values():
        assert list(split.columns) == DEMO_NUMERICAL + DEMO_CATEGORICAL
        for column, mapping in demo_cardinalities().items():
            assert set(split[column]) <= set(mapping)
    assert not splits["val"].equals(splits["test"])
    assert first["train"].read_bytes() != write_demo_data(tmp_path / "c", seed=4)["train"].read_bytes()


def test_one_million_rows() -> None:
    big = generate_transactions(1_000_000, seed=0)
    assert len(big) == 1_000_000
    assert big["transaction_hour"].between(0, 23).all()
    assert (big["distance_km"] >= 0).all()
