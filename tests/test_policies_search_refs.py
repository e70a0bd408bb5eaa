"""The small references lesson 03 checks against: score_events, best_visit_order, nearest_key_order.

best_visit_order is compared with an independent dynamic programme over (items used, last place,
keys held) and, for the environment's own reward, with the grid planner `search` on real levels.
"""

from __future__ import annotations

import numpy as np
import pytest

from mesalib.agents.objectives import CHESTS, Objective
from mesalib.agents.planner import all_pairs_distances, search
from mesalib.agents.visit_orders import best_visit_order, nearest_key_order, score_events
from mesalib.env.levels import TRAIN


def manhattan_places(rng, n_keys, n_chests, size=7):
    """Distances between distinct random cells of an open room (start first), and the kinds."""
    cells = rng.choice(size * size, size=1 + n_keys + n_chests, replace=False)
    rc = np.stack(np.divmod(cells, size), axis=1)
    distances = np.abs(rc[:, None, :] - rc[None, :, :]).sum(axis=2)
    kinds = ["start"] + ["key"] * n_keys + ["chest"] * n_chests
    order = rng.permutation(n_keys + n_chests) + 1
    perm = np.concatenate([[0], order])
    return distances[np.ix_(perm, perm)], [kinds[p] for p in perm]


# --------------------------------------------------------------------------------------------------
# score_events


def test_score_events_is_the_objectives_score_for_every_row():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 12, size=(30, 3))
    for weights in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 2.0, -0.25], [1.0, 0.1, -0.01]):
        objective = Objective(chest=weights[0], key=weights[1], step=weights[2])
        expected = [objective.score(chests=c, keys=k, steps=s) for c, k, s in counts]
        got = score_events(counts, weights)
        assert got.shape == (30,) and got.dtype == float
        np.testing.assert_allclose(got, expected)
    assert score_events([[2, 3, 10]], [1.0, 0.0, -0.1]).tolist() == [1.0]


# --------------------------------------------------------------------------------------------------
# best_visit_order


def dp_best(distances, kinds, budget, weights, keys_held=0):
    """(best score, its fewest steps) by dynamic programming over (visited set, last place, keys held)."""
    n = len(kinds) - 1
    best = (0.0, 0)
    # state -> smallest steps for each (chests, keys) count reached there
    frontier = {(0, 0, keys_held): {(0, 0): 0}}
    while frontier:
        nxt = {}
        for (mask, here, held), table in frontier.items():
            for p in range(1, n + 1):
                if mask >> p & 1:
                    continue
                if kinds[p] == "chest" and held == 0:
                    continue
                new_held = held + 1 if kinds[p] == "key" else held - 1
                for (c, k), s in table.items():
                    s2 = s + int(distances[here][p])
                    if s2 > budget:
                        continue
                    c2, k2 = (c, k + 1) if kinds[p] == "key" else (c + 1, k)
                    score = weights[0] * c2 + weights[1] * k2 + weights[2] * s2
                    if score > best[0] + 1e-9 or (score > best[0] - 1e-9 and s2 < best[1]):
                        best = (score, s2)
                    slot = nxt.setdefault((mask | 1 << p, p, new_held), {})
                    if s2 < slot.get((c2, k2), budget + 1):
                        slot[(c2, k2)] = s2
        frontier = nxt
    return best


def test_best_visit_order_matches_a_dynamic_programme_on_random_rooms():
    rng = np.random.default_rng(1)
    for _ in range(60):
        n_keys, n_chests = int(rng.integers(0, 4)), int(rng.integers(0, 4))
        distances, kinds = manhattan_places(rng, n_keys, n_chests)
        budget = int(rng.integers(0, 25))
        weights = [
            float(rng.choice([0, 0.5, 1, 2])),
            float(rng.choice([0, 0.5, 1])),
            float(rng.choice([0, -0.125, -0.25, -1])),
        ]
        held = int(rng.integers(0, 2))
        score, order = best_visit_order(distances, kinds, budget, weights, held)
        dp_score, dp_steps = dp_best(distances, kinds, budget, weights, held)
        assert score == pytest.approx(dp_score)
        steps = sum(int(distances[a][b]) for a, b in zip([0] + order[:-1], order))
        assert steps == dp_steps and steps <= budget
        assert len(set(order)) == len(order) and all(1 <= p < len(kinds) for p in order)


def test_best_visit_order_respects_keys_budget_and_breaks_ties_as_documented():
    # start - key(1) - chest(2) on a line, chest(3) on the other side of the start
    d = [[0, 1, 2, 1], [1, 0, 1, 2], [2, 1, 0, 3], [1, 2, 3, 0]]
    kinds = ["start", "key", "chest", "chest"]
    assert best_visit_order(d, kinds, 2, [1, 0, 0]) == (1.0, [1, 2])
    assert best_visit_order(d, kinds, 1, [1, 0, 0]) == (0.0, [])  # no chest within one step with a key
    assert best_visit_order(d, kinds, 1, [1, 0, 0], keys_held=1) == (1.0, [3])
    assert best_visit_order(d, kinds, 2, [0, 1, 0]) == (1.0, [1])  # keys only: stop at the key
    assert best_visit_order(d, kinds, 5, [0, 0, -1]) == (0.0, [])  # only steps count: stay
    # Two chests at the same distance with one key: the lower number is tried first and kept.
    d2 = [[0, 1, 2, 2], [1, 0, 1, 1], [2, 1, 0, 2], [2, 1, 2, 0]]
    assert best_visit_order(d2, kinds, 9, [1, 0, -0.25]) == (0.5, [1, 2])
    # An empty level.
    assert best_visit_order([[0]], ["start"], 10, [1, 1, -1]) == (0.0, [])


def test_best_visit_order_is_exactly_search_for_the_environments_reward():
    """With CHESTS, events in passing never change the best count, so the two searches agree."""
    small = TRAIN.replace(keys=(1, 2), chests=(2, 4))
    levels = small.sample(np.random.default_rng(3), 60)
    for i in range(len(levels)):
        level = levels[i]
        width = level.walls.shape[1]
        keys, chests = np.flatnonzero(level.keys.ravel()), np.flatnonzero(level.chests.ravel())
        cells = [level.agent[0] * width + level.agent[1], *keys, *chests]
        distances = all_pairs_distances(level.walls)[np.ix_(cells, cells)]
        kinds = ["start"] + ["key"] * len(keys) + ["chest"] * len(chests)
        for budget in (6, 12, 20):
            score, _ = best_visit_order(distances, kinds, budget, [1.0, 0.0, 0.0])
            assert score == search(CHESTS, level.walls, level.keys, level.chests, level.agent, budget).chests


# --------------------------------------------------------------------------------------------------
# nearest_key_order


def test_nearest_key_order_goes_for_keys_then_chests_nearest_first():
    d = [[0, 1, 2], [1, 0, 1], [2, 1, 0]]
    assert nearest_key_order(d, ["start", "chest", "key"], budget=5) == [2, 1]
    assert nearest_key_order(d, ["start", "chest", "key"], budget=1) == []  # the key is 2 away
    assert nearest_key_order(d, ["start", "chest", "chest"], budget=5) == []  # no key at all
    assert nearest_key_order(d, ["start", "chest", "chest"], budget=5, keys_held=1) == [1]
    assert nearest_key_order(d, ["start", "chest", "chest"], budget=5, keys_held=2) == [1, 2]
    # Ties go to the lower place number.
    d3 = [[0, 2, 2, 9], [2, 0, 4, 9], [2, 4, 0, 9], [9, 9, 9, 0]]
    assert nearest_key_order(d3, ["start", "key", "key", "chest"], budget=20) == [1, 2, 3]
    assert nearest_key_order(d3, ["start", "key", "key", "chest"], budget=6) == [1, 2]


def test_nearest_key_order_is_a_legal_plan_and_never_better_than_search_for_keys():
    rng = np.random.default_rng(5)
    for _ in range(60):
        distances, kinds = manhattan_places(rng, int(rng.integers(0, 4)), int(rng.integers(0, 4)))
        budget = int(rng.integers(0, 25))
        order = nearest_key_order(distances, kinds, budget)
        steps = sum(int(distances[a][b]) for a, b in zip([0] + order[:-1], order))
        assert steps <= budget and len(set(order)) == len(order)
        held = 0
        for p in order:
            held += 1 if kinds[p] == "key" else -1
            assert held >= 0
        # Keys come before chests, as long as keys are left.
        key_positions = [i for i, p in enumerate(order) if kinds[p] == "key"]
        assert key_positions == list(range(len(key_positions)))
        keys_score, _ = best_visit_order(distances, kinds, budget, [0.0, 1.0, 0.0])
        assert len(key_positions) <= keys_score
