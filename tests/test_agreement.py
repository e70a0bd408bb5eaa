"""mesalib.analysis.agreement: plain and tie-aware agreement between two policies' moves."""

from __future__ import annotations

import numpy as np
import pytest

from mesalib import TRAIN
from mesalib.agents.heuristics import KeyThenChest, NearestKey, RandomPolicy
from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.agents.planner import Planner
from mesalib.analysis.agreement import Agreement, agreement, optimal_moves
from mesalib.analysis.stance import Trajectories, record
from mesalib.env.levels import Boards
from mesalib.env.rules import Action

KEYS_FIRST = Objective(key=1.0, chest=0.1, step=-0.01)


def _boards(keys=(), chests=(), agent=(4, 4), held=0, size=9) -> Boards:
    """One open room (walls on the border) with keys and chests at the given cells, as a batch of one."""
    walls = np.zeros((size, size), dtype=bool)
    walls[[0, -1], :] = walls[:, [0, -1]] = True
    grid = {}
    for name, cells in (("keys", keys), ("chests", chests)):
        grid[name] = np.zeros((size, size), dtype=bool)
        for cell in cells:
            grid[name][cell] = True
    return Boards(
        walls[None],
        grid["keys"][None],
        grid["chests"][None],
        np.zeros((1, size, size), dtype=bool),
        np.array([agent]),
        np.array([held]),
    )


def _moves(row) -> set[Action]:
    return {Action(int(a)) for a in np.flatnonzero(row)}


def test_optimal_moves_include_every_move_on_a_shortest_route():
    # A chest far away keeps the game going (it ends once no chest can be opened).
    diagonal = _boards(
        keys=[(2, 6)], chests=[(7, 1)]
    )  # two up, two right: UP and RIGHT both start a shortest path
    assert _moves(optimal_moves(KEYS, diagonal, 20)[0]) == {Action.UP, Action.RIGHT}
    straight = _boards(keys=[(4, 6)], chests=[(7, 1)])
    assert _moves(optimal_moves(KEYS, straight, 20)[0]) == {Action.RIGHT}
    # Nothing to gain: with no chest left the game is over, and every move is as good as any other.
    assert _moves(optimal_moves(KEYS, _boards(keys=[(4, 6)]), 20)[0]) == set(Action)


def test_optimal_moves_break_score_ties_like_the_planner_in_favour_of_shorter_plans():
    board = _boards(keys=[(4, 5)], chests=[(4, 6)])  # key one step right, chest just behind it
    # Without the tie-break, any first move still leaves time to open the chest: all four "optimal".
    assert _moves(optimal_moves(CHESTS, board, 20, shorter_first=0.0)[0]) == set(Action)
    assert _moves(optimal_moves(CHESTS, board, 20)[0]) == {Action.RIGHT}
    # With two steps left, only RIGHT opens the chest at all.
    assert _moves(optimal_moves(CHESTS, board, 2, shorter_first=0.0)[0]) == {Action.RIGHT}


def test_agreement_properties_count_the_observed_moves():
    boards = _boards()
    two = Boards(*(np.concatenate([getattr(boards, f)] * 2) for f in Boards.__dataclass_fields__))
    actions = np.array([0, 1])
    trajectories = Trajectories(two, np.array([20, 19]), actions, np.eye(4)[actions], np.array([0, 0]))
    optimal = np.array([[True, True, False, False], [False, False, True, False]])
    a = Agreement("a", "b", trajectories, theirs=np.array([0, 0]), optimal=optimal)
    assert a.plain == 0.5  # same move on board 0 only
    assert a.among_optimal == 0.5  # the observed UP is optimal on board 0; RIGHT is not on board 1
    assert a.ties == 0.5  # two optimal moves on board 0
    plain_only = Agreement("a", "b", trajectories, theirs=np.array([0, 1]), optimal=None)
    assert plain_only.plain == 1.0 and np.isnan(plain_only.among_optimal) and np.isnan(plain_only.ties)


def test_agreement_records_the_observed_policy_as_record_does_and_a_rule_agrees_with_itself():
    a = agreement(NearestKey(), NearestKey(), TRAIN, levels=12, seed=3)
    same = record(NearestKey(), TRAIN, 12, seed=3)
    assert len(a) == len(same)
    for name in ("actions", "steps_left", "episode"):
        assert np.array_equal(getattr(a.trajectories, name), getattr(same, name))
    assert np.array_equal(a.trajectories.boards.agent, same.boards.agent)
    assert a.plain == 1.0
    assert a.optimal is None and np.isnan(a.among_optimal)  # a rule has no objective to score moves
    assert (a.observed, a.other) == ("nearest_key", "nearest_key")


@pytest.mark.parametrize("objective", [KEYS_FIRST, CHESTS])
def test_a_planner_s_own_moves_are_always_among_its_optimal_moves(objective):
    observed, other = (Planner(objective, max_steps=TRAIN.max_steps) for _ in range(2))
    a = agreement(observed, other, TRAIN, levels=12, seed=1)
    assert a.plain == 1.0 and a.among_optimal == 1.0
    assert 0.0 < a.ties < 1.0


def test_tie_aware_agreement_sees_through_tie_breaking():
    # nearest_key walks to the nearest key; so does a key planner, breaking ties its own way.
    a = agreement(NearestKey(), Planner(KEYS, max_steps=TRAIN.max_steps), TRAIN, levels=20, seed=0)
    assert a.among_optimal == 1.0
    assert a.plain < 0.9 and a.ties > 0.3
    # Random moves are mostly not what a key planner would do, tie-aware or not.
    r = agreement(RandomPolicy(0), Planner(KEYS, max_steps=TRAIN.max_steps), TRAIN, levels=20, seed=0)
    assert r.plain < 0.4 and r.among_optimal < 0.7


def test_an_objective_can_be_given_for_a_policy_without_one():
    a = agreement(NearestKey(), KeyThenChest(), TRAIN, levels=8, seed=0, objective=CHESTS)
    assert a.optimal is not None and a.optimal.shape == (len(a), 4)
    assert a.optimal.any(axis=1).all()
    assert a.among_optimal > 0.8
