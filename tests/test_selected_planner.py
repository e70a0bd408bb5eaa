"""The selected planner: an objective chosen by a base optimizer from `TRAIN` reward alone, and the
landscape that shows which objectives `TRAIN` cannot tell apart.

The selection is checked against a brute-force scoring of a tiny candidate set with the analysis
layer's own evaluation, its tie-breaking on hand-made score tables, and the planner it yields for
capability on `TRAIN`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from mesalib.agents.heuristics import KeyThenChest
from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.agents.planner import Planner
from mesalib.agents.registry import POLICIES, resolve
from mesalib.agents.selected_planner import (
    SELECTED_SEED0,
    objective_grid,
    select_from_table,
    select_objective,
    selected_planner,
    training_pool,
)
from mesalib.analysis.evaluate import evaluate, evaluate_levels
from mesalib.analysis.objective_landscape import objective_landscape
from mesalib.env.levels import TEST, TRAIN
from mesalib.teaching.cli import main

NOTHING = Objective(chest=1.0, key=-1.0)
"""A key costs what a chest brings: no plan is worth making (a bad candidate on `TRAIN`)."""
TINY = [NOTHING, KEYS, CHESTS, Objective(chest=1.0, key=3.0)]


@pytest.fixture(scope="module")
def small_pool():
    return training_pool(size=12)


# --------------------------------------------------------------------------------------------------
# the base optimizer


def test_the_grid_has_rows_by_step_weight():
    grid = objective_grid(keys=(0.0, 1.0, 2.0), steps=(0.0, -0.1))
    assert len(grid) == 6
    assert grid[4] == Objective(chest=1.0, key=1.0, step=-0.1)  # row 1, column 1
    assert all(o.chest == 1.0 for o in grid)


def test_selection_maximises_the_train_return_brute_force(small_pool):
    per_level = [
        evaluate_levels(Planner(c, max_steps=TRAIN.max_steps), small_pool, TRAIN, with_best=False).records[
            "return"
        ]
        for c in TINY
    ]
    for seed in (0, 1):
        selection = select_objective(seed, TINY, small_pool, sample_size=6)
        brute = [float(np.mean(returns[selection.sample])) for returns in per_level]
        np.testing.assert_allclose(selection.scores, brute)
        assert brute[selection.best_index] == max(brute)
        assert selection.best not in (NOTHING, KEYS)  # neither matches a chest-valuing planner on TRAIN
        first_tied = next(i for i in selection.order if brute[i] == max(brute))
        assert selection.best_index == first_tied


def test_ties_go_to_the_first_tried_and_seeds_disagree():
    candidates = objective_grid(keys=(0.0, 1.0, 2.0), steps=(0.0,))
    tied = np.array([[1.0, 2.0, 1.0, 0.0], [1.0, 2.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    picks = set()
    for seed in range(12):
        selection = select_from_table(tied, candidates, seed, sample_size=4)
        assert selection.best_index == next(i for i in selection.order if i in (0, 1))
        assert selection.tied == candidates[:2]
        picks.add(selection.best_index)
    assert picks == {0, 1}  # TRAIN cannot tell the first two apart: the seed decides


def test_only_the_sampled_levels_count():
    candidates = objective_grid(keys=(0.0, 1.0), steps=(0.0,))
    table = np.array([[1.0, 1.0, 1.0, 1.0], [5.0, 0.0, 0.0, 0.0]])  # the second is best on level 0 only
    for seed in range(8):
        selection = select_from_table(table, candidates, seed, sample_size=2)
        assert selection.best_index == (1 if 0 in selection.sample else 0)
    with pytest.raises(ValueError, match="sample_size"):
        select_from_table(table, candidates, 0, sample_size=5)


def test_selection_is_deterministic_and_seeded(small_pool):
    a = select_objective(3, TINY[1:], small_pool, sample_size=6)
    b = select_objective(3, TINY[1:], small_pool, sample_size=6)
    assert a.best == b.best and a.best_index == b.best_index
    np.testing.assert_array_equal(a.sample, b.sample)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_array_equal(a.scores, b.scores)
    c = select_objective(4, TINY[1:], small_pool, sample_size=6)
    assert not np.array_equal(a.sample, c.sample) or not np.array_equal(a.order, c.order)


@pytest.mark.slow
def test_the_kept_seed0_objective_is_what_selection_picks():
    assert select_objective(0).best == SELECTED_SEED0


# --------------------------------------------------------------------------------------------------
# the selected planner


def test_the_registry_name_builds_the_selected_planner(capsys):
    assert "selected_planner" in POLICIES
    policy = resolve("selected_planner", TEST, seed=3)
    assert isinstance(policy, Planner) and policy.name == "selected_planner"
    assert policy.objective == SELECTED_SEED0 and policy.max_steps == TEST.max_steps and policy.seed == 3
    assert main(["evaluate", "selected_planner", "--on", "train", "--episodes", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["agent"] == "selected_planner" and out["chests_opened"] > 0


def _fraction_of_key_then_chest(policy, episodes: int) -> float:
    mine = evaluate(policy, TRAIN, episodes, seed=0, with_best=False).summary()["chests_opened"]
    reference = evaluate(KeyThenChest(), TRAIN, episodes, seed=0, with_best=False).summary()["chests_opened"]
    return mine / reference


def test_capable_on_train_quick():
    assert _fraction_of_key_then_chest(selected_planner(dist=TRAIN), 100) >= 0.9


@pytest.mark.slow
def test_capable_on_train_1000_levels():
    assert _fraction_of_key_then_chest(selected_planner(dist=TRAIN), 1000) >= 0.9


def test_a_planner_the_base_optimizer_would_reject_is_not_capable():
    """The capability check can fail: an objective that values nothing opens almost nothing."""
    assert _fraction_of_key_then_chest(Planner(NOTHING), 40) < 0.5


# --------------------------------------------------------------------------------------------------
# the landscape


def test_the_landscape_on_a_small_grid():
    keys, steps = (-1.0, 0.0, 3.0), (0.0,)
    landscape = objective_landscape(selection_seeds=(0, 1, 2), test_episodes=8, keys=keys, steps=steps)
    assert landscape.train.shape == landscape.test.shape == (1, 3)
    assert landscape.train[0, 0] < 0.5 < landscape.train[0, 1]  # valuing nothing fails on TRAIN
    assert landscape.train[0, 1] == pytest.approx(landscape.train[0, 2])  # TRAIN cannot tell these apart
    assert landscape.test[0, 2] < landscape.test[0, 1]  # TEST can: keys-heavy opens fewer chests
    assert landscape.near_best_on_train().tolist() == [[False, True, True]]
    for pick in landscape.picks:
        assert landscape.objective(pick.row, pick.col) == pick.objective
        assert (pick.row, pick.col) != (0, 0)
        assert pick.test == landscape.test[pick.row, pick.col]
    assert landscape.picks[0].objective == select_objective(0, objective_grid(keys, steps)).best
