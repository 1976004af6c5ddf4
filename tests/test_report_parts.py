"""The numbers behind the pictures: best epoch, early stop, feature-card contrasts, sweep tables."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.test_report import assert_picture
from vaesae.report.cards import categorical_lift, numerical_shift, strongest, summary_line
from vaesae.report.canvas import style
from vaesae.engine.improvement import best_row
from vaesae.report.run_folder import early_stop_epoch
from vaesae.report.sweep import draw_sweep, read_sweep_results, swept_parameters


def rows(values: list[float], key: str = "val_loss") -> list[dict]:
    return [{"epoch": float(i + 1), key: v} for i, v in enumerate(values)]


def test_best_row_is_the_first_strict_improvement_never_beaten():
    metrics = rows([3.0, math.nan, 2.0, 2.0, 2.5])
    assert best_row(metrics, "val_loss", "min")["epoch"] == 3
    assert best_row(rows([0.1, 0.3, 0.3], "val_acc"), "val_acc", "max")["epoch"] == 2
    assert best_row(rows([math.nan]), "val_loss", "min") is None


def test_early_stop_is_replayed_with_the_training_rule():
    config = {"val": {"early_stopping": {"metric": "val_loss", "direction": "min", "patience": 2}}}
    assert early_stop_epoch(rows([3.0, 2.0, 2.5, 2.4]), config) == 4
    assert early_stop_epoch(rows([3.0, 2.0, 1.5, 1.4]), config) is None
    assert early_stop_epoch(rows([3.0, 2.0, 2.5, 2.4]), {"val": {}}) is None
    sparse = [{"epoch": 1.0, "val_loss": 3.0}, {"epoch": 2.0}, {"epoch": 3.0, "val_loss": 3.1},
              {"epoch": 4.0}, {"epoch": 5.0, "val_loss": 3.2}]
    assert early_stop_epoch(sparse, config) == 5


def test_numerical_shift_is_in_population_standard_deviations():
    population = pd.DataFrame({"x": [0.0, 0.0, 2.0, 2.0]})
    shift = numerical_shift(population.iloc[2:], population, ["x"]).iloc[0]
    assert (shift["strong"], shift["population"], shift["shift_sd"]) == (2.0, 1.0, 1.0)


def test_categorical_lift_compares_shares():
    population = pd.DataFrame({"c": ["a", "a", "a", "b"]})
    lift = categorical_lift(population.iloc[3:], population, ["c"]).set_index("label")
    assert lift.loc["b", "strong"] == 1.0 and lift.loc["b", "population"] == 0.25
    assert lift.loc["b", "lift"] == pytest.approx(4.0) and lift.loc["a", "lift"] == 0.0
    assert lift.loc["b", "shift_sd"] == pytest.approx(0.75 / math.sqrt(0.25 * 0.75))
    assert "c=b (100% vs 25%)" in summary_line(lift.reset_index())


def test_strongest_rows_are_active_and_at_least_top_rows():
    values = np.array([0.0, 3.0, 1.0, 0.0, 2.0] + [0.0] * 95)
    assert list(strongest(values, top_rows=2)) == [1, 4, 2]
    assert list(strongest(values, top_rows=10)) == [1, 4, 2]
    assert len(strongest(np.arange(1000, dtype=float), top_rows=10)) == 50


def test_swept_parameters_are_the_overrides_that_vary():
    table = pd.DataFrame({"job": ["0", "1"], "status": "completed", "metric": "val_loss", "mode": "min",
                          "best_value": [1.0, 2.0], "best_epoch": [3, 4], "lr": [0.1, 0.01], "epochs": [2, 2]})
    assert swept_parameters(table) == ["lr"]
    assert swept_parameters(table.iloc[:1]) == ["lr", "epochs"]


def test_sweep_picture_with_a_categorical_parameter_and_a_failed_job(tmp_path):
    table = pd.DataFrame({
        "job": ["0", "1", "2", "3", "4", "5"],
        "status": ["completed"] * 5 + ["no result"],
        "metric": "val_loss", "mode": "min",
        "best_value": [4.0, 3.5, 3.9, 3.2, 3.0, math.nan],
        "best_epoch": [5, 6, 7, 8, 9, math.nan],
        "model.params.activation": ["relu", "topk", "relu", "topk", "topk", "relu"],
        "train.optimizer_config.learning_rate": [1e-4, 1e-4, 1e-3, 1e-3, 1e-2, 1e-2],
    })
    table.to_csv(tmp_path / "results.csv", index=False)
    with style():
        path = draw_sweep(read_sweep_results(tmp_path / "results.csv"), tmp_path, "grid")
    assert path.name == "sweep_val_loss.png"
    assert_picture(path)
