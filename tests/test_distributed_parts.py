"""The pieces of data-parallel training that need no second process: batch parts and the batch-size check."""
from __future__ import annotations

import pytest
import torch

from vaesae.engine.distributed import Ranks, RankShard, check_batches
from vaesae.errors import ConfigError


class CountingLoader:
    """Five batches of 7 rows whose values are their row numbers."""

    def __len__(self) -> int:
        return 5

    def epoch(self, epoch: int, first_batch: int = 0):
        for batch in range(first_batch, 5):
            rows = torch.arange(batch * 7, batch * 7 + 7)
            yield {"numerical": rows[:, None].float(), "categorical": rows[:, None]}


def test_the_ranks_parts_of_each_batch_are_contiguous_and_cover_it_once():
    parts = [list(RankShard(CountingLoader(), Ranks(rank, 3)).epoch(1, first_batch=2)) for rank in range(3)]
    assert [len(p) for p in parts] == [3, 3, 3]
    for index in range(3):
        rows = torch.cat([parts[rank][index]["categorical"] for rank in range(3)]).flatten()
        assert torch.equal(rows, torch.arange((index + 2) * 7, (index + 3) * 7))
    assert [parts[rank][0]["numerical"].shape[0] for rank in range(3)] == [3, 2, 2]


def test_a_batch_with_fewer_rows_than_ranks_is_refused_before_training():
    check_batches(Ranks(0, 2), rows=2000, batch_size=200, limited=False)
    check_batches(Ranks(0, 1), rows=2001, batch_size=200, limited=False)
    with pytest.raises(ConfigError, match="fewer rows than the 2 ranks"):
        check_batches(Ranks(0, 2), rows=2001, batch_size=200, limited=False)
    with pytest.raises(ConfigError, match="train.loader_params.batch_size: 1"):
        check_batches(Ranks(1, 2), rows=2000, batch_size=1, limited=True)
