"""Tracking to local stores through the real CLI: a fresh SQLite store, the file store, Ctrl-C, a closed port."""
from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import cli_env
from tests.mlflow_server import free_port
from tests.tracking_support import QUICK, client, env_vars, runs, vaesae, wait_for_first_metric, write_mlflow_option

EPOCHS = 3


@pytest.fixture(scope="module")
def sqlite_project(tmp_path_factory, demo_dir):
    """One fresh SQLite store (a relative path), holding a training run, then extract and predict runs."""
    project = tmp_path_factory.mktemp("sqlite-project")
    write_mlflow_option(project, "db", tracking_uri="sqlite:///store/mlflow.db", experiment_name="local")
    env = {"VAESAE_DEMO_DIR": str(demo_dir)}
    for args in ((f"train.epochs={EPOCHS}", *QUICK), ("task=extract", "experiment.device=cpu"), ("task=predict", "experiment.device=cpu")):
        result = vaesae(project, "+tracking=db", *args, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    return project


def store_uri(project: Path) -> str:
    return f"sqlite:///{project / 'store/mlflow.db'}"


def run_of(project: Path, task: str):
    (run,) = [r for r in runs(store_uri(project), "local") if r.data.tags["vaesae.task"] == task]
    return run


@pytest.mark.slow
def test_store_path_is_relative_to_where_the_command_ran(sqlite_project):
    assert (sqlite_project / "store/mlflow.db").is_file()
    assert [r.info.status for r in runs(store_uri(sqlite_project), "local")] == ["FINISHED"] * 3


@pytest.mark.slow
def test_every_epoch_is_logged_with_the_epoch_as_step(sqlite_project):
    run = run_of(sqlite_project, "train")
    logged = [json.loads(line) for line in (sqlite_project / "experiments/vae/demo/metrics.jsonl").read_text().splitlines()]
    assert len(logged) == EPOCHS
    mlflow_client = client(store_uri(sqlite_project))
    assert {"val_kl_loss", "val_reconstruction_loss", "val_accuracy_channel", "lr", "epoch"} <= set(run.data.metrics)
    for name in ("train_loss", "val_loss", "val_kl_loss", "lr", "epoch"):
        history = sorted(mlflow_client.get_metric_history(run.info.run_id, name), key=lambda m: m.step)
        assert [m.step for m in history] == list(range(1, EPOCHS + 1))
        assert [m.value for m in history] == pytest.approx([line[name] for line in logged])


@pytest.mark.slow
def test_params_and_tags_describe_the_run(sqlite_project):
    run = run_of(sqlite_project, "train")
    assert run.data.params["model.class"] == "VAE"
    assert run.data.params["train.epochs"] == str(EPOCHS)
    assert run.data.params["model.params.hidden_dims"] == "[64, 32]"
    tags = run.data.tags
    assert tags["vaesae.model_class"] == "VAE"
    assert f"train.epochs={EPOCHS}" in tags["vaesae.overrides"].split()
    assert tags["vaesae.run_dir"] == str(sqlite_project / "experiments/vae/demo")


@pytest.mark.slow
def test_config_and_best_checkpoint_are_downloadable(sqlite_project, tmp_path):
    run = run_of(sqlite_project, "train")
    mlflow_client = client(store_uri(sqlite_project))
    config = Path(mlflow_client.download_artifacts(run.info.run_id, "config/config.yaml", str(tmp_path)))
    assert yaml.safe_load(config.read_text())["train"]["epochs"] == EPOCHS
    checkpoint = Path(mlflow_client.download_artifacts(run.info.run_id, "checkpoints/best_model.pt", str(tmp_path)))
    assert checkpoint.read_bytes() == (sqlite_project / "experiments/vae/demo/checkpoints/best_model.pt").read_bytes()


@pytest.mark.slow
def test_extract_and_predict_runs_record_outputs_and_their_checkpoint(sqlite_project, tmp_path):
    best = sqlite_project / "experiments/vae/demo/checkpoints/best_model.pt"
    mlflow_client = client(store_uri(sqlite_project))
    for task, output in (("extract", "val_embeddings.npy"), ("predict", "test_predictions.csv")):
        run = run_of(sqlite_project, task)
        assert run.data.tags["vaesae.checkpoint"] == str(best)
        assert run.data.tags["vaesae.checkpoint_sha256"] == hashlib.sha256(best.read_bytes()).hexdigest()
        assert run.data.tags["vaesae.training_run_id"] == run_of(sqlite_project, "train").info.run_id
        assert output in {Path(a.path).name for a in mlflow_client.list_artifacts(run.info.run_id, "outputs")}
    assert run_of(sqlite_project, "extract").data.metrics["val_rows"] == 1000
    predicted = json.loads((sqlite_project / "experiments/vae/demo/predictions/test_predictions_metrics.json").read_text())
    assert run_of(sqlite_project, "predict").data.metrics["test_loss"] == pytest.approx(predicted["test_loss"])


REPORT_IMPORT = """
import atexit, runpy, sys
atexit.register(lambda: print("mlflow imported:", "mlflow" in sys.modules))
sys.argv = ["vaesae", *sys.argv[1:]]
runpy.run_module("vaesae", run_name="__main__")
"""


@pytest.mark.slow
def test_without_an_mlflow_section_mlflow_is_never_imported(cli, workdir):
    result = subprocess.run(
        [sys.executable, "-c", REPORT_IMPORT, "train.epochs=1", *QUICK],
        cwd=workdir, env=cli_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mlflow imported: False" in result.stdout
    assert (workdir / "experiments/vae/demo/checkpoints/best_model.pt").is_file()


@pytest.fixture
def file_store_project(tmp_path, demo_dir, monkeypatch):
    """A project tracking to ``file:./mlruns``, with MLFLOW_ALLOW_FILE_STORE unset as for a new user."""
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    monkeypatch.setenv("VAESAE_DEMO_DIR", str(demo_dir))
    write_mlflow_option(tmp_path, "files", tracking_uri="file:./mlruns", experiment_name="files")
    return tmp_path


@pytest.mark.slow
def test_file_store_works_as_documented_and_says_so_once(file_store_project):
    result = vaesae(file_store_project, "+tracking=files", "train.epochs=2", *QUICK)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).count("MLFLOW_ALLOW_FILE_STORE") == 1
    with env_vars({"MLFLOW_ALLOW_FILE_STORE": "true"}):
        (run,) = runs((file_store_project / "mlruns").as_uri(), "files")
        history = client((file_store_project / "mlruns").as_uri()).get_metric_history(run.info.run_id, "train_loss")
    assert run.info.status == "FINISHED" and sorted(m.step for m in history) == [1, 2]


@pytest.mark.slow
def test_ctrl_c_marks_the_run_killed_and_resuming_continues_it(file_store_project):
    command = [sys.executable, "-m", "vaesae", "--config-dir", "conf", "+tracking=files", "train.epochs=100000", *QUICK]
    process = subprocess.Popen(command, cwd=file_store_project, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    uri = (file_store_project / "mlruns").as_uri()
    try:
        with env_vars({"MLFLOW_ALLOW_FILE_STORE": "true"}):
            wait_for_first_metric(uri, "files", process)
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=60)
            (killed,) = runs(uri, "files")
    finally:
        process.kill()
    assert process.returncode == 130 and "interrupted by SIGINT" in output, output
    assert killed.info.status == "KILLED", output
    done = int(killed.data.metrics["epoch"])

    resumed = vaesae(file_store_project, "+tracking=files", f"train.epochs={done + 2}", "checkpoint.resume=auto", *QUICK)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    with env_vars({"MLFLOW_ALLOW_FILE_STORE": "true"}):
        (run,) = runs(uri, "files")
        steps = sorted(m.step for m in client(uri).get_metric_history(run.info.run_id, "train_loss"))
    assert run.info.run_id == killed.info.run_id and run.info.status == "FINISHED"
    assert steps == list(range(1, done + 3))
    assert "checkpoint.resume=auto" in run.data.tags["vaesae.overrides"]


SIGTERM_LOADER = '''
import os
import signal

from vaesae import register_dataloader
from vaesae.data.tabular import TabularDataLoader


@register_dataloader("SigtermAfterOneBatch")
class SigtermAfterOneBatch(TabularDataLoader):
    """A scheduler's SIGTERM arriving while the second batch is read."""

    def epoch(self, epoch):
        for index, batch in enumerate(super().epoch(epoch)):
            if index == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            yield batch
'''


@pytest.mark.slow
def test_sigterm_during_extract_marks_the_run_killed_and_writes_nothing(file_store_project):
    trained = vaesae(file_store_project, "+tracking=files", "train.epochs=1", *QUICK)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    (file_store_project / "sigterm_loader.py").write_text(SIGTERM_LOADER)
    extract = vaesae(file_store_project, "+tracking=files", "task=extract", "experiment.device=cpu",
                     "plugins=[sigterm_loader]", "train.loader_class=SigtermAfterOneBatch", "train.loader_params.batch_size=100")
    output = extract.stdout + extract.stderr
    assert extract.returncode == 143 and "interrupted by SIGTERM" in output and "Traceback" not in output, output
    assert list((file_store_project / "experiments/vae/demo/embeddings").glob("*")) == []
    with env_vars({"MLFLOW_ALLOW_FILE_STORE": "true"}):
        statuses = {run.data.tags["vaesae.task"]: run.info.status for run in runs((file_store_project / "mlruns").as_uri(), "files")}
    assert statuses == {"train": "FINISHED", "extract": "KILLED"}


@pytest.fixture
def closed_port_project(tmp_path, demo_dir, monkeypatch):
    monkeypatch.setenv("VAESAE_DEMO_DIR", str(demo_dir))
    write_mlflow_option(tmp_path, "down", tracking_uri=f"http://127.0.0.1:{free_port()}", experiment_name="nowhere")
    return tmp_path


@pytest.mark.slow
def test_closed_port_stops_before_training_with_a_clear_message(closed_port_project):
    result = vaesae(closed_port_project, "+tracking=down", "train.epochs=2", *QUICK, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "cannot be reached" in output and "mlflow.on_unreachable=skip" in output
    assert "Traceback" not in output
    assert not (closed_port_project / "experiments/vae/demo/checkpoints").exists()


@pytest.mark.slow
def test_on_unreachable_skip_trains_without_tracking(closed_port_project):
    result = vaesae(closed_port_project, "+tracking=down", "mlflow.on_unreachable=skip", "train.epochs=2", *QUICK, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" in output and "not tracked" in output
    assert (closed_port_project / "experiments/vae/demo/checkpoints/best_model.pt").is_file()


OPEN_STORE = """
import sys
from vaesae.tracking.session import open_session
from vaesae.tracking.settings import TrackingSettings
open_session(TrackingSettings(sys.argv[1], "together", None, None, "fail"))
"""


@pytest.mark.slow
def test_processes_opening_one_fresh_sqlite_store_together_do_not_race(tmp_path):
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    processes = [
        subprocess.Popen([sys.executable, "-c", OPEN_STORE, uri], cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], "\n".join(outputs)
    assert len(runs(uri, "together")) == 0 and client(uri).get_experiment_by_name("together") is not None
