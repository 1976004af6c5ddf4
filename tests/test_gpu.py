"""The GPU path: the training table lives on the device and outputs come back through pinned buffers.

The CUDA tests run where a GPU is present and are reported as skipped, with the
reason, everywhere else; the CPU half of each contract runs everywhere.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.conftest import FAST_TRAIN
from vaesae.data.demo import write_demo_data
from vaesae.data.tabular import TabularDataLoader
from vaesae.engine.device_data import host_arrays, place_on_device

CUDA = torch.device("cuda")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
COLUMNS = {"numerical": ["log_amount_normalized", "distance_km"], "categorical": ["channel", "merchant_type"]}


@pytest.fixture
def loader(tmp_path) -> TabularDataLoader:
    write_demo_data(tmp_path, n_train=700, n_val=10, n_test=10)
    made = TabularDataLoader(tmp_path / "train.csv", COLUMNS, batch_size=64, shuffle=True,
                             cardinalities=json.loads((tmp_path / "cardinalities.json").read_text()))
    return made.use_encoding(made.fit_encoding())


def outputs(count: int) -> list[torch.Tensor]:
    return [torch.arange(6, dtype=torch.float64).reshape(2, 3) + index for index in range(count)] + [torch.ones(1, 3)]


def test_on_the_cpu_nothing_moves_and_outputs_pass_through(loader):
    before = dict(loader.tensors)
    place_on_device(loader, torch.device("cpu"))
    assert all(loader.tensors[name] is before[name] for name in before)
    arrays = [array.copy() for array in host_arrays(outputs(3), torch.device("cpu"))]
    assert [a.tolist() for a in arrays] == [t.float().numpy().tolist() for t in outputs(3)]


@needs_cuda
def test_training_table_on_the_device_and_batches_sliced_there(loader):
    reference = [batch for batch in loader.epoch(1)]
    place_on_device(loader, CUDA)
    assert all(tensor.is_cuda for tensor in loader.tensors.values())
    on_device = list(loader.epoch(1))
    assert all(tensor.is_cuda for batch in on_device for tensor in batch.values())
    for mine, theirs in zip(on_device, reference):
        assert all(torch.equal(mine[name].cpu(), theirs[name]) for name in theirs)


@needs_cuda
def test_outputs_come_back_through_pinned_buffers_in_order():
    expected = [t.float().numpy() for t in outputs(5)]
    arrays = [array.copy() for array in host_arrays((t.to(CUDA) for t in outputs(5)), CUDA)]
    assert all(np.array_equal(a, b) for a, b in zip(arrays, expected)) and len(arrays) == len(expected)


@needs_cuda
def test_cli_trains_and_extracts_on_cuda(cli, workdir):
    train = cli(*FAST_TRAIN[:1], "experiment.device=cuda", "report.figures=false")
    assert train.returncode == 0, train.stdout + train.stderr
    log = (workdir / "experiments/vae/demo/vaesae.log").read_text()
    assert "tensors on cuda" in log
    extract = cli("task=extract", "experiment.device=cuda")
    assert extract.returncode == 0, extract.stdout + extract.stderr
    assert np.load(workdir / "experiments/vae/demo/embeddings/val_embeddings.npy").shape == (1000, 16)
