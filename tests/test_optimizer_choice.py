"""The optimizer ``task=train`` builds: torch's fused kernel unless the config chooses an implementation."""
from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from tests.in_process import run_main
from vaesae.engine.checkpoint_io import load_checkpoint
from vaesae.tasks.parts import build_optimizer


def built(**config) -> dict:
    parameters = [torch.nn.Parameter(torch.zeros(3))]
    optimizer = build_optimizer(OmegaConf.create({"learning_rate": 0.01, **config}), parameters)
    return optimizer.param_groups[0]


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD"])
def test_an_optimizer_with_a_fused_kernel_gets_it_when_the_config_is_silent(name):
    assert built(optimizer=name)["fused"] is True


@pytest.mark.parametrize("choice", [{"fused": False}, {"foreach": True}, {"foreach": False}, {"differentiable": True}])
def test_an_implementation_chosen_in_the_config_is_kept(choice):
    group = built(optimizer="Adam", **choice)
    assert not group["fused"]
    assert all(group[key] == value for key, value in choice.items())


def test_an_optimizer_outside_the_fused_list_keeps_torch_defaults():
    assert not built(optimizer="Adagrad").get("fused")
    assert "fused" not in built(optimizer="RMSprop")


def test_a_training_run_steps_with_the_fused_kernel_and_records_it(workdir):
    outcome = run_main("experiment.device=cpu", "report.figures=false", "train.epochs=1", "val.early_stopping=null",
                       cwd=workdir)
    assert outcome.code == 0, outcome.output
    checkpoint = load_checkpoint(workdir / "experiments/vae/demo/checkpoints/best_model.pt")
    groups = checkpoint["optimizer_state"]["param_groups"]
    assert [group["fused"] for group in groups] == [True]
