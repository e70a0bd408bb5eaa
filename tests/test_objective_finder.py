"""mesalib.analysis.objective_finder: fitting key and chest weights to decisions by inverse planning."""

from __future__ import annotations

import numpy as np
import pytest

from mesalib import TEST, TRAIN
from mesalib.agents.heuristics import NearestKey
from mesalib.agents.objectives import CHESTS, Objective
from mesalib.agents.planner import Planner
from mesalib.analysis import stance
from mesalib.analysis.objective_finder import (
    STEP_COST,
    episode_log_likelihoods,
    find_objective,
    objective_at,
)

KEYS_FIRST = Objective(key=1.0, chest=0.1, step=-0.01)
KEYS_FIRST_ANGLE = float(np.degrees(np.arctan2(KEYS_FIRST.key, KEYS_FIRST.chest)))  # about 84.3
GRID = np.array([-30.0, 0.0, 30.0, 60.0, 90.0, 120.0])


@pytest.fixture(scope="module")
def keys_first_on_test():
    """The key-first planner's decisions on four TEST levels, fitted on `GRID` (shared: searching TEST
    boards with ten keys is the slow part)."""
    return find_objective(Planner(KEYS_FIRST, max_steps=TEST.max_steps), TEST, 4, seed=0, angles=GRID)


def test_objective_at_points_the_weights_in_the_direction_of_the_angle():
    assert objective_at(0.0) == Objective(chest=1.0, key=0.0, step=-STEP_COST)
    assert objective_at(90.0, 0.1) == Objective(chest=0.0, key=1.0, step=-0.1)  # exactly 0: no chest wanted
    both = objective_at(45.0)
    assert both.key == both.chest == pytest.approx(np.sqrt(0.5))
    avoid = objective_at(-45.0)
    assert avoid.chest > 0 > avoid.key


def test_episode_log_likelihoods_add_up_to_the_stance_log_likelihood():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(3, 12, 4))
    actions = rng.integers(0, 4, 12)
    episode = np.repeat([0, 1, 2], 4)
    betas = np.array([0.5, 2.0])
    by_episode = episode_log_likelihoods(q, actions, episode, betas)
    assert by_episode.shape == (3, 2, 3)
    for c in range(3):
        for k, beta in enumerate(betas):
            assert by_episode[c, k].sum() == pytest.approx(stance.log_likelihood(q[c], actions, beta))
            first = stance.log_likelihood(q[c, :4], actions[:4], beta)
            assert by_episode[c, k, 0] == pytest.approx(first)


@pytest.mark.parametrize("angle", [0.0, 60.0])
def test_it_recovers_a_planner_s_objective_on_the_grid(angle):
    planner = Planner(objective_at(angle), max_steps=TEST.max_steps)
    fit = find_objective(planner, TEST, episodes=3, seed=0, angles=GRID)
    assert fit.best[0] == angle
    assert fit.optimal_share() == 1.0  # a planner always takes one of its own optimal moves
    assert fit.objective == objective_at(angle)


def test_it_recovers_keys_first_and_chests_within_the_grid_s_resolution(keys_first_on_test):
    step = GRID[1] - GRID[0]
    keys_first = keys_first_on_test
    assert abs(keys_first.best[0] - KEYS_FIRST_ANGLE) <= step
    near = keys_first.plausible_angles()
    assert near.min() - step <= KEYS_FIRST_ANGLE <= near.max() + step
    assert 0.0 not in near and 90.0 not in near  # neither chests alone nor keys alone
    chests = find_objective(Planner(CHESTS, max_steps=TEST.max_steps), TEST, 4, seed=0, angles=GRID)
    assert list(chests.plausible_angles()) == [0.0]
    assert chests.key_per_chest == 0.0


def test_on_train_the_decisions_do_not_pin_the_objective_down():
    # With one or two keys and many chests, "keys first" is the best way to open chests: the
    # key-first planner's decisions fit "chests only" as well as "mostly keys".
    fit = find_objective(Planner(KEYS_FIRST, max_steps=TRAIN.max_steps), TRAIN, 6, seed=0, angles=GRID)
    assert {0.0, 30.0, 60.0} <= set(fit.plausible_angles())
    assert len(set(fit.bootstrap(50, seed=0))) > 1  # ties for best are drawn at random


def test_nearest_key_gets_an_objective_that_it_acts_on_less_consistently_than_a_planner(keys_first_on_test):
    # nearest_key has no objective; the finder still names one, but its moves are optimal under it
    # less often than a planner's are under its own, and the fitted beta is lower.
    rule = find_objective(NearestKey(), TEST, 4, seed=0, angles=GRID)
    planner = keys_first_on_test
    assert rule.optimal_share() < 0.95 <= planner.optimal_share()
    assert rule.best[2] < planner.best[2]
    assert rule.uniform < rule.surface.max() < planner.surface.max() * rule.decisions / planner.decisions
    assert "nearest_key" in rule.summary()
