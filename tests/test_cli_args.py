"""Argument preparation before Hydra parses the command line: the few rewrites Hydra cannot do itself."""
import pytest
from omegaconf import OmegaConf

from vaesae.cli_args import prepare_args, rerun_command
from vaesae.config.overrides import as_config_key
from vaesae.errors import ConfigError


def test_options_come_first_then_overrides_then_sweep_settings():
    args = prepare_args(["model=sae", "--cfg", "job", "-m", "train.epochs=3"])
    assert args[:3] == ["--cfg", "job", "-m"]
    assert args[3:5] == ["model=sae", "++train.epochs=3"]
    assert all(a.startswith(("hydra", "++hydra")) for a in args[5:])


@pytest.mark.parametrize("given,passed", [
    ("train.epochs=5", "++train.epochs=5"),
    ("report.figures=false", "++report.figures=false"),
    ("dry_run=true", "++dry_run=true"),
    ("model.params.hidden_dims=[64,32],[128,64]", "++model.params.hidden_dims=[64,32],[128,64]"),
    ("model=sae", "model=sae"),
    ("experiment=example1", "experiment=example1"),
    ("hydra/launcher=basic", "hydra/launcher=basic"),
    ("hydra.run.dir=elsewhere", "hydra.run.dir=elsewhere"),
    ("+tracking=local", "+tracking=local"),
    ("++train.epochs=5", "++train.epochs=5"),
    ("~val", "~val"),
])
def test_only_config_keys_become_set_or_add(given, passed):
    assert as_config_key(given) == passed


def test_user_hydra_settings_win():
    args = prepare_args(["-m", "hydra.sweep.dir=elsewhere"])
    assert "hydra.sweep.dir=elsewhere" in args
    assert not any(a.startswith("hydra.sweep.dir=$") for a in args)


def test_user_config_gets_task_group_preset_and_root_switches(tmp_path):
    (tmp_path / "mine.yaml").write_text("experiment: {name: x}\n")
    args = prepare_args(["--config-dir", str(tmp_path), "--config-name", "mine", "task=extract", "dry_run=true"])
    assert "+task=extract" in args and "++dry_run=true" in args and "+hydra/preset=vaesae" in args
    assert "hydra.output_subdir=null" in args


def test_user_config_that_includes_the_preset_and_task_keeps_plain_overrides(tmp_path):
    (tmp_path / "mine.yaml").write_text("defaults:\n  - hydra/preset: vaesae\n  - task: train\n  - _self_\n")
    args = prepare_args(["-cd", str(tmp_path), "-cn", "mine", "task=extract"])
    assert "task=extract" in args and "+hydra/preset=vaesae" not in args


def test_packaged_config_gets_no_preset_override():
    assert "+hydra/preset=vaesae" not in prepare_args(["train.epochs=2"])


@pytest.mark.parametrize("bad", ["train.epochs=[1", "train.epochs", "a b=1"])
def test_unparsable_overrides_are_config_errors(bad):
    with pytest.raises(ConfigError) as caught:
        prepare_args(["train.epochs=2", bad])
    assert caught.value.problems == [caught.value.problems[0]] and repr(bad) in caught.value.problems[0]


def test_rerun_command_drops_the_added_prefix_and_resume_options():
    hydra_cfg = OmegaConf.create({
        "runtime": {"config_sources": [], "output_dir": "out"},
        "job": {"config_name": "config"},
        "overrides": {"task": ["++train.epochs=5", "++checkpoint.resume=auto", "+tracking=local", "model=sae"]},
        "mode": None,
    })
    assert rerun_command(hydra_cfg) == "python -m vaesae train.epochs=5 +tracking=local model=sae"


STORE_COPY = """
import copy, sys
from hydra.core.config_store import ConfigStore
from vaesae.cli_args import share_config_store_for_help
share_config_store_for_help(sys.argv[1:])
store = ConfigStore.instance()
print(copy.deepcopy(store) is store)
"""


@pytest.mark.parametrize("args, shared", [(["--help"], "True"), (["--hydra-help"], "True"), (["train.epochs=2"], "False")])
def test_only_a_help_process_shares_hydras_config_store_instead_of_copying_it(args, shared):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", STORE_COPY, *args], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == shared, result.stderr
