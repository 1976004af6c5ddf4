"""The parts of tracking that need no store: URI forms, secrets kept out of overrides, params, sweep keys."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from vaesae.config.redact import MASK, conceal_config, conceal_overrides, hidden_env, redacted_overrides
from vaesae.config.validate import validate
from vaesae.errors import ConfigError
from vaesae.tracking.hydra_callback import swept_keys
from vaesae.tracking.params import flatten
from vaesae.tracking.settings import absolute_uri, store_kind, uri_problem

PASSWORD_KEY = "mlflow.credentials.password"


@pytest.mark.parametrize("uri, kind", [
    ("https://mlflow.example.com", "http"),
    ("http://127.0.0.1:5000", "http"),
    ("sqlite:///mlflow.db", "sqlite"),
    ("sqlite:////abs/mlflow.db", "sqlite"),
    ("file:./mlruns", "file"),
    ("file:///abs/mlruns", "file"),
])
def test_documented_forms_are_accepted(uri, kind):
    assert store_kind(uri) == kind and uri_problem(uri) is None


@pytest.mark.parametrize("uri", ["./mlruns", "mlruns", "postgresql://db/mlflow", "databricks", "sqlite://", "ftp://host", "http://"])
def test_other_forms_are_config_errors_naming_the_accepted_ones(uri):
    problem = uri_problem(uri)
    assert problem.startswith("mlflow.tracking_uri:") and "sqlite:///" in problem and "file:" in problem and "https://" in problem


def test_credentials_inside_the_uri_are_refused():
    assert "MLFLOW_TRACKING_PASSWORD" in uri_problem("https://user:pw@mlflow.example.com")


def test_local_paths_become_absolute_against_the_working_folder(tmp_path: Path):
    assert absolute_uri("sqlite:///sub/mlflow.db", tmp_path) == f"sqlite:///{tmp_path}/sub/mlflow.db"
    assert absolute_uri("sqlite:////abs/m.db?timeout=20", tmp_path) == "sqlite:////abs/m.db?timeout=20"
    assert absolute_uri("file:./mlruns", tmp_path) == (tmp_path / "mlruns").as_uri()
    assert absolute_uri("https://mlflow.example.com/", tmp_path) == "https://mlflow.example.com"


def test_validation_reports_bad_uri_and_on_unreachable_with_the_rest():
    section = {"tracking_uri": "mlruns", "experiment_name": "e", "on_unreachable": "ignore"}
    with pytest.raises(ConfigError) as error:
        validate({"task": "predict", "mlflow": section})
    text = str(error.value)
    assert "mlflow.tracking_uri: 'mlruns' is not an accepted form" in text
    assert "mlflow.on_unreachable: 'ignore' is not one of fail, skip" in text


def test_a_password_on_the_command_line_moves_to_the_environment(monkeypatch):
    monkeypatch.delenv(hidden_env(PASSWORD_KEY), raising=False)
    args = conceal_overrides(["train.epochs=2", "mlflow.credentials.password='s3cret=x'", "--cfg", "job"])
    assert not any("s3cret" in arg for arg in args)
    assert args[1] == "mlflow.credentials.password=${oc.env:" + hidden_env(PASSWORD_KEY) + "}"
    assert os.environ[hidden_env(PASSWORD_KEY)] == "s3cret=x"
    assert conceal_overrides(["++mlflow.credentials.password=p"])[0].startswith("++mlflow.credentials.password=${oc.env:")


def test_a_literal_password_in_a_composed_config_is_replaced_by_a_reference(monkeypatch):
    monkeypatch.delenv(hidden_env(PASSWORD_KEY), raising=False)
    cfg = OmegaConf.create({"mlflow": {"credentials": {"username": "u", "password": "s3cret"}}})
    OmegaConf.set_readonly(cfg, True)
    assert conceal_config(cfg) == [f"{PASSWORD_KEY}=${{oc.env:{hidden_env(PASSWORD_KEY)}}}"]
    assert "s3cret" not in OmegaConf.to_yaml(cfg)
    assert cfg.mlflow.credentials.password == "s3cret"
    assert conceal_config(cfg) == [], "a reference is left alone"


def test_overrides_shown_or_stored_mask_the_password():
    shown = redacted_overrides(["+tracking=server", "mlflow.credentials.password=abc", "train.epochs=3"])
    assert shown == ["+tracking=server", f"mlflow.credentials.password={MASK}", "train.epochs=3"]


def test_config_flattens_to_dotted_params():
    params = flatten({"model": {"class": "VAE", "params": {"hidden_dims": [64, 32], "input_dim": None}}, "val": None})
    assert params == {"model.class": "VAE", "model.params.hidden_dims": "[64, 32]", "model.params.input_dim": "null", "val": "null"}
    assert len(flatten({"long": "x" * 7000})["long"]) == 6000


def test_swept_keys_are_those_with_several_values():
    overrides = ["train.epochs=2", "train.loss.params.beta=0.5,1,2", "model.params.latent_dim=range(4,9,4)", "+tracking=local"]
    assert swept_keys(overrides) == ["train.loss.params.beta", "model.params.latent_dim"]
