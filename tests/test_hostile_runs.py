"""Real runs against hostile situations: two processes racing for one run folder, and the leftovers of
a process killed in the middle of a save."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cli_process import CliProcess
from tests.in_process import run_main
from vaesae.run_lock import LOCK_FILE

EPOCHS = 3
QUICK = ("experiment.device=cpu", "report.figures=false", "train.loader_params.num_batches_per_epoch=4",
         "val.early_stopping.patience=100", "checkpoint.save_strategy=all")


def test_two_runs_started_at_once_into_one_folder(workdir):
    """Exactly one wins; the other stops at once naming the winner's pid; the winner's run is whole."""
    args = (*QUICK, f"train.epochs={EPOCHS}", "experiment.name=shared")
    first, second = CliProcess(*args, cwd=workdir), CliProcess(*args, cwd=workdir)
    codes = {first.wait(): first, second.wait(): second}
    assert sorted(codes) == [0, 2], first.output + second.output
    winner, loser = codes[0], codes[2]
    assert re.search(rf"in use by another vaesae process \(pid {winner.process.pid} on ", loser.output), loser.output
    assert "Traceback" not in loser.output
    run_dir = workdir / "experiments/vae/shared"
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == EPOCHS
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("*.pt")) == [
        "best_model.pt", *(f"epoch_{n}.pt" for n in range(1, EPOCHS + 1)), "last_model.pt"]
    log = (run_dir / "vaesae.log").read_text()
    assert "in use by another" not in log and log.count("epoch 1/") == 1
    assert not (run_dir / LOCK_FILE).exists() and not list(run_dir.rglob(".*.tmp"))


def test_leftovers_of_a_killed_save_are_cleaned_and_the_epoch_file_kept(workdir):
    """The state a kill leaves at each point of an epoch-1 save, then a resume."""
    args = (*QUICK, "experiment.name=killed", "train.epochs=1")
    assert run_main(*args, cwd=workdir).code == 0
    run_dir = workdir / "experiments/vae/killed"
    checkpoints = run_dir / "checkpoints"
    # killed while writing best_model.pt's digest, after epoch_1.pt (written first) was complete
    for name in ("best_model.pt", "last_model.pt"):
        (checkpoints / name).unlink()
    (checkpoints / "last_model.pt.sha256").unlink()
    (run_dir / "resume_state.pt").unlink()
    (run_dir / "resume_state.pt.sha256").unlink()
    # killed while writing config.yaml, and while writing an epoch file this resume does not reach (its digest recorded)
    (run_dir / ".config.yaml.99999.tmp").write_text("task: tr")
    (checkpoints / "epoch_7.pt.sha256").write_text("0" * 64 + "  epoch_7.pt\n")
    outcome = run_main(*QUICK, "experiment.name=killed", "train.epochs=2", "checkpoint.resume=auto", cwd=workdir)
    assert outcome.code == 0, outcome.output
    assert f"resuming from {checkpoints / 'epoch_1.pt'} (after epoch 1)" in outcome.output
    assert not (run_dir / ".config.yaml.99999.tmp").exists()
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names == sorted(f"{n}{suffix}" for n in ("best_model.pt", "epoch_1.pt", "epoch_2.pt", "last_model.pt")
                           for suffix in ("", ".sha256"))
    assert [json.loads(line)["epoch"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()] == [1, 2]
