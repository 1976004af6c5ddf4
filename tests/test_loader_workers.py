"""``num_workers`` on in-memory tensors: a valid setting that starts no processes and changes no batch."""
from __future__ import annotations

import json
import logging
import multiprocessing

import torch

from vaesae.data.batching import say_workers_unused
from vaesae.data.demo import write_demo_data
from vaesae.data.tabular import TabularDataLoader

COLUMNS = {"numerical": ["log_amount_normalized", "distance_km"], "categorical": ["channel"]}


def loader(folder, workers: int) -> TabularDataLoader:
    made = TabularDataLoader(folder / "train.csv", COLUMNS, batch_size=64, shuffle=True, num_workers=workers,
                             cardinalities=json.loads((folder / "cardinalities.json").read_text()))
    return made.use_encoding(made.fit_encoding())


def test_workers_are_not_started_and_batches_are_the_same(tmp_path, caplog):
    write_demo_data(tmp_path, n_train=500, n_val=10, n_test=10)
    say_workers_unused.cache_clear()
    with caplog.at_level(logging.INFO, logger="vaesae"):
        with_workers, in_process = loader(tmp_path, 4), loader(tmp_path, 0)
        loader(tmp_path, 4)
    said = [r.getMessage() for r in caplog.records if "num_workers=4" in r.getMessage()]
    assert len(said) == 1 and "sliced in this process" in said[0]
    for epoch in (1, 2):
        batches = with_workers.epoch(epoch)
        first = next(batches)
        assert multiprocessing.active_children() == []
        reference = list(in_process.epoch(epoch))
        for mine, theirs in zip([first, *batches], reference):
            assert all(torch.equal(mine[name], theirs[name]) for name in theirs)
