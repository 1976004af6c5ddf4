"""Feature-card traits: missing labels, complements of binary columns, ranking by distinction."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vaesae.report.cards import (
    MISSING_LABEL, Population, categorical_lift, contrast, contrast_tables, numerical_shift, summary_line,
)


def test_a_missing_label_is_a_label_not_a_number():
    population = pd.DataFrame({"country": ["US", "", "US", None, "FR", "US", "US", "US"], "amount": np.arange(8.0)})
    table = contrast(Population(population, ["amount"], ["country"], ""), np.array([1, 3]))
    missing = table[(table["column"] == "country") & (table["label"] == MISSING_LABEL)].iloc[0]
    assert missing["strong"] == 1.0 and missing["population"] == 0.25
    numerical_part, categorical_part = contrast_tables(table)
    assert "country" not in numerical_part and "amount" in numerical_part
    assert f"| country | {MISSING_LABEL} | 100.0% | 25.0% |" in categorical_part


def test_the_falling_label_of_a_binary_column_is_not_a_second_trait():
    population = pd.DataFrame({
        "online": ["yes"] * 50 + ["no"] * 50,
        "merchant": ["travel"] * 30 + ["food"] * 40 + ["fuel"] * 30,
    })
    strong = population.iloc[:30]  # all online, all travel
    line = summary_line(categorical_lift(strong, population, ["online", "merchant"]))
    assert line.split("; ") == ["merchant=travel (100% vs 30%)", "online=yes (100% vs 50%)", "merchant=food (0% vs 40%)"]


def test_traits_are_ranked_by_cohens_h_so_rare_labels_do_not_crowd_out_common_ones():
    population = pd.DataFrame({"rare": ["r"] * 10 + ["c"] * 9990, "common": ["a", "b"] * 5000})
    strong = pd.DataFrame({"rare": ["r"] * 2 + ["c"] * 98, "common": ["b"] * 75 + ["a"] * 25})
    table = categorical_lift(strong, population, ["rare", "common"]).set_index(["column", "label"])
    rare, common = table.loc[("rare", "r")], table.loc[("common", "b")]
    assert rare["shift_sd"] > common["shift_sd"]  # 0.60 vs 0.50: a 0/1 indicator's SD favours the rare label
    assert common["distinction"] == pytest.approx(2 * math.asin(math.sqrt(0.75)) - 2 * math.asin(math.sqrt(0.5)))
    assert common["distinction"] > 2 * rare["distinction"]
    assert summary_line(table.reset_index()) == "common=b (75% vs 50%)"


def test_numerical_distinction_is_the_size_of_the_shift_in_standard_deviations():
    population = pd.DataFrame({"x": [0.0, 0.0, 2.0, 2.0]})
    shift = numerical_shift(population.iloc[:2], population, ["x"]).iloc[0]
    assert shift["shift_sd"] == -1.0 and shift["distinction"] == 1.0
