"""Pictures of runs and sweeps: drawn after training, rebuilt by ``python -m vaesae.report``, readable."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import FAST_TRAIN, REPO, cli_env, run_cli
from vaesae.report import figure_files

VAE_PICTURES = ("loss_curves.png", "vae_latent_kl.png", "vae_latent_pca.png", "vae_reconstruction.png")
SAE_PICTURES = ("loss_curves.png", "sae_feature_density.png", "sae_l0.png")
CARD_FILES = ("feature_cards.md", "feature_cards_rows.csv", "feature_cards_contrast.csv")


def assert_picture(path) -> None:
    """A real picture: a sensible size, and ink on it (not a blank or single-colour canvas)."""
    from matplotlib.image import imread

    assert path.is_file(), f"{path} missing"
    pixels = imread(path)[..., :3]
    assert pixels.shape[0] >= 300 and pixels.shape[1] >= 400, pixels.shape
    inked = (pixels.min(axis=2) < 0.9).mean()
    assert inked > 0.02, f"{path.name}: only {inked:.1%} of pixels are not white"
    colours = np.unique((pixels[::4, ::4] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 10, f"{path.name}: only {len(colours)} colours"


def report_cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vaesae.report", *args], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def chain(tmp_path_factory, demo_dir):
    """A finished VAE run, its extracted embeddings, and an SAE run trained on them."""
    folder = tmp_path_factory.mktemp("chain")
    env = cli_env(VAESAE_DEMO_DIR=str(demo_dir))
    for args in (FAST_TRAIN, ("task=extract", "experiment.device=cpu"), ("model=sae", *FAST_TRAIN)):
        done = run_cli(*args, cwd=folder, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    return folder


def test_vae_run_leaves_its_pictures(chain):
    figures = chain / "experiments/vae/demo/figures"
    for name in VAE_PICTURES:
        assert_picture(figures / name)
    assert figure_files(chain / "experiments/vae/demo") == sorted(figures / name for name in VAE_PICTURES)


def test_sae_run_leaves_pictures_and_cards_in_the_original_columns(chain):
    figures = chain / "experiments/sae/demo/figures"
    for name in SAE_PICTURES:
        assert_picture(figures / name)
    cards = (figures / "feature_cards.md").read_text()
    assert cards.count("## Feature ") == 8
    assert "val.csv" in cards and "merchant_type" in cards and "not found" not in cards
    rows = pd.read_csv(figures / "feature_cards_rows.csv")
    assert {"feature", "rank", "row", "activation", "merchant_type", "distance_km"} <= set(rows.columns)
    assert rows["feature"].nunique() == 8 and (rows.groupby("feature").size() == 10).all()
    for _, top in rows.groupby("feature"):
        assert (np.diff(top["activation"]) <= 0).all() and (top["activation"] > 0).all()
    contrast = pd.read_csv(figures / "feature_cards_contrast.csv")
    assert set(contrast["column"]) == {"log_amount_normalized", "distance_km", "transaction_hour",
                                       "channel", "merchant_type", "country_code"}


@pytest.mark.slow
def test_cards_rows_are_the_original_rows(chain, demo_dir):
    rows = pd.read_csv(chain / "experiments/sae/demo/figures/feature_cards_rows.csv")
    original = pd.read_csv(demo_dir / "val.csv")
    picked = original.iloc[rows["row"]].reset_index(drop=True)
    assert (picked["merchant_type"] == rows["merchant_type"]).all()
    assert np.allclose(picked["distance_km"], rows["distance_km"])


@pytest.mark.slow
def test_kl_per_dimension_adds_up_to_the_logged_kl(chain):
    from vaesae.report.latent import collect_posterior
    from vaesae.report.model_view import ModelView
    from vaesae.report.run_folder import RunFolder

    run = RunFolder.open(chain / "experiments/vae/demo")
    posterior = collect_posterior(ModelView.open(run))
    best = run.best()
    assert posterior.kl_per_dimension.sum() == pytest.approx(best["val_kl_loss"], rel=1e-4)
    assert posterior.active.sum() == best["val_active_units"]


@pytest.mark.slow
def test_report_rebuilds_a_run_from_another_folder(chain, tmp_path):
    for run in ("vae", "sae"):
        shutil.rmtree(chain / f"experiments/{run}/demo/figures")
    done = report_cli(str(chain / "experiments/sae/demo"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "val.csv" in (chain / "experiments/sae/demo/figures/feature_cards.md").read_text()
    done = report_cli(str(chain / "experiments/vae/demo"), "--color-by", "merchant_type", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in VAE_PICTURES:
        assert_picture(chain / "experiments/vae/demo/figures" / name)
    assert len(done.stdout.splitlines()) == len(VAE_PICTURES)


@pytest.mark.slow
def test_cards_fall_back_to_embedding_dimensions_without_an_extract_config(chain, tmp_path):
    run = tmp_path / "sae_copy"
    shutil.copytree(chain / "experiments/sae/demo", run, ignore=shutil.ignore_patterns("figures"))
    shutil.copy(chain / "experiments/vae/demo/embeddings/val_embeddings.npy", tmp_path / "val.npy")
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["val"]["data_path"] = str(tmp_path / "val.npy")
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    done = report_cli(str(run), "--top-features", "3", "--top-rows", "4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    cards = (run / "figures/feature_cards.md").read_text()
    assert "Original rows not found" in cards and cards.count("## Feature ") == 3
    rows = pd.read_csv(run / "figures/feature_cards_rows.csv")
    assert "vae_embeddings_0" in rows.columns and len(rows) == 12


def test_report_on_a_folder_that_is_not_a_run(tmp_path):
    done = report_cli(str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert "neither a training run folder" in done.stderr and "Traceback" not in done.stderr


def test_report_rejects_an_unknown_colouring_column(chain, tmp_path):
    done = report_cli(str(chain / "experiments/vae/demo"), "--color-by", "merchant", cwd=tmp_path)
    assert done.returncode == 2 and "merchant_type" in done.stderr


@pytest.mark.slow
def test_three_job_sweep_gets_a_summary_picture(cli, workdir):
    done = cli("train.loss.params.beta=0.5,1,2", *FAST_TRAIN, "-m")
    assert done.returncode == 0, done.stdout + done.stderr
    (sweep,) = (workdir / "experiments/vae/demo/sweeps").iterdir()
    assert [path.parents[1].name for path in sweep.glob("*/figures/loss_curves.png")] == ["0_beta-0.5"]  # the best job
    assert_picture(sweep / "figures/sweep_val_loss.png")
    results = pd.read_csv(sweep / "figures/sweep_results.csv")
    assert list(results["train.loss.params.beta"]) == [0.5, 1.0, 2.0]
    assert (results["status"] == "completed").all() and results["best_value"].notna().all()

    shutil.rmtree(sweep / "figures")
    rebuilt = report_cli(str(sweep), cwd=workdir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert_picture(sweep / "figures/sweep_val_loss.png")
    assert pd.read_csv(sweep / "figures/sweep_results.csv").equals(results)
    for job in ("0_beta-0.5", "1_beta-1", "2_beta-2"):
        assert_picture(sweep / job / "figures/loss_curves.png")


@pytest.mark.slow
def test_a_picture_failure_never_fails_training(cli, workdir):
    run = workdir / "experiments/vae/demo"
    run.mkdir(parents=True)
    (run / "figures").write_text("a file where the figures folder would go")
    done = cli("train.epochs=1", "experiment.device=cpu")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (run / "checkpoints/best_model.pt").is_file()
    assert "could not draw" in (run / "vaesae.log").read_text()


@pytest.mark.slow
def test_pictures_can_be_turned_off(cli, workdir):
    done = cli("train.epochs=1", "experiment.device=cpu", "report.figures=false")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (workdir / "experiments/vae/demo/figures").exists()


def test_colouring_column_is_validated_before_training(cli):
    done = cli("report.color_by=merchant", "dry_run=true")
    output = done.stdout + done.stderr
    assert done.returncode == 2
    assert "report.color_by" in output and "did you mean 'merchant_type'" in output


def test_drawing_code_is_not_imported_by_the_app():
    probe = "import sys, vaesae.app, vaesae.tasks.train, vaesae.report.hydra_callback; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=cli_env(), capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
