"""The generalization matrix (lesson 08): named evaluation distributions, the table's arithmetic, and
the shipped table, one cell of which is recomputed here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mesalib.agents import checkpoints
from mesalib.analysis import generalization as gm
from mesalib.analysis.criteria import split_distributions
from mesalib.env.levels import BALANCED, LONG, TEST, TRAIN, mix
from mesalib.teaching.cli import main


def test_train_and_test_are_the_agents_own_splits_and_the_others_are_seen_its_way():
    trained_on = mix(TRAIN.replace(view=7), TEST.replace(view=7), 0.2)
    splits = split_distributions(trained_on)
    assert gm.evaluation_distribution("train", trained_on) == splits["train"]
    assert gm.evaluation_distribution("test", trained_on) == splits["test"]
    assert gm.evaluation_distribution("balanced", trained_on) == BALANCED.replace(view=7)
    assert gm.evaluation_distribution("long", TRAIN) == LONG
    with pytest.raises(ValueError, match="unknown distribution 'hard'.*balanced"):
        gm.evaluation_distribution("hard", TRAIN)


def test_a_cell_is_the_same_levels_for_every_row():
    ktc = gm.measure_cell("key_then_chest", "balanced", 60, seed=2)
    assert ktc == gm.measure_cell("key_then_chest", "balanced", 60, seed=2)
    nk_long = gm.measure_cell("nearest_key", "long", 60, seed=2)
    nk_test = gm.measure_cell("nearest_key", "test", 60, seed=2)
    assert nk_long["keys_collected"] > nk_test["keys_collected"]  # more steps, more keys on the same counts
    assert set(ktc) == set(gm.METRICS)


def synthetic_table():
    runs = {}
    for alpha, base in ((0.0, 1.0), (0.4, 2.0)):
        for seed in (0, 1, 2):
            runs[f"a{alpha}s{seed}"] = {
                "alpha": alpha,
                "seed": seed,
                "cells": {
                    "train": {"chests_opened": base + seed},
                    "test": {"chests_opened": 10 * base - seed},
                },
                "preference": {"toward_chest": 0.1 * seed, "toward_key": 1 - 0.1 * seed},
            }
    return {"alphas": [0.0, 0.4], "columns": ["train", "test"], "runs": runs}


def test_matrix_means_and_spreads_over_seeds():
    m = gm.matrix(synthetic_table())
    assert m.values.shape == (2, 2, 3)
    np.testing.assert_allclose(m.mean, [[2.0, 9.0], [3.0, 19.0]])
    np.testing.assert_allclose(m.spread, np.ones((2, 2)))  # sample standard deviation of (x, x+1, x+2)
    prefs = gm.preferences(synthetic_table())
    np.testing.assert_allclose(prefs[0.4][:, 0], [0.0, 0.1, 0.2])


def test_the_shipped_table_covers_the_sweep_and_one_cell_reproduces():
    table = gm.load_table()
    assert table["columns"] == list(gm.COLUMNS) and set(gm.ALPHAS) <= set(table["alphas"])
    m = gm.matrix(table)
    assert not np.isnan(m.values).any() and m.values.shape[2] >= 3  # three training seeds per alpha
    shipped = next(n for n in checkpoints.sweep_names(0.4) if checkpoints.recipe(n).shipped)
    again = gm.measure_cell(checkpoints.load(shipped), "balanced", table["episodes"], table["seed"])
    assert again["chests_opened"] == pytest.approx(
        table["runs"][shipped]["cells"]["balanced"]["chests_opened"]
    )
    ktc = gm.measure_cell("key_then_chest", "long", table["episodes"], table["seed"])
    assert ktc == pytest.approx(table["references"]["key_then_chest"]["long"])


def test_mesalib_evaluate_on_a_named_distribution(capsys):
    assert main(["evaluate", "key_then_chest", "--on", "balanced", "--episodes", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["on"] == "balanced"
    assert out["chests_opened"] == pytest.approx(
        gm.measure_cell("key_then_chest", "balanced", 40)["chests_opened"]
    )
    with pytest.raises(SystemExit):
        main(["evaluate", "key_then_chest", "--on", "nowhere", "--episodes", "5"])
    err = capsys.readouterr().err
    assert "invalid choice: 'nowhere'" in err and "balanced" in err


def test_the_benchmark_script_writes_a_table_the_lesson_can_read(tmp_path, capsys):
    import runpy
    import sys

    out = tmp_path / "table.json"
    argv = [
        "generalization_matrix.py",
        "--episodes",
        "5",
        "--alphas",
        "0",
        "0.4",
        "--seeds",
        "0",
        "--out",
        str(out),
    ]
    old, sys.argv = sys.argv, argv
    try:
        with pytest.raises(SystemExit) as done:
            runpy.run_path("benchmarks/generalization_matrix.py", run_name="__main__")
    finally:
        sys.argv = old
    assert done.value.code == 0
    m = gm.matrix(gm.load_table(out))
    assert m.values.shape == (2, len(gm.COLUMNS), 1) and not np.isnan(m.values).any()
    assert set(gm.load_table(out)["runs"]) == {"default", "alpha0.4"}  # shipped runs only: nothing trained
