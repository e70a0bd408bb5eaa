"""Grid sweeps: the specification, a runner that resumes without losing or repeating a run, the
collected table, the `mesalib sweep` command (a class's shared grid included), and a real Dask cluster
on loopback that loses a worker mid-sweep.

Most tests inject a tiny fake task (`fake_task`) so that no agent is trained; two slow tests train real
tiny agents, one of them on a scheduler and two workers started as separate processes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from mesalib.analysis import grid_sweep
from mesalib.analysis.grid_sweep import (
    SPEC_FILE,
    SweepError,
    SweepSpec,
    collect,
    run_sweep,
    select,
)
from mesalib.teaching import sweep_command

SMALL = SweepSpec(alphas=(0.0, 0.1, 0.4), seeds=(0, 1), steps=1000, episodes=10)


def fake_task(settings: dict) -> dict:
    """Metrics that depend on the settings in a known way, instantly."""
    return {"ratios": {"test_chests": settings["alpha"] + settings["seed"] / 100}, "cells": {}}


class Counting:
    """A fake task that counts its calls and can be told to fail or be interrupted at call `stop_at`."""

    def __init__(self, stop_at: int | None = None, error: type[BaseException] = KeyboardInterrupt):
        self.calls: list[str] = []
        self.stop_at, self.error = stop_at, error

    def __call__(self, settings: dict) -> dict:
        self.calls.append(grid_sweep.run_name(settings))
        if self.stop_at is not None and len(self.calls) == self.stop_at:
            raise self.error("stopped here")
        return fake_task(settings)


def _results(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.name != SPEC_FILE}


# --------------------------------------------------------------------------------------------------
# The specification


def test_a_spec_lists_every_cell_once_in_a_fixed_order_with_names_from_the_settings():
    spec = SweepSpec(alphas=(0.0, 0.2), seeds=(0, 1, 2), hidden=(64, 128), steps=5000)
    runs = spec.runs()
    assert len(runs) == 2 * 3 * 2
    assert len({r.name for r in runs}) == len(runs)
    assert runs[0].name == "alpha0_seed0_hidden64_mlp_default_steps5000"
    assert runs[1].name == "alpha0_seed1_hidden64_mlp_default_steps5000"  # seeds vary fastest
    assert runs[-1].name == "alpha0.2_seed2_hidden128_mlp_default_steps5000"
    assert [
        r.name for r in SweepSpec(alphas=(0.0, 0.2), seeds=(0, 1, 2), hidden=(64, 128), steps=5000).runs()
    ] == [r.name for r in runs]
    assert runs[-1].settings["alpha"] == 0.2 and runs[-1].settings["hidden"] == 128
    assert SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize(
    ("changes", "option", "value", "allowed"),
    [
        ({"alphas": (0.0, 1.5)}, "alphas", "1.5", "from 0 to 1"),
        ({"alphas": ()}, "alphas", "[]", "at least one"),
        ({"seeds": (0, -1)}, "seeds", "-1", ">= 0"),
        ({"seeds": (1, 1)}, "seeds", "[1, 1]", "each value once"),
        ({"hidden": (0,)}, "hidden", "0", ">= 1"),
        ({"network": ("rnn",)}, "network", "'rnn'", "mlp, cnn"),
        ({"variants": ("xray",)}, "variants", "'xray'", "inventory"),
        ({"evaluate": ("mars",)}, "evaluate", "'mars'", "maze"),
        ({"steps": 0}, "steps", "0", ">= 1"),
        ({"episodes": 2.5}, "episodes", "2.5", "whole number"),
        ({"threads": 0}, "threads", "0", ">= 1"),
    ],
)
def test_a_bad_spec_is_refused_with_the_option_the_value_and_what_is_allowed(changes, option, value, allowed):
    with pytest.raises(SweepError) as caught:
        SweepSpec(**changes)
    message = str(caught.value)
    assert option in message and value in message and allowed in message, message


def test_an_unknown_option_in_a_spec_file_is_named(tmp_path):
    (tmp_path / "spec.json").write_text(json.dumps({"alphas": [0], "sedes": [1]}))
    with pytest.raises(SweepError, match="'sedes'.*alphas, seeds"):
        SweepSpec.load(tmp_path / "spec.json")


def test_parts_split_the_grid_into_disjoint_pieces_that_cover_it():
    runs = SMALL.runs()
    parts = [select(runs, part=(k, 4)) for k in range(1, 5)]
    names = [r.name for p in parts for r in p]
    assert sorted(names) == sorted(r.name for r in runs) and len(set(names)) == len(runs)
    assert select(runs, cells=[4, 1]) == [runs[4], runs[1]]
    with pytest.raises(SweepError, match="cells has 6.*0 to 5"):
        select(runs, cells=[6])
    with pytest.raises(SweepError, match="part has '5/4'"):
        select(runs, part=(5, 4))


# --------------------------------------------------------------------------------------------------
# Running, resuming, collecting


def test_each_run_leaves_one_plain_json_result_with_settings_metrics_wall_time_and_host(tmp_path):
    report = run_sweep(SMALL, tmp_path, task=fake_task, progress=False)
    assert len(report.ran) == 6 and not report.skipped and not report.failed
    results = _results(tmp_path)
    assert sorted(results) == sorted(r.name for r in SMALL.runs())
    one = results["alpha0.4_seed1_hidden128_mlp_default_steps1000"]
    assert one["settings"]["alpha"] == 0.4 and one["settings"]["seed"] == 1
    assert one["metrics"]["ratios"]["test_chests"] == pytest.approx(0.41)
    assert one["wall_s"] >= 0 and one["host"] == socket.gethostname()
    assert SweepSpec.load(tmp_path / SPEC_FILE) == SMALL
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_an_interrupted_sweep_resumes_without_losing_or_repeating_a_run(tmp_path):
    first = Counting(stop_at=4)  # Ctrl-C during the 4th run
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMALL, tmp_path, task=first, progress=False)
    done = _results(tmp_path)
    assert len(done) == 3  # the three finished runs are kept
    (tmp_path / ".half_written.json.999.tmp").write_text('{"name": ')  # what a crash mid-write leaves
    second = Counting()
    report = run_sweep(SMALL, tmp_path, task=second, progress=False)
    assert sorted(second.calls) == sorted(set(r.name for r in SMALL.runs()) - set(done))  # only the rest
    assert sorted(report.skipped) == sorted(done)
    after = _results(tmp_path)
    assert sorted(after) == sorted(r.name for r in SMALL.runs())
    assert all(after[name] == done[name] for name in done)  # finished runs untouched
    third = Counting()
    assert run_sweep(SMALL, tmp_path, task=third, progress=False).ran == [] and third.calls == []
    assert len(collect(tmp_path).results) == 6


def test_a_crash_while_a_result_is_written_leaves_no_half_result(tmp_path, monkeypatch):
    grid_sweep.prepare_folder(tmp_path, SMALL)

    def crash_halfway(self, text, *args, **kwargs):
        with open(self, "w") as f:
            f.write(text[: len(text) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", crash_halfway)
    with pytest.raises(OSError, match="disk full"):
        run_sweep(SMALL, tmp_path, task=fake_task, progress=False)
    monkeypatch.undo()
    assert _results(tmp_path) == {}  # half a file is never taken for a finished run
    assert len(run_sweep(SMALL, tmp_path, task=fake_task, progress=False).ran) == 6


def test_a_failed_run_is_reported_leaves_no_result_and_is_tried_again(tmp_path):
    report = run_sweep(SMALL, tmp_path, task=Counting(stop_at=2, error=ValueError), progress=False)
    assert len(report.ran) == 5 and list(report.failed) == [SMALL.runs()[1].name]
    assert "ValueError: stopped here" in report.summary()
    again = Counting()
    run_sweep(SMALL, tmp_path, task=again, progress=False)
    assert again.calls == [SMALL.runs()[1].name]


def test_a_folder_never_mixes_two_grids(tmp_path):
    run_sweep(SMALL, tmp_path, task=fake_task, progress=False)
    other = SweepSpec(alphas=(0.0, 0.2), seeds=(0, 1), steps=1000, episodes=10)
    calls = Counting()
    with pytest.raises(
        SweepError, match=r"different sweep \(alphas: \(0.0, 0.1, 0.4\) there, \(0.0, 0.2\) here"
    ):
        run_sweep(other, tmp_path, task=calls, progress=False)
    assert calls.calls == []


def test_collect_gives_the_alpha_by_seed_table_that_lesson_08_plots(tmp_path):
    run_sweep(SMALL, tmp_path, task=fake_task, progress=False)
    table = collect(tmp_path)
    sw = table.sweep("test_chests")
    assert sw.alphas == (0.0, 0.1, 0.4) and sw.seeds == (0, 1)
    np.testing.assert_allclose(sw.values, [[0.0, 0.01], [0.1, 0.11], [0.4, 0.41]])
    assert table.missing() == []
    assert np.isnan(table.sweep("cells.maze.chests_opened").values).all()  # not measured: NaN, not 0
    (tmp_path / "alpha0.4_seed1_hidden128_mlp_default_steps1000.json").unlink()
    assert collect(tmp_path).missing() == ["alpha0.4_seed1_hidden128_mlp_default_steps1000"]
    assert "5 results, 1 runs missing" in collect(tmp_path).text()


def matrix_task(settings: dict) -> dict:
    chests = {"test": settings["alpha"], "maze": settings["alpha"] / 2 + settings["seed"] / 10}
    return {
        "cells": {c: {"chests_opened": v, "keys_collected": 1.0, "return": v} for c, v in chests.items()},
        "preference": {"toward_chest": settings["alpha"], "toward_key": 1 - settings["alpha"]},
    }


def test_a_sweep_folder_reads_as_the_generalization_matrix(tmp_path):
    from mesalib.analysis.generalization import matrix, preferences

    spec = SweepSpec(alphas=(0.0, 0.4), seeds=(0, 1), steps=100, evaluate=("test", "maze", "preference"))
    run_sweep(spec, tmp_path, task=matrix_task, progress=False)
    table = collect(tmp_path).generalization_table()
    m = matrix(table, "chests_opened")
    assert m.alphas == (0.0, 0.4) and m.columns == ("test", "maze")
    np.testing.assert_allclose(m.mean, [[0.0, 0.05], [0.4, 0.25]])
    np.testing.assert_allclose(preferences(table)[0.4], [[0.4, 0.6], [0.4, 0.6]])


def test_collect_refuses_to_mix_settings_that_vary_unless_one_is_fixed(tmp_path):
    spec = SweepSpec(alphas=(0.0, 0.1), hidden=(32, 64), steps=1000, episodes=10)
    run_sweep(spec, tmp_path, task=fake_task, progress=False)
    with pytest.raises(SweepError, match="differ in hidden"):
        collect(tmp_path).sweep()
    assert collect(tmp_path).sweep(hidden=64).values.shape == (2, 1)


@pytest.mark.slow  # each pool process starts a fresh interpreter ("spawn"): seconds on a loaded machine
def test_a_local_pool_runs_every_run_once(tmp_path):
    report = run_sweep(SMALL, tmp_path, task=fake_task, workers=2, progress=False)
    assert sorted(report.ran) == sorted(r.name for r in SMALL.runs())
    hosts = {r["host"] for r in _results(tmp_path).values()}
    assert hosts == {socket.gethostname()}


# --------------------------------------------------------------------------------------------------
# The command line, and the class as the sweep


def _mesalib(argv, monkeypatch=None, task=fake_task) -> int:
    parser = argparse.ArgumentParser(prog="mesalib")
    sweep_command.add_parser(parser.add_subparsers(dest="command", required=True))
    if monkeypatch is not None:
        monkeypatch.setattr(sweep_command, "run_sweep", partial(run_sweep, task=task))
    args = parser.parse_args(argv)
    return args.run(args)


def test_the_command_refuses_a_bad_option_before_any_run(tmp_path, monkeypatch, capsys):
    calls = Counting()
    code = _mesalib(
        ["sweep", "run", "--alphas", "0", "1.5", "--out", str(tmp_path / "o")], monkeypatch, calls
    )
    assert code == 2 and calls.calls == [] and not (tmp_path / "o").exists()
    assert "alphas has 1.5" in capsys.readouterr().err
    code = _mesalib(["sweep", "run", "--share", str(tmp_path), "--part", "1/2"], monkeypatch, calls)
    assert code == 2 and "--share needs --learner" in capsys.readouterr().err
    code = _mesalib(["sweep", "run", "--share", str(tmp_path), "--learner", "ada"], monkeypatch, calls)
    assert code == 2 and "holds no grid yet" in capsys.readouterr().err
    assert calls.calls == []


def test_the_command_resumes_from_the_folder_alone(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "runs")
    first = Counting(stop_at=2)
    with pytest.raises(KeyboardInterrupt):
        _mesalib(
            ["sweep", "run", "--alphas", "0", "0.4", "--seeds", "0", "1", "--steps", "100", "--out", out],
            monkeypatch,
            first,
        )
    rest = Counting()
    assert _mesalib(["sweep", "run", "--out", out, "--quiet"], monkeypatch, rest) == 0  # the recorded grid
    assert len(rest.calls) == 3 and len(set(first.calls[:1] + rest.calls)) == 4
    assert "3 runs finished, 1 already there, 0 failed" in capsys.readouterr().out


def test_a_class_shares_one_grid_and_collect_marks_each_learners_points(tmp_path, monkeypatch, capsys):
    share = tmp_path / "class"
    assert (
        _mesalib(
            [
                "sweep",
                "plan",
                "--alphas",
                "0",
                "0.1",
                "0.4",
                "--seeds",
                "0",
                "1",
                "--steps",
                "100",
                "--out",
                str(share),
                "--parts",
                "3",
            ]
        )
        == 0
    )
    assert "6 runs recorded" in capsys.readouterr().out
    learners = ("ada", "bo", "cy")
    for k, who in enumerate(learners, start=1):
        argv = ["sweep", "run", "--share", str(share), "--learner", who, "--part", f"{k}/3", "--quiet"]
        assert _mesalib(argv, monkeypatch) == 0
    # a learner who changes the grid is refused before running anything
    calls = Counting()
    argv = ["sweep", "run", "--alphas", "0.2", "--share", str(share), "--learner", "dee", "--cells", "0"]
    assert _mesalib(argv, monkeypatch, calls) == 2 and calls.calls == []
    table = collect(share)
    assert sorted(table.learners()) == list(learners) and table.missing() == []
    by_learner = {who: [a for a, _, w in table.points() if w == who] for who in learners}
    assert all(len(alphas) == 2 for alphas in by_learner.values())
    capsys.readouterr()
    figure = tmp_path / "class.png"
    assert _mesalib(["sweep", "collect", str(share), "--plot", str(figure)]) == 0
    printed = capsys.readouterr().out
    assert "6 results" in printed and "ada" in printed and figure.stat().st_size > 5000


def test_the_class_phase_diagram_marks_every_learner_and_the_mean(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from mesalib.drawing.sweep_plots import plot_class_sweep

    runs = SMALL.runs()
    for k, who in enumerate(("ada", "bo"), start=1):
        run_sweep(select(runs, part=(k, 2)), tmp_path, task=fake_task, learner=who, progress=False)
    ax = plot_class_sweep(collect(tmp_path))
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["ada", "bo", "class mean"]
    np.testing.assert_allclose(ax.get_lines()[2].get_ydata(), [0.005, 0.105, 0.405])
    dots = sorted(y for line in ax.get_lines()[:2] for y in line.get_ydata())
    np.testing.assert_allclose(dots, [0.0, 0.01, 0.1, 0.11, 0.4, 0.41])


# --------------------------------------------------------------------------------------------------
# Real training


TINY = {"steps": 4096, "evaluate": ("test", "criteria"), "episodes": 20, "threads": 1}


@pytest.mark.slow
def test_two_real_tiny_runs_train_and_are_measured(tmp_path):
    spec = SweepSpec(alphas=(0.0, 0.4), **TINY)
    report = run_sweep(spec, tmp_path, progress=False)
    assert len(report.ran) == 2, report.summary()
    results = _results(tmp_path)
    for r in results.values():
        m = r["metrics"]
        assert set(m["cells"]) == {"test"} and set(m["cells"]["test"]) == {
            "chests_opened",
            "keys_collected",
            "return",
        }
        assert set(m["ratios"]) >= {"test_chests", "train_chests"} and isinstance(m["misgeneralizes"], bool)
    assert np.isfinite(collect(tmp_path).sweep("test_chests").values).all()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.slow
def test_a_sweep_on_a_loopback_dask_cluster_survives_losing_a_worker(tmp_path):
    """A scheduler and two workers (no nanny: a killed worker stays dead) on 127.0.0.1, dashboards off;
    6 real short runs (a few seconds each) through `--address`; the worker busy with a run is killed by
    its PID once the first result is in."""
    pytest.importorskip("distributed")
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "MESALIB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = [open(tmp_path / f"{name}.log", "w") for name in ("scheduler", "w1", "w2", "sweep")]
    processes = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs[0],
            stderr=subprocess.STDOUT,
            env=env,
        )
    ]
    try:
        for i, log in enumerate(logs[1:3], start=1):
            processes.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--nthreads",
                        "1",
                        "--name",
                        f"w{i}",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                )
            )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            out = tmp_path / "runs"
            code = (
                "import argparse, sys; from mesalib.teaching.sweep_command import add_parser; "
                "p = argparse.ArgumentParser(); add_parser(p.add_subparsers()); "
                "a = p.parse_args(sys.argv[1:]); sys.exit(a.run(a))"
            )
            argv = [
                "sweep",
                "run",
                "--alphas",
                "0",
                "0.2",
                "0.4",
                "--seeds",
                "0",
                "1",
                "--steps",
                "16384",
                "--evaluate",
                "test",
                "--episodes",
                "50",
                "--out",
                str(out),
                "--address",
                address,
                "--quiet",
            ]
            sweep = subprocess.Popen(
                [sys.executable, "-c", code, *argv], stdout=logs[3], stderr=subprocess.STDOUT, env=env
            )
            processes.append(sweep)
            worker_pids = {p.pid for p in processes[1:3]}
            pid_of = client.run(os.getpid)  # worker address -> its process id
            victim = None
            deadline = time.monotonic() + 240
            while victim is None and time.monotonic() < deadline and sweep.poll() is None:
                busy = [addr for addr, keys in client.processing().items() if keys]
                if busy and list(out.glob("alpha*.json")):
                    victim = pid_of[busy[0]]
                time.sleep(0.05)
            assert victim in worker_pids, "no worker was busy mid-sweep"
            finished_before = len(list(out.glob("alpha*.json")))
            os.kill(victim, signal.SIGKILL)
            assert sweep.wait(timeout=300) == 0, (tmp_path / "sweep.log").read_text()
        assert finished_before < 6
        printed = (tmp_path / "sweep.log").read_text()
        assert "6 runs finished, 0 already there, 0 failed" in printed, printed
        results = _results(out)
        assert sorted(results) == sorted(
            r.name
            for r in SweepSpec(
                alphas=(0, 0.2, 0.4), seeds=(0, 1), steps=16384, evaluate=("test",), episodes=50
            ).runs()
        )
        assert all(set(r["metrics"]["cells"]) == {"test"} for r in results.values())
    finally:
        for process in reversed(processes):
            _stop(process)
        for log in logs:
            log.close()
