"""``experiment.threads``: the rule behind ``auto``, the limits it honours, and what the CLI logs."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import torch
from omegaconf import OmegaConf

from tests.conftest import FAST_TRAIN, cli_env
from vaesae.engine import threads
from vaesae.engine.threads import (
    PARALLEL_WORK, CpuLimits, busy_elsewhere, busy_seconds, cgroup_cpu_quota, choose_threads, current_limits,
    idle_cpus, step_work,
)
from vaesae.sweep.resources import share_cpus

SMALL, LARGE = PARALLEL_WORK // 10, PARALLEL_WORK * 10


@pytest.fixture
def no_job_share(monkeypatch):
    """Each test starts outside any sweep job, and torch's thread count is restored afterwards."""
    monkeypatch.setattr(threads, "_job_share", None)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_cgroup_v2_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(tmp_path) is None


def test_cgroup_v1_quota(tmp_path):
    (tmp_path / "cpu,cpuacct").mkdir()
    (tmp_path / "cpu,cpuacct/cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu,cpuacct/cpu.cfs_quota_us").write_text("300000\n")
    assert cgroup_cpu_quota(tmp_path) == 3.0
    (tmp_path / "cpu,cpuacct/cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_quota(tmp_path) is None
    assert cgroup_cpu_quota(tmp_path / "absent") is None


def test_quota_and_omp_bound_the_usable_cpus(tmp_path, no_job_share):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    limits = current_limits({"OMP_NUM_THREADS": "64"}, tmp_path)
    assert limits.affinity == len(os.sched_getaffinity(0))
    assert limits.usable == min(limits.affinity, 2, limits.idle)  # a quota of 1.5 CPUs rounds up
    assert current_limits({"OMP_NUM_THREADS": "1"}, tmp_path).usable == 1
    assert current_limits({"OMP_NUM_THREADS": "x"}, tmp_path).omp is None


def test_auto_uses_one_thread_for_small_steps_and_every_usable_cpu_for_large_ones():
    limits = CpuLimits(affinity=16, quota=6.0, omp=None)
    assert choose_threads("auto", SMALL, limits).threads == 1
    large = choose_threads("auto", LARGE, limits)
    assert large.threads == 6 and "cgroup quota 6 CPU(s)" in large.reason
    assert choose_threads("auto", LARGE, CpuLimits(affinity=16, omp=3)).threads == 3
    assert choose_threads(None, SMALL, limits).threads == 1


def test_auto_leaves_cores_busy_with_other_work_alone():
    assert idle_cpus(8, 0.3) == 8 and idle_cpus(8, 5.6) == 2 and idle_cpus(2, 14.0) == 1
    busy = choose_threads("auto", LARGE, CpuLimits(affinity=8, idle=2))
    assert busy.threads == 2 and "2 left idle by other work" in busy.reason
    assert choose_threads(8, LARGE, CpuLimits(affinity=8, idle=1)).threads == 8  # a number is the user's call


def stat_text(ticks_per_cpu: dict[int, int]) -> str:
    """A ``/proc/stat`` whose CPUs each spent ``ticks`` on work, split over its busy fields, and 1,000 idle."""
    lines = ["cpu  999 0 999 99999 0 0 0 0 0 0"]
    lines += [f"cpu{cpu} {ticks - 3} 1 1 1000 50 0 1 0 0 0" for cpu, ticks in ticks_per_cpu.items()]
    return "\n".join(lines + ["intr 12345 0", "ctxt 678"]) + "\n"


def test_busy_seconds_counts_the_named_cpus_work_only():
    hz = os.sysconf("SC_CLK_TCK")
    text = stat_text({0: 10 * hz, 1: 4 * hz, 2: 100 * hz})
    assert busy_seconds(text, {0, 1}) == pytest.approx(14.0)  # idle and iowait are not work; cpu2 is not ours


def spin_until(done: threading.Event) -> None:
    while not done.is_set():
        pass


def test_this_process_s_own_work_is_not_counted_as_other_work(tmp_path):
    """Between the probe's two reads the CPUs did a second of work each; this process ran about as much
    as one of them, so about one CPU's worth was other work, not two."""
    hz, seconds, stat = os.sysconf("SC_CLK_TCK"), 0.3, tmp_path / "stat"
    stat.write_text(stat_text({0: 0, 1: 0}))
    later = threading.Timer(seconds / 2, lambda: stat.write_text(stat_text({0: round(seconds * hz), 1: round(seconds * hz)})))
    done = threading.Event()
    spinner = threading.Thread(target=spin_until, args=(done,))
    later.start(), spinner.start()
    try:
        others = busy_elsewhere({0, 1}, seconds, stat)
    finally:
        done.set(), spinner.join()
    own = 2.0 - others
    assert 0.4 < own < 1.3 and others > 0.7


def test_a_busy_process_leaves_its_cpu_no_idle_time():
    cpu = min(os.sched_getaffinity(0))
    busy = subprocess.Popen([sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{cpu}}})\nwhile True: pass"])
    try:
        time.sleep(0.3)
        assert busy_elsewhere({cpu}, 0.3) > 0.8
    finally:
        busy.kill(), busy.wait()


def test_a_number_is_used_as_given_within_a_sweep_share():
    assert choose_threads(4, SMALL, CpuLimits(affinity=2)).threads == 4
    lowered = choose_threads(4, SMALL, CpuLimits(affinity=16, share=2))
    assert lowered.threads == 2 and "share" in lowered.reason


def test_sweep_job_share_caps_auto(no_job_share):
    cfg = OmegaConf.create({"train": {"loader_params": {"num_workers": 0}}})
    cpus = share_cpus(cfg, OmegaConf.create({"n_jobs": -1}))  # one job per core: one CPU each
    assert cpus == 1 and torch.get_num_threads() == 1
    assert current_limits({}).share == 1
    assert choose_threads("auto", LARGE, current_limits({})).threads == 1


def test_step_work_counts_weight_matrices_times_rows():
    model = torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.Linear(20, 5))
    assert step_work(model, 8) == 8 * (10 * 20 + 20 * 5)


def test_cli_logs_the_choice_once(cli, workdir):
    result = cli(*FAST_TRAIN, "report.figures=false")
    assert result.returncode == 0, result.stderr
    log = (workdir / "experiments/vae/demo/vaesae.log").read_text()
    assert log.count("torch threads:") == 1
    assert "torch threads: 1 (auto:" in log


@pytest.mark.slow
def test_cli_large_model_follows_omp_num_threads(cli, workdir):
    big = ("model.params.hidden_dims=[2048,2048]", "train.loader_params.batch_size=1024", "train.epochs=1",
           "experiment.device=cpu", "report.figures=false")
    result = cli(*big, env=cli_env(OMP_NUM_THREADS="1"))
    assert result.returncode == 0, result.stderr
    log = (workdir / "experiments/vae/demo/vaesae.log").read_text()
    assert "torch threads: 1 (auto:" in log and "OMP_NUM_THREADS=1" in log


def test_cli_refuses_a_bad_thread_setting(cli, workdir):
    result = cli("experiment.threads=many", *FAST_TRAIN)
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "experiment.threads: expected auto or a positive whole number, got 'many'" in output
    assert "Traceback" not in output and not (workdir / "experiments/vae/demo/checkpoints").exists()
