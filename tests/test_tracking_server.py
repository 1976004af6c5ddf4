"""Tracking to a real MLflow server with basic auth; the password, a sentinel, given three ways, is never written."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import cli_env
from tests.tcp_proxy import TcpProxy
from tests.tracking_support import (
    QUICK, client, env_vars, files_containing, runs, vaesae, wait_for_first_metric, write_mlflow_option,
)

pytestmark = pytest.mark.slow

EXPERIMENT = "server-runs"
LONG_EPOCHS = 40
WAYS = ("config", "command_line", "environment")


@pytest.fixture(scope="module")
def project(tmp_path_factory, demo_dir, mlflow_server):
    """One training run per way of giving the password, each in its own run folder."""
    project = tmp_path_factory.mktemp("server-project")
    section = {"tracking_uri": mlflow_server.uri, "experiment_name": EXPERIMENT}
    write_mlflow_option(project, "server", **section)
    write_mlflow_option(
        project, "with_password", **section, credentials={"username": mlflow_server.username, "password": mlflow_server.password}
    )
    demo = {"VAESAE_DEMO_DIR": str(demo_dir)}
    ways = {
        "config": (("+tracking=with_password",), demo),
        "command_line": (
            ("+tracking=server", f"mlflow.credentials.username={mlflow_server.username}", f"mlflow.credentials.password={mlflow_server.password}"),
            demo,
        ),
        "environment": (("+tracking=server",), {**demo, **mlflow_server.credentials_env()}),
    }
    outputs = {}
    for way, (args, env) in ways.items():
        result = vaesae(project, *args, f"experiment.name={way}", "train.epochs=2", *QUICK, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        outputs[way] = result.stdout + result.stderr
    return project, outputs


@pytest.fixture
def server_runs(project, mlflow_server):
    with env_vars(mlflow_server.credentials_env()):
        yield {run.info.run_name: run for run in runs(mlflow_server.uri, EXPERIMENT)}


def test_each_way_of_giving_the_password_reaches_the_server(server_runs):
    assert {name: run.info.status for name, run in server_runs.items()} == dict.fromkeys(WAYS, "FINISHED")


def test_metrics_and_artifacts_go_through_the_server(project, server_runs, mlflow_server, tmp_path):
    folder, _ = project
    run = server_runs["environment"]
    with env_vars(mlflow_server.credentials_env()):
        mlflow_client = client(mlflow_server.uri)
        history = mlflow_client.get_metric_history(run.info.run_id, "val_loss")
        checkpoint = mlflow_client.download_artifacts(run.info.run_id, "checkpoints/best_model.pt", str(tmp_path))
        config = mlflow_client.download_artifacts(run.info.run_id, "config/config.yaml", str(tmp_path))
    assert sorted(m.step for m in history) == [1, 2]
    assert Path(checkpoint).read_bytes() == (folder / "experiments/vae/environment/checkpoints/best_model.pt").read_bytes()
    assert yaml.safe_load(Path(config).read_text())["mlflow"]["tracking_uri"] == mlflow_server.uri


def test_the_password_is_in_no_file_log_param_tag_or_artifact(project, server_runs, mlflow_server):
    folder, outputs = project
    written = files_containing(mlflow_server.password, folder / "experiments", mlflow_server.root)
    assert written == []
    assert [way for way, output in outputs.items() if mlflow_server.password in output] == []
    for run in server_runs.values():
        assert mlflow_server.password not in str(run.data.params) + str(run.data.tags)
    assert server_runs["config"].data.params["mlflow.credentials.password"] == "***"


WRONG = {"MLFLOW_TRACKING_PASSWORD": "not-the-password"}


@pytest.mark.parametrize("env, hint", [
    pytest.param(WRONG, "credentials given were rejected", id="wrong"),
    pytest.param({}, "requires credentials", id="missing", marks=pytest.mark.slow),
])
def test_wrong_or_missing_credentials_fail_fast_with_a_clear_message(project, mlflow_server, demo_dir, env, hint):
    folder, _ = project
    user = {"MLFLOW_TRACKING_USERNAME": mlflow_server.username} if env else {}
    result = vaesae(folder, "+tracking=server", "experiment.name=refused", *QUICK, env={"VAESAE_DEMO_DIR": str(demo_dir), **user, **env}, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "HTTP 401" in output and hint in output and "Traceback" not in output
    assert not (folder / "experiments/vae/refused/checkpoints").exists()


@pytest.mark.slow
def test_a_server_dying_mid_run_costs_one_warning_and_no_training(mlflow_server, demo_dir, tmp_path):
    proxy = TcpProxy(int(mlflow_server.uri.rsplit(":", 1)[1]))
    write_mlflow_option(tmp_path, "proxied", tracking_uri=f"http://127.0.0.1:{proxy.port}", experiment_name="dying")
    env = cli_env(VAESAE_DEMO_DIR=str(demo_dir), **mlflow_server.credentials_env())
    command = [sys.executable, "-m", "vaesae", "--config-dir", "conf", "+tracking=proxied", f"train.epochs={LONG_EPOCHS}", *QUICK]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with env_vars(mlflow_server.credentials_env()):
            wait_for_first_metric(mlflow_server.uri, "dying", process)
        proxy.cut()
        output, _ = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 0, output
    warnings = [line for line in output.splitlines() if "][WARNING]" in line]
    assert len(warnings) == 1 and "MLflow" in warnings[0] and "not tracked" in warnings[0], output
    run_dir = tmp_path / "experiments/vae/demo"
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == LONG_EPOCHS
    assert (run_dir / "checkpoints/best_model.pt").is_file()
