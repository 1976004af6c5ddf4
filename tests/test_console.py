"""The process entry point: the garbage collector set for a command that runs once and exits."""
from __future__ import annotations

import gc
import subprocess
import sys
import tomllib

from tests.conftest import REPO, cli_env
from tests.in_process import run_main

# Prints how many objects are frozen and whether the collector is on, when the command starts and at exit.
REPORT_COLLECTOR = """
import atexit, gc, sys
import vaesae.app

def report(when):
    print(when, gc.get_freeze_count(), gc.isenabled())

command = vaesae.app.main
vaesae.app.main = lambda: (report("start"), command())
atexit.register(report, "exit")
sys.argv = ["vaesae", *sys.argv[1:]]
from vaesae.console import main
main()
"""


def test_the_command_freezes_what_its_imports_left_and_collects_the_rest(tmp_path):
    result = subprocess.run([sys.executable, "-c", REPORT_COLLECTOR, "--cfg", "job"], cwd=tmp_path, env=cli_env(),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    reports = {when: (int(frozen), enabled) for when, frozen, enabled in
               (line.split() for line in result.stdout.splitlines() if line.startswith(("start ", "exit ")))}
    assert reports["start"][0] > 100_000  # torch, Hydra and the rest, out of every collection of the command
    assert reports["start"][1] == "True"
    assert reports["exit"][0] > reports["start"][0]  # and what the command left, out of the collection at exit


def test_main_called_inside_another_program_leaves_its_collector_alone(tmp_path):
    before = gc.get_freeze_count()
    assert run_main("--cfg", "job", cwd=tmp_path).code == 0
    assert gc.get_freeze_count() == before and gc.isenabled()


def test_the_installed_script_and_python_m_share_the_entry_point():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["vaesae"] == "vaesae.console:main"
    assert "from vaesae.console import main" in (REPO / "vaesae/__main__.py").read_text()
