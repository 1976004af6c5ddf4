"""The benchmark suite keeps working: its command runs end to end and writes its table.

Only that it runs is checked, never its numbers: speed and memory targets are
judged by the suite itself, on a machine quiet enough to measure them.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.report import END, START, update_readme
from tests.conftest import REPO, cli_env


def suite(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.suite", *args], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def table_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_quick_loading_and_extract_rows_write_the_table(tmp_path):
    output = tmp_path / "results.md"
    result = suite("--quick", "--only", "loading", "--only", "extract", "--output", str(output), timeout=300)
    assert result.returncode == 0, result.stderr
    rows = table_rows(output.read_text())
    assert [row[0] for row in rows] == [
        "`task=extract` throughput, 20k rows, batch 1024",
        "load 20k rows from CSV into tensors", "load 20k rows from Parquet into tensors",
        "load 50k rows from CSV into tensors", "load 50k rows from Parquet into tensors",
        "load 200k rows from CSV into tensors, cost per row",
    ]
    assert all(row[-1] in ("met", "**missed**") for row in rows)
    assert output.read_text() in result.stdout
    assert output.read_text().startswith("Machine: ")


@pytest.mark.slow
def test_the_whole_quick_suite_runs(tmp_path):
    output = tmp_path / "results.md"
    result = suite("--quick", "--output", str(output), timeout=900)
    assert result.returncode == 0, result.stderr
    rows = table_rows(output.read_text())
    assert len(rows) == 17
    firsts = " ".join(row[0] for row in rows)
    for fragment in ("`task=train` throughput, batch 128", "batch 1024", "default threads (auto: ", "one busy process per core",
                     "`task=extract`", "from Parquet",
                     "peak memory training", "4-job sweep", "`python -m vaesae --help`"):
        assert fragment in firsts
    assert all(row[-1] in ("met", "**missed**", "skipped") for row in rows)


def test_results_replace_the_readme_block_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{START}\nold table\n{END}\n\n## next\n")
    update_readme(readme, "new table\n")
    assert readme.read_text() == f"# title\n\n{START}\nnew table\n{END}\n\n## next\n"


def test_quick_results_are_not_published():
    result = suite("--quick", "--readme", timeout=60)
    assert result.returncode == 2 and "--readme publishes results" in result.stderr


@pytest.mark.slow
def test_tvae_side_by_side_runs():
    pytest.importorskip("ctgan", reason="the bench extra (ctgan) is not installed")
    result = subprocess.run([sys.executable, "-m", "benchmarks.tvae", "--rows", "3000"], cwd=REPO, env=cli_env(),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert "cold process to saved model, 2,400 rows, 11 epochs" in result.stdout
    assert "held-out accuracy merchant_id" in result.stdout and "held-out rmse distance_km" in result.stdout


@pytest.mark.slow
def test_first_command_benchmark_times_the_readme_command_and_its_pictures():
    result = subprocess.run([sys.executable, "-m", "benchmarks.first_command", "--repeats", "1"], cwd=REPO,
                            env=cli_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("| 1 |")]
    whole, training, pictures, share = (float(cell.split()[0].rstrip("%")) for cell in row.strip("|").split("|")[1:])
    assert 0 < training < whole and 0 < pictures < whole
    assert share == pytest.approx(100 * pictures / whole, abs=0.2)


def benchmark_table(module: str, *args: str) -> list[list[str]]:
    result = subprocess.run([sys.executable, "-m", module, "--repeats", "1", *args], cwd=REPO, env=cli_env(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in result.stdout.splitlines()
            if line.startswith("| ") and not line.startswith(("| model", "| command", "|---"))]


@pytest.mark.slow
def test_optimizer_step_benchmark_times_every_implementation_at_both_sizes():
    rows = benchmark_table("benchmarks.optimizer_step")
    assert [row[0].split(" (")[0] for row in rows] == ["default", "TVAE-sized"]
    for row in rows:
        whole, *steps = (float(cell.split()[0]) for cell in row[2:])
        assert len(steps) == 3 and all(0 < step < whole for step in steps)


@pytest.mark.slow
def test_collector_benchmark_times_both_entry_points_for_each_command():
    rows = benchmark_table("benchmarks.collector")
    assert [row[0] for row in rows] == ["`--help`", "`one epoch`"]
    for row in rows:
        assert all(float(cell.split()[0].rstrip("×")) > 0 for cell in row[1:])
