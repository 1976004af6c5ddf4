"""A signal that arrives while a finished training run draws its pictures is not swallowed."""
from __future__ import annotations

import signal

import pytest

from tests.cli_process import CliProcess, wait_until


@pytest.mark.slow
def test_sigterm_while_the_pictures_are_drawn_exits_143(workdir):
    run_dir = workdir / "experiments/vae/demo"
    training = CliProcess("train.epochs=1", "experiment.device=cpu", cwd=workdir)
    drawing = wait_until(lambda: (run_dir / "figures").is_dir(), training, timeout=240)
    assert drawing, training.output
    training.process.send_signal(signal.SIGTERM)
    assert training.wait() == 143, training.output
    assert "interrupted by SIGTERM after the last epoch, while the pictures were drawn" in training.output
    assert (run_dir / "checkpoints/best_model.pt").is_file()
