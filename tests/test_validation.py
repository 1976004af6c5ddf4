"""Every validation rule reports the key path, the bad value and what is accepted."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from tests.conftest import REPO, SMALL_DEMO
from vaesae.app import CONFIG_DIR
from vaesae.config.validate import check_machine, validate
from vaesae.data.demo import write_demo_data
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


def validation_problems(container: dict) -> list[str]:
    try:
        validate(container)
    except ConfigError as error:
        return error.problems
    return []


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
        ("experiment.seed", 2**32, ["experiment.seed: must be at most 4294967295", "got 4294967296"]),
        ("experiment.seed", -1, ["experiment.seed: must be at least 0"]),
        ("train.loader_params.num_workers", 65, ["train.loader_params.num_workers: must be at most 64"]),
        ("train.loss.params.beta", -0.5, ["train.loss.params.beta: must be at least 0, got -0.5"]),
        ("train.loss.params.beta", float("inf"), ["train.loss.params.beta: must be a finite number"]),
        ("train.optimizer_config.learning_rate", 0, ["train.optimizer_config.learning_rate: must be a finite number above 0"]),
        ("train.optimizer_config.learning_rate", float("nan"), ["train.optimizer_config.learning_rate: must be a finite number above 0, got nan"]),
        ("val.early_stopping.metric", "train_loss", ["val.early_stopping.metric: 'train_loss' is not a validation metric", "available: val_loss"]),
        ("val.frequency", 30, ["val.frequency: 30 is more than train.epochs (20), so validation would never run"]),
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


@pytest.mark.parametrize("params,expected", [
    ({"buffer_rows": 64}, []),
    ({"buffer_rows": "many"}, ["train.loader_params.buffer_rows: expected int, got 'many'"]),
    ({"shufle": True}, ["train.loader_params.shufle: not a parameter of ParquetStreamLoader (did you mean 'shuffle'?)"]),
    ({"shuffle": "yes"}, ["train.loader_params.shuffle: expected bool, got 'yes'"]),
])
def test_a_loader_passing_kwargs_to_its_base_is_checked_against_both(base, params, expected):
    """ParquetStreamLoader declares only buffer_rows and hands the rest to BaseDataLoader."""
    container = with_change(base, "train.loader_class", "ParquetStreamLoader")
    container["train"]["loader_params"].update(params)
    found = [p for p in validation_problems(container) if p.startswith("train.loader_params")]
    assert [any(fragment in problem for problem in found) for fragment in expected] == [True] * len(expected), found
    assert bool(found) == bool(expected), found


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
    with pytest.raises(ConfigError) as caught:
        check_machine("cuda")
    assert "experiment.device: 'cuda'" in str(caught.value) and "experiment.device=cpu" in str(caught.value)
    messages = problems_of(with_change(with_change(base, "experiment.device", "cuda"), "train.epochs", 0))
    assert any("experiment.device: 'cuda'" in p for p in messages), "listed with the config's other problems"


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


DOCUMENTED = REPO / "tests" / "configs" / "documented"
CONFIG_KINDS = {"packaged": (), "documented": ("--config-dir", str(DOCUMENTED), "--config-name", "train_vae")}


@pytest.fixture(params=sorted(CONFIG_KINDS))
def config_args(request) -> tuple[str, ...]:
    """The packaged config, or a documented example run as the user's own primary config."""
    return CONFIG_KINDS[request.param]


def output_of(result) -> str:
    return result.stdout + result.stderr


def test_wrong_values_of_typed_fields_are_all_reported_as_config_problems(cli, config_args):
    result = cli(*config_args, "train.epochs=ten", "experiment.seed=99999999999999999999", "report.figures=maybe",
                 "train.loss.params.beta=abc")
    output = output_of(result)
    assert result.returncode == 2, output
    for expected in ("train.epochs: expected an integer, got 'ten'", "experiment.seed: must be at most 4294967295",
                     "report.figures: expected true/false, got 'maybe'", "train.loss.params.beta: expected float, got 'abc'"):
        assert expected in output
    assert "Traceback" not in output and "Error executing job" not in output


VALUE_RULES = {
    "train.loader_params.num_workers=100": "train.loader_params.num_workers: must be at most 64",
    "train.loss.params.beta=-1": "train.loss.params.beta: must be at least 0",
    "train.optimizer_config.learning_rate=nan": "train.optimizer_config.learning_rate: must be a finite number above 0",
    "val.early_stopping.metric=train_loss": "val.early_stopping.metric: 'train_loss' is not a validation metric",
    "train.epochs=3": "val.frequency: 5 is more than train.epochs (3)",
}


def test_value_rules_on_both_kinds_of_config(cli, config_args):
    result = cli(*config_args, *VALUE_RULES, "val.frequency=5", "dry_run=true")
    assert result.returncode == 2, output_of(result)
    for expected in VALUE_RULES.values():
        assert expected in output_of(result)


def test_misspelt_key_on_the_command_line_is_a_config_problem(cli, config_args):
    result = cli(*config_args, "train.epoch=3")
    assert result.returncode == 2
    assert "train.epoch: unknown key (did you mean 'epochs'?)" in output_of(result)


def test_unparsable_override_exits_2_naming_it(cli):
    override = "train.epochs=1,,2"
    result = cli(override)
    assert result.returncode == 2
    assert f"{override!r}: not a valid override" in output_of(result)
    assert "Traceback" not in output_of(result)


def test_documented_keys_override_a_user_config_that_lacks_them(cli):
    result = cli(*CONFIG_KINDS["documented"], "report.figures=false", "mlflow.on_unreachable=skip",
                 "checkpoint.resume=auto", "test.metrics.compute=true", "--cfg", "job")
    assert result.returncode == 0, output_of(result)
    shown = OmegaConf.create(result.stdout)
    assert shown.report.figures is False and shown.mlflow.on_unreachable == "skip"
    assert shown.checkpoint.resume == "auto" and shown.test.metrics.compute is True


@pytest.fixture
def project(workdir) -> Path:
    """The working folder with the documented examples' data in data/."""
    write_demo_data(workdir / "data", **SMALL_DEMO)
    return workdir


def test_user_config_runs_with_overrides_of_keys_it_lacks(cli, project):
    result = cli(*CONFIG_KINDS["documented"], "experiment.device=cpu", "~mlflow", "~model.params.input_dim",
                 "report.figures=false", "train.epochs=1", "val.frequency=1")
    assert result.returncode == 0, output_of(result)
    run = project / "experiments/vae/baseline"
    assert (run / "checkpoints/best_model.pt").is_file() and not (run / "figures").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_documented_example_reports_all_its_problems_in_one_run(cli, project):
    result = cli(*CONFIG_KINDS["documented"], "mlflow.tracking_uri=http://127.0.0.1:9")
    output = output_of(result)
    assert result.returncode == 2, output
    assert "3 problem(s) found before any work started" in output
    assert "experiment.device: 'cuda'" in output and "127.0.0.1:9" in output and "model.params.input_dim: 784" in output
    assert not (project / "experiments/vae/baseline/checkpoints").exists()


def test_dry_run_refuses_a_folder_that_already_holds_checkpoints(cli, project):
    checkpoints = project / "experiments/vae/demo/checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "best_model.pt").write_bytes(b"earlier run")
    result = cli("experiment.device=cpu", "dry_run=true")
    assert result.returncode == 2
    assert "already holds checkpoints (best_model.pt)" in output_of(result)
    assert (checkpoints / "best_model.pt").read_bytes() == b"earlier run"


def test_user_config_including_the_preset_gets_vaesae_hydra_settings(cli, workdir):
    (workdir / "mine.yaml").write_text((DOCUMENTED / "train_vae.yaml").read_text().replace(
        "experiment:", "defaults:\n  - hydra/preset: vaesae\n  - _self_\n\nexperiment:", 1))
    result = cli("--config-dir", str(workdir), "--config-name", "mine", "--cfg", "hydra")
    assert result.returncode == 0, output_of(result)
    hydra = OmegaConf.to_container(OmegaConf.create(result.stdout).hydra, resolve=False)
    assert hydra["run"]["dir"] == "${experiment.output_dir}/${experiment.name}" and hydra["job"]["chdir"] is False
    assert hydra["callbacks"]["vaesae_output_folder"]["_target_"] == "vaesae.output_check.OutputFolderCheck"
