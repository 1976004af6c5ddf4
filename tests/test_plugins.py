"""User code registers its own parts: through the config's ``plugins`` list or an entry point."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import REPO, cli_env


def test_custom_model_trained_by_config_alone(cli, workdir):
    shutil.copytree(REPO / "examples", workdir / "examples")
    train = cli("--config-dir", "examples/custom_model", "model=linear", "train.epochs=2", "experiment.device=cpu")
    assert train.returncode == 0, train.stdout + train.stderr
    extract = cli("--config-dir", "examples/custom_model", "model=linear", "task=extract", "experiment.device=cpu")
    assert extract.returncode == 0, extract.stdout + extract.stderr
    codes = np.load(workdir / "experiments/linear/demo/embeddings/val_embeddings.npy")
    assert codes.shape == (1000, 2)


def test_unimportable_plugin_is_a_config_error(cli):
    result = cli("plugins=[no_such_module_xyz]", "experiment.device=cpu")
    assert result.returncode == 2
    assert "plugins[0]: cannot import module 'no_such_module_xyz'" in result.stdout + result.stderr


ENTRY_POINT_PLUGIN = '''
from vaesae import register_loss
from vaesae.losses.vae import VAELoss

@register_loss("ScaledVAELoss")
class ScaledVAELoss(VAELoss):
    """VAELoss registered under another name by an installed package."""
'''


def test_entry_point_plugins_are_loaded(tmp_path):
    """A distribution declaring the ``vaesae.plugins`` entry point group is imported at lookup time."""
    (tmp_path / "acme_losses.py").write_text(ENTRY_POINT_PLUGIN)
    dist = tmp_path / "acme_losses-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-losses\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[vaesae.plugins]\nacme = acme_losses\n")
    code = "from vaesae.registry import LOSSES; print(LOSSES.get('ScaledVAELoss').__name__)"
    env = cli_env(PYTHONPATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ScaledVAELoss"


def test_custom_model_example_runs_from_another_folder_with_the_console_script(workdir):
    """The example's plugin module is found beside its config folder, not through the current folder."""
    script = Path(sys.executable).parent / "vaesae"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "vaesae"]
    args = ["--config-dir", str(REPO / "examples" / "custom_model"), "model=linear", "dry_run=true", "experiment.device=cpu"]
    result = subprocess.run([*command, *args], cwd=workdir, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "LinearAutoencoder" in result.stdout
