"""The quality benchmark's own parts: its tables, its planted data, its command line."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd

from benchmarks.quality_data import planted, planted_frame
from benchmarks.quality_sae import ACTIVE_PER_ROW, planted_directions, planted_rows
from benchmarks.quality_vae import ColumnScore
from tests.conftest import REPO, cli_env


def test_planted_table_has_the_structure_it_promises(tmp_path):
    frame = planted_frame(3000, seed=1)
    within_group = frame.groupby("group")[["v0", "v1"]].std().mean()
    assert (within_group < 0.15).all() and (frame[["v0", "v1"]].std() > 1.0).all()
    assert abs(frame[["u0", "v0"]].corr().iloc[0, 1]) < 0.1
    table = planted(tmp_path)
    sizes = [len(pd.read_csv(table.path(split))) for split in ("train", "val", "test")]
    assert sizes == [16000, 2000, 2000]
    assert set(json.loads(table.cardinalities.read_text())["label"]) == {"no", "yes"}
    assert table.probe not in table.without_probe().categorical


def test_planted_directions_are_unit_and_rows_have_about_four_active():
    directions = planted_directions()
    assert np.allclose(np.linalg.norm(directions, axis=1), 1.0)
    _, l0 = planted_rows(directions, 20000, seed=1)
    assert abs(l0 - ACTIVE_PER_ROW) < 0.1


def test_ratios_read_as_better_than_the_baseline_above_one():
    assert ColumnScore("x", "rmse", model=0.5, baseline=1.0).ratio == 2.0
    assert ColumnScore("c", "accuracy", model=0.9, baseline=0.3).ratio == 3.0


def test_command_documents_its_parts():
    done = subprocess.run([sys.executable, "-m", "benchmarks.quality", "--help"], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--only" in done.stdout and "sae" in done.stdout
