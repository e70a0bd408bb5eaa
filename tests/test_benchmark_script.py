"""The throughput benchmark runs and prints its table of ratios (figures are not asserted here)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("minigrid")
ROOT = Path(__file__).resolve().parent.parent


def test_env_throughput_prints_ratios_against_minigrid(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "env_throughput.py"),
            "--seconds",
            "0.05",
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "Minigrid DoorKey-8x8 (baseline)" in out.stdout and "x Minigrid" in out.stdout
    assert out.stdout.count("4096") >= 3 and "Targets:" in out.stdout
    assert "Ceiling for the default view" in out.stdout and "of that ceiling" in out.stdout
    assert (tmp_path / "r.json").read_text().count("steps_per_s") == 10
    assert "gymnasium.make_vec within 10% of the batched core at 4096 (interleaved" in out.stdout
    assert "with autoreset_mode=SAME_STEP (final_obs, final_info)" in out.stdout


def test_cli_bench_entry_point():
    from mesalib.teaching.cli import build_parser

    args = build_parser().parse_args(["bench", "--seconds", "0.5"])
    assert args.command == "bench" and args.seconds == 0.5
