"""The notebook-timing, training and value-planner benchmark scripts run (figures are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.mark.slow
def test_notebook_times_prints_a_table_and_flags_failures(tmp_path):
    out = run(ROOT / "benchmarks" / "notebook_times.py", ROOT / "solutions" / "00_welcome.ipynb")
    assert out.returncode == 0, out.stderr
    assert "| 00_welcome.ipynb |" in out.stdout and "| ok |" in out.stdout
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    broken = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1 / 0")]), broken)
    out = run(ROOT / "benchmarks" / "notebook_times.py", broken)
    assert out.returncode == 1 and "FAILED" in out.stdout


@pytest.mark.slow
def test_training_search_runs_on_a_tiny_budget(tmp_path):
    out = run(
        ROOT / "benchmarks" / "train_search.py",
        "--seeds",
        "0",
        "--episodes",
        "20",
        "--set",
        "total_steps=8192",
        "threads=1",
        "--json",
        tmp_path / "t.json",
    )
    assert out.returncode == 0, out.stderr
    assert "seeds passing all three criteria at the end: " in out.stdout and "env share" in out.stdout
    assert (tmp_path / "t.json").exists()


@pytest.mark.slow
def test_training_benchmark_times_mesalib_train_and_prints_every_target(tmp_path):
    out = run(
        ROOT / "benchmarks" / "train_agent.py",
        "--seeds",
        "1",
        "--timed",
        "1",
        "--total-steps",
        "4096",
        "--episodes",
        "10",
        "--adapter-seconds",
        "0.2",
        "--baseline-steps",
        "4096",
        "--json",
        tmp_path / "t.json",
    )
    assert out.returncode == 0, out.stderr
    assert "seed 100:" in out.stdout  # seeds start where the search for the default's settings stopped
    assert "median over 1 seeds of the time to a passing checkpoint" in out.stdout
    assert (
        "seeds passing all three criteria: " in out.stdout and "TEST keys / nearest_key: median" in out.stdout
    )
    assert "where a training second goes" in out.stdout and "gymnasium.make_vec" in out.stdout
    assert "baseline trained in this run, the default before issue 16 (view=17, hidden=256" in out.stdout
    assert "of the baseline's" in out.stdout
    figures = json.loads((tmp_path / "t.json").read_text())
    assert figures["baseline"]["total_steps"] == 4096
    assert (
        figures["runs"][0]["seed"] == figures["baseline"]["seed"] == 100
    )  # the training seed, not the report's


def test_training_benchmark_refuses_a_negative_baseline_before_any_training():
    out = run(ROOT / "benchmarks" / "train_agent.py", "--baseline-steps", "-1", timeout=60)
    assert out.returncode == 2
    assert "--baseline-steps must be >= 0 (0 skips the baseline); got -1." in out.stderr
    assert "seed 100" not in out.stdout
