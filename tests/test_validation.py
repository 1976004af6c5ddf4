"""Every validation rule reports the key path, the bad value and what is accepted."""
from __future__ import annotations

import copy

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from vaesae.app import CONFIG_DIR
from vaesae.config.validate import validate
from vaesae.errors import ConfigError


@pytest.fixture(scope="module")
def base(demo_dir) -> dict:
    """The packaged default config, resolved to plain containers."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAESAE_DEMO_DIR", str(demo_dir))
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose("config")
        container = OmegaConf.to_container(cfg, resolve=True)
    container["experiment"]["device"] = "cpu"
    return container


def problems_of(container: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(container)
    return caught.value.problems


def with_change(base: dict, path: str, value) -> dict:
    changed = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    if value is DELETE:
        node.pop(last)
    else:
        node[last] = value
    return changed


DELETE = object()


def test_base_config_is_valid(base):
    validate(base)


@pytest.mark.parametrize(
    "path,value,expected",
    [
        ("experiment.nmae", "x", ["experiment.nmae: unknown key", "did you mean 'name'"]),
        ("train.epochs", "ten", ["train.epochs: expected an integer", "'ten'"]),
        ("train.loader_params.shuffle", "yes", ["train.loader_params.shuffle: expected true/false"]),
        ("data.columns.numerical", "amount", ["data.columns.numerical: expected a list of a string"]),
        ("checkpoint.mode", "minimum", ["checkpoint.mode: 'minimum' is not one of min, max"]),
        ("checkpoint.save_strategy", "every", ["checkpoint.save_strategy: 'every' is not one of best, last, all"]),
        ("val.early_stopping.direction", "up", ["val.early_stopping.direction: 'up'"]),
        ("experiment.device", "gpu", ["experiment.device: 'gpu' is not one of cpu, cuda, cuda:N"]),
        ("model.class", "VAEE", ["model.class: unknown model 'VAEE'", "did you mean 'VAE'", "registered: SAE, VAE"]),
        ("train.loss.class", "KLLoss", ["train.loss.class: unknown loss 'KLLoss'", "registered:"]),
        ("train.loader_class", "CsvLoader", ["train.loader_class: unknown data loader", "TabularDataLoader"]),
        ("train.optimizer_config.optimizer", "Adamm", ["train.optimizer_config.optimizer: unknown optimizer 'Adamm'", "did you mean 'Adam'"]),
        ("train.optimizer_config.momentum", 0.9, ["train.optimizer_config.momentum: not a parameter of Adam", "accepted:"]),
        ("model.params.latnt_dim", 4, ["model.params.latnt_dim: not a parameter of VAE", "did you mean 'latent_dim'"]),
        ("train.loader_params.batch_sise", 4, ["train.loader_params.batch_sise: not a parameter", "did you mean 'batch_size'"]),
        ("train.loss.params.beta", "abc", ["train.loss.params.beta: expected float, got 'abc'"]),
        ("model.params.latent_dim", 2.5, ["model.params.latent_dim: expected int, got 2.5"]),
        ("model.params.hidden_dims", [64, "wide"], ["model.params.hidden_dims: expected a list of int, got [64, 'wide']"]),
        ("train.optimizer_config.betas", [0.9], ["train.optimizer_config.betas: expected a list of", "got [0.9]"]),
        ("train.optimizer_config.amsgrad", "sometimes", ["train.optimizer_config.amsgrad: expected bool, got 'sometimes'"]),
        ("train.loader_params.batch_size", 0, ["train.loader_params.batch_size: must be at least 1"]),
        ("checkpoint.metric", "val_accuracy", ["checkpoint.metric: 'val_accuracy' is not a metric this run logs", "val_kl_loss"]),
        ("val.early_stopping.metric", "val_los", ["val.early_stopping.metric: 'val_los'", "did you mean 'val_loss'"]),
        ("data.cardinalities_path", None, ["data.cardinalities_path: required when data.columns.categorical"]),
        ("experiment.seed", DELETE, ["experiment.seed: required for task=train"]),
        ("train.epochs", DELETE, ["train.epochs: required for task=train"]),
        ("experiment.name", DELETE, ["experiment.name: missing required value"]),
    ],
)
def test_each_problem_names_its_key(base, path, value, expected):
    messages = "\n".join(problems_of(with_change(base, path, value)))
    for fragment in expected:
        assert fragment in messages


@pytest.mark.parametrize("path,value", [
    ("train.loss.params.beta", 2), ("model.params.hidden_dims", [32]), ("train.optimizer_config.betas", [0.8, 0.9]),
    ("train.optimizer_config.weight_decay", 0), ("model.params.input_dim", None),
])
def test_values_that_fit_their_parameter_pass(base, path, value):
    validate(with_change(base, path, value))


def test_val_metric_without_val_section(base):
    container = with_change(base, "val", DELETE)
    messages = "\n".join(problems_of(container))
    assert "checkpoint.metric: 'val_loss' is not a metric this run logs (val_* metrics need a val section)" in messages
    assert "train_loss" in messages


def test_all_column_lists_empty(base):
    container = with_change(base, "data.columns", {"numerical": [], "categorical": [], "embeddings": []})
    assert any(p.startswith("data.columns: all of numerical, categorical and embeddings are empty") for p in problems_of(container))


def test_column_listed_twice(base):
    container = with_change(base, "data.columns.categorical", ["channel", "distance_km"])
    assert any("column 'distance_km' is listed twice" in p for p in problems_of(container))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_names_the_cpu_override(base):
    messages = problems_of(with_change(base, "experiment.device", "cuda"))
    assert any("experiment.device: 'cuda'" in p and "experiment.device=cpu" in p for p in messages)


def test_extract_requirements(base):
    container = with_change(base, "task", "extract")
    container["checkpoint"] = {"load_strategy": "epoch_x"}
    container["val"].pop("output")
    messages = "\n".join(problems_of(container))
    assert "checkpoint.path: required for task=extract" in messages
    assert "checkpoint.load_strategy: 'epoch_x' is not one of best, last, epoch_N" in messages
    assert "val.output: required for task=extract" in messages


def test_predict_requires_test_output_and_metrics_loss(base):
    container = with_change(base, "task", "predict")
    container["test"].pop("output")
    container["test"]["metrics"] = {"compute": True}
    messages = "\n".join(problems_of(container))
    assert "test.output: required for task=predict" in messages
    assert "test.metrics.loss: required when test.metrics.compute is true" in messages


def test_all_problems_reported_at_once_through_the_cli(cli):
    result = cli("experiment.device=cpu", "checkpoint.mode=minimum", "model.class=VAEE", "train.epochs=0")
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "3 problem(s)" in output
    for key in ("checkpoint.mode", "model.class", "train.epochs"):
        assert key in output
    assert "Traceback" not in output


def test_vae_sizes_must_be_positive(cli):
    result = cli("experiment.device=cpu", "model.params.latent_dim=0", "dry_run=true")
    assert result.returncode == 2
    assert "model.params: latent_dim (0)" in result.stdout + result.stderr
