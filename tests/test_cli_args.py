"""Argument preparation before Hydra parses the command line."""
from vaesae.cli_args import HYDRA_SETTINGS, prepare_args


def test_settings_follow_the_overrides_and_options_come_first():
    args = prepare_args(["model=sae", "--cfg", "job", "-m", "train.epochs=3"])
    assert args[:3] == ["--cfg", "job", "-m"]
    assert args[3:5] == ["model=sae", "train.epochs=3"]
    assert args[5:5 + len(HYDRA_SETTINGS)] == list(HYDRA_SETTINGS)
    assert all(a.startswith(("hydra", "++hydra")) for a in args[5 + len(HYDRA_SETTINGS):])


def test_user_hydra_settings_win():
    args = prepare_args(["hydra.run.dir=elsewhere"])
    assert "hydra.run.dir=elsewhere" in args
    assert not any(a.startswith("hydra.run.dir=$") for a in args)


def test_user_config_gets_task_group_and_root_switches_added(tmp_path):
    (tmp_path / "mine.yaml").write_text("experiment: {name: x}\n")
    args = prepare_args(["--config-dir", str(tmp_path), "--config-name", "mine", "task=extract", "dry_run=true"])
    assert "+task=extract" in args and "++dry_run=true" in args
    assert "hydra.output_subdir=null" in args


def test_user_config_with_task_in_its_defaults_keeps_plain_override(tmp_path):
    (tmp_path / "mine.yaml").write_text("defaults:\n  - task: train\n")
    assert "task=extract" in prepare_args(["-cd", str(tmp_path), "-cn", "mine", "task=extract"])
