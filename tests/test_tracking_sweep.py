"""A sweep on the joblib launcher with a fresh SQLite store: one parent run, one child run per job."""
from __future__ import annotations

import pytest

from tests.tracking_support import QUICK, client, runs, vaesae, write_mlflow_option

BETAS = ("0.5", "1", "2")


@pytest.mark.slow
def test_three_job_joblib_sweep_files_three_child_runs_under_one_parent(tmp_path, demo_dir):
    write_mlflow_option(tmp_path, "db", tracking_uri="sqlite:///mlflow.db", experiment_name="sweep")
    result = vaesae(
        tmp_path, "-m", "+tracking=db", "hydra/launcher=joblib", "train.epochs=2", *QUICK,
        f"train.loss.params.beta={','.join(BETAS)}", env={"VAESAE_DEMO_DIR": str(demo_dir)}, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    found = runs(uri, "sweep")
    (parent,) = [run for run in found if run.data.tags.get("vaesae.sweep") == "parent"]
    children = [run for run in found if run is not parent]
    assert parent.info.status == "FINISHED" and parent.data.tags["vaesae.swept_keys"] == "train.loss.params.beta"
    assert len(children) == 3
    assert {run.data.tags["mlflow.parentRunId"] for run in children} == {parent.info.run_id}
    assert sorted(run.data.tags["sweep.train.loss.params.beta"] for run in children) == sorted(BETAS)
    assert sorted(run.data.params["train.loss.params.beta"] for run in children) == ["0.5", "1", "2"]
    for run in children:
        history = client(uri).get_metric_history(run.info.run_id, "train_loss")
        assert run.info.status == "FINISHED" and sorted(m.step for m in history) == [1, 2]
    assert [a.path for a in client(uri).list_artifacts(parent.info.run_id, "summary")] == ["summary/summary.csv"]
    for run in children:
        assert run.data.metrics["best_epoch"] in (1, 2) and run.data.metrics["best_val_loss"] > 0
    best = min(children, key=lambda run: run.data.metrics["best_val_loss"])
    assert parent.data.metrics["best_val_loss"] == best.data.metrics["best_val_loss"]
    assert parent.data.tags["vaesae.best_run_id"] == best.info.run_id
    assert parent.data.params["train.loss.params.beta"] == best.data.params["train.loss.params.beta"]
    assert parent.data.tags["vaesae.best_job"].endswith("_beta-" + best.data.params["train.loss.params.beta"])
