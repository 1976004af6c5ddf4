"""Secrets never reach disk, whatever form they are given in; the preflight retries and says what it tried;
a tracking server that dies mid-run and comes back."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import SMALL_DEMO, cli_env, run_cli
from tests.in_process import run_main
from tests.mlflow_server import free_port
from tests.tcp_proxy import TcpProxy
from tests.tracking_support import QUICK, client, env_vars, files_containing, runs, wait_for_first_metric, write_mlflow_option
from vaesae.data.demo import write_demo_data

SECRET = "SENTINEL-secret-4c1d9e"
TINY = ("train.epochs=1", "train.loader_params.num_batches_per_epoch=2", "val.loader_params.num_batches_per_epoch=1",
        "++report.figures=false", "experiment.device=cpu")
PACKAGED = ("train.loader_params.num_workers=0", "val.loader_params.num_workers=0")
STORE = "sqlite:///store/mlflow.db"

FORMS = {
    "key": ("+tracking=local", f"mlflow.tracking_uri={STORE}", "mlflow.credentials.username=u",
            f"mlflow.credentials.password={SECRET}"),
    "credentials_mapping": ("+tracking=local", f"mlflow.tracking_uri={STORE}",
                            f"mlflow.credentials={{username:u,password:{SECRET}}}"),
    "whole_section": ("--config-name", "debug_vae", *PACKAGED,
                      f"+mlflow={{tracking_uri:'{STORE}',experiment_name:e,credentials:{{username:u,password:{SECRET}}}}}"),
    "environment": ("+tracking=local", f"mlflow.tracking_uri={STORE}", "mlflow.credentials.password=${oc.env:MY_PASSWORD}"),
    "config_file": ("+tracking=with_password",),
}


@pytest.fixture
def project(tmp_path) -> Path:
    write_demo_data(tmp_path / "data", **SMALL_DEMO)
    (tmp_path / "conf").mkdir()
    debug = (Path(__file__).parent / "configs" / "documented" / "debug_vae.yaml").read_text()
    (tmp_path / "conf" / "debug_vae.yaml").write_text(debug)
    write_mlflow_option(tmp_path, "with_password", tracking_uri=STORE, experiment_name="e",
                        credentials={"username": "u", "password": SECRET})
    return tmp_path


def store_dump(project: Path) -> str:
    with sqlite3.connect(project / "store" / "mlflow.db") as connection:
        return "\n".join(connection.iterdump())


def assert_secret_nowhere(project: Path, output: str) -> None:
    written = [p for p in files_containing(SECRET, project) if "conf" not in p.relative_to(project).parts]
    assert written == [] and [p for p in project.rglob("*") if SECRET in p.name] == []
    assert SECRET not in store_dump(project)
    assert SECRET not in output


def vaesae(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = cli_env(VAESAE_DEMO_DIR=str(project / "data"), MY_PASSWORD=SECRET)
    return run_cli("--config-dir", "conf", *args, cwd=project, env=env)


@pytest.mark.parametrize("form", [
    pytest.param(form, marks=[] if form == "whole_section" else [pytest.mark.slow]) for form in sorted(FORMS)
])
def test_the_password_is_in_no_file_and_no_store_field(project, form):
    """One training run per form (the whole-section form, which once leaked, in the default set)."""
    result = vaesae(project, *FORMS[form], *TINY)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "ended FINISHED" in output
    assert_secret_nowhere(project, output)


@pytest.mark.slow
def test_the_password_of_a_sweep_is_in_no_file(project):
    result = vaesae(project, "-m", "train.loader_params.batch_size=64,128", *FORMS["key"], *TINY)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert len(list((project / "experiments" / "vae" / "demo" / "sweeps").glob("*/multirun.yaml"))) == 1
    assert_secret_nowhere(project, output)


def test_the_printed_resume_command_says_which_variable_the_password_needs(project):
    """An output that cannot be written ends the run with a resume command: it names the variable, never the secret."""
    from vaesae.cli_args import rerun_command
    from vaesae.config.redact import conceal_overrides, hidden_env
    from omegaconf import OmegaConf

    overrides = conceal_overrides([f"mlflow.credentials.password={SECRET}", f"+mlflow={{credentials:{{password:{SECRET}}}}}"])
    hydra_cfg = OmegaConf.create({
        "runtime": {"config_sources": [], "output_dir": "x"}, "job": {"config_name": "config"},
        "overrides": {"task": overrides}, "mode": "RUN",
    })
    command = rerun_command(hydra_cfg)
    variable = hidden_env("mlflow.credentials.password")
    assert SECRET not in command
    assert command.startswith(f"{variable}='your mlflow.credentials.password value' python -m vaesae ")
    assert "${oc.env:" + variable + "}" in command


def test_a_command_run_without_the_variable_names_it(project, monkeypatch):
    from vaesae.config.redact import hidden_env

    monkeypatch.setenv("VAESAE_DEMO_DIR", str(project / "data"))
    variable = hidden_env("mlflow.credentials.password")
    monkeypatch.delenv(variable, raising=False)
    outcome = run_main("+tracking=local", "mlflow.credentials.password=${oc.env:" + variable + "}", "dry_run=true",
                       cwd=project)
    assert outcome.code == 2 and variable in outcome.output and "Traceback" not in outcome.output


def test_preflight_retries_and_says_what_it_tried(project, monkeypatch):
    monkeypatch.setenv("VAESAE_DEMO_DIR", str(project / "data"))
    started = time.monotonic()
    outcome = run_main("+tracking=local", f"mlflow.tracking_uri=http://127.0.0.1:{free_port()}",
                       "mlflow.preflight_timeout_s=0.5", "dry_run=true", cwd=project)
    assert outcome.code == 2, outcome.output
    assert "tried 3 times, 0.5 s timeout each, 1 s apart; on a loaded machine raise mlflow.preflight_timeout_s" in outcome.output
    assert time.monotonic() - started >= 2


def test_preflight_reaches_a_server_that_answers_on_the_second_try(project, monkeypatch, mlflow_server):
    """The first connection is dropped unanswered: the second attempt reaches the server and the run goes on."""
    proxy = TcpProxy(int(mlflow_server.uri.rsplit(":", 1)[1]), drop=1)
    monkeypatch.setenv("VAESAE_DEMO_DIR", str(project / "data"))
    with env_vars(mlflow_server.credentials_env()):
        outcome = run_main("+tracking=local", f"mlflow.tracking_uri=http://127.0.0.1:{proxy.port}", "dry_run=true",
                           cwd=project)
    proxy.cut()
    assert outcome.code == 0, outcome.output
    assert proxy.drop == 0


def test_preflight_timeout_must_be_positive(project, monkeypatch):
    monkeypatch.setenv("VAESAE_DEMO_DIR", str(project / "data"))
    outcome = run_main("+tracking=local", "mlflow.preflight_timeout_s=0", "dry_run=true", cwd=project)
    assert outcome.code == 2 and "mlflow.preflight_timeout_s" in outcome.output


LONG_EPOCHS = 40


class OutputWatch:
    """A process's output lines, collected by a thread, so a test can act the moment a line appears."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._collect, args=(process.stdout,), daemon=True).start()

    def _collect(self, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, text: str, timeout_s: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: any(text in line for line in self.lines), timeout_s)

    def text(self) -> str:
        with self.changed:
            return "".join(self.lines)


@pytest.mark.slow
def test_a_server_that_dies_mid_run_and_comes_back(mlflow_server, project):
    """An outage that lasts until MLflow's bounded retries give up: one warning, training goes on
    untracked, and the run is closed FINISHED once the server is back (its metrics stop where the
    outage began). The server comes back as soon as the warning is out, while training still runs."""
    proxy = TcpProxy(int(mlflow_server.uri.rsplit(":", 1)[1]))
    write_mlflow_option(project, "proxied", tracking_uri=f"http://127.0.0.1:{proxy.port}", experiment_name="comes-back")
    env = cli_env(VAESAE_DEMO_DIR=str(project / "data"), **mlflow_server.credentials_env())
    command = [sys.executable, "-m", "vaesae", "--config-dir", "conf", "+tracking=proxied", f"train.epochs={LONG_EPOCHS}",
               "++report.figures=false", *QUICK]
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watch = OutputWatch(process)
    try:
        with env_vars(mlflow_server.credentials_env()):
            wait_for_first_metric(mlflow_server.uri, "comes-back", process)
            proxy.cut()
            assert watch.wait_for("][WARNING]", timeout_s=120), watch.text()
            proxy.restore()
            process.wait(timeout=600)
            output = watch.text()
            found = runs(mlflow_server.uri, "comes-back")
            history = client(mlflow_server.uri).get_metric_history(found[0].info.run_id, "train_loss")
    finally:
        process.kill()
        proxy.cut()
    assert process.returncode == 0, output
    warnings = [line for line in output.splitlines() if "][WARNING]" in line]
    assert len(warnings) == 1 and "not tracked" in warnings[0], output
    assert len((project / "experiments/vae/demo/metrics.jsonl").read_text().splitlines()) == LONG_EPOCHS
    assert [run.info.status for run in found] == ["FINISHED"], output
    assert 1 <= len(history) < LONG_EPOCHS
