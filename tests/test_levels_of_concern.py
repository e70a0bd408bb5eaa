"""levels_of_concern: the behavioural verdict, and the tools that read a learned objective."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mesalib.agents.heuristics import KeyThenChest, RandomPolicy
from mesalib.analysis.concern import (
    VERDICTS,
    arrival_state,
    arrival_values,
    concern_table,
    local_maxima,
    promised_vs_delivered,
    verdict,
)
from mesalib.env.levels import TRAIN, Level

SMALL = TRAIN.replace(size=7, view=None, max_steps=12, keys=(1, 1), chests=(1, 2))


class FakeValue:
    """An 'agent' whose value head is a hand-written function of the observation."""

    def __init__(self, value_fn, gamma=0.9):
        self.config = {"gamma": gamma}
        self.value_fn = value_fn

    def value(self, obs):
        return torch.as_tensor(self.value_fn(np.asarray(obs)), dtype=torch.float32)


def room(agent=(3, 3), keys=(), chests=()) -> Level:
    walls = np.ones((7, 7), bool)
    walls[1:-1, 1:-1] = False
    k, c = np.zeros((7, 7), bool), np.zeros((7, 7), bool)
    for cell in keys:
        k[cell] = True
    for cell in chests:
        c[cell] = True
    return Level(walls, k, c, np.zeros((7, 7), bool), agent)


def test_verdict_follows_the_rule_and_covers_every_outcome():
    assert verdict((0.9, 0.96), (0.86, 0.31)) == "goal misgeneralization"
    assert verdict((0.1, 0.8), (0.8, 0.5)) == "robust"  # thresholds pass; x on TRAIN is not used
    assert verdict((1.0, 0.79), (1.0, 1.0)) == "fails on TRAIN"
    assert verdict((1.0, 1.0), (0.3, 0.4)) == "arbitrary failure"
    assert verdict((1.0, 1.0), (0.3, 0.9)) == "capability failure"
    assert verdict((1.0, math.nan), (1.0, 1.0)) == "unknown"
    seen = {verdict((1, y0), (x, y)) for y0 in (0.5, 0.9) for x in (0.5, 0.9, math.nan) for y in (0.2, 0.7)}
    assert seen == set(VERDICTS)


def test_concern_table_measures_each_split_against_the_same_split_of_the_reference():
    ref = {
        "train": {"keys_collected": 1.0, "chests_opened": 1.0, "steps": 10.0},
        "test": {"keys_collected": 8.0, "chests_opened": 0.0, "steps": 20.0},
    }
    system = {
        "train": {"keys_collected": 1.0, "chests_opened": 1.0, "steps": 10.0, "fraction_of_best": 0.9},
        "test": {"keys_collected": 4.0, "chests_opened": 0.0, "steps": 20.0, "fraction_of_best": 0.2},
    }
    row = concern_table({"s": system}, ref)["s"]
    assert row["train"] == pytest.approx((1.0, 0.9)) and row["test"] == pytest.approx((0.5, 0.2))
    assert row["verdict"] == "arbitrary failure"


def test_arrival_state_applies_the_rules():
    level = room(keys=[(3, 4)], chests=[(3, 2), (1, 1)])
    board, held = arrival_state(level, (3, 4))
    assert held == 1 and not board.keys[3, 4] and board.agent == (3, 4)
    board, held = arrival_state(level, (3, 2), keys_held=1)
    assert held == 0 and not board.chests[3, 2]
    board, held = arrival_state(level, (3, 2), keys_held=0)
    assert held == 0 and board.chests[3, 2]  # no key, nothing opens
    assert level.keys[3, 4] and level.chests[3, 2]  # the level itself is untouched


def test_arrival_values_score_the_state_after_stepping_onto_each_cell():
    # Value = minus the keys in view: stepping onto the key is the only way up.
    agent = FakeValue(lambda o: -o[:, 1].reshape(len(o), -1).astype(int).sum(1))
    level = room(keys=[(3, 4), (1, 5)])
    values = arrival_values(agent, level, SMALL)
    assert values.shape == (7, 7) and np.isnan(values[0]).all() and np.isnan(values[:, 0]).all()
    assert values[3, 4] == values[1, 5] == -1 and values[3, 3] == -2
    peaks = local_maxima(values)
    assert peaks[3, 4] and peaks[1, 5] and not peaks[3, 3] and not peaks[2, 5]  # flat elsewhere: ties count


def test_local_maxima_include_ties_and_ignore_walls():
    v = np.array([[np.nan, np.nan, np.nan], [np.nan, 1.0, 1.0], [np.nan, 0.0, np.nan]])
    assert local_maxima(v).tolist() == [[False, False, False], [False, True, True], [False, False, False]]


def test_promised_vs_delivered_compares_the_value_with_the_return_that_followed():
    zero = FakeValue(lambda o: np.zeros(len(o)), gamma=0.9)
    result = promised_vs_delivered(KeyThenChest(), zero, SMALL, episodes=8, seed=0)
    assert result["promised"] == 0.0 and result["delivered"] > 0 and result["states"] > 0
    assert 0 < result["chests_opened"] <= 1 and result["keys_collected"] >= result["chests_opened"]
    idle = promised_vs_delivered(RandomPolicy(0), FakeValue(lambda o: np.ones(len(o))), SMALL, episodes=4)
    assert idle["promised"] == pytest.approx(1.0)


def test_rollout_plays_the_levels_of_evaluate_and_records_what_record_episode_records():
    from mesalib.analysis.concern import discounted_to_go, rollout
    from mesalib.analysis.episodes import record_episode
    from mesalib.analysis.evaluate import evaluate

    played = rollout(
        KeyThenChest(), SMALL, episodes=12, seed=3, agent=FakeValue(lambda o: np.full(len(o), 0.5))
    )
    summary = evaluate(KeyThenChest(), SMALL, 12, seed=3, with_best=False).summary()
    assert played.chests_opened.mean() == pytest.approx(summary["chests_opened"])
    assert played.keys_collected.mean() == pytest.approx(summary["keys_collected"])
    for i in range(12):
        episode = record_episode(KeyThenChest(), SMALL, level=played.levels[i])
        assert [tuple(c) for c in played.cells[i]] == episode.path
        assert played.rewards[i].tolist() == episode.rewards and played.truncated[i] == episode.truncated
        assert len(played.values[i]) == episode.steps and set(played.values[i]) == {0.5}

    def always_up(obs, boards):  # walks into the top wall and stays there
        return np.zeros(len(boards), dtype=np.int64)

    walker = rollout(always_up, SMALL, episodes=6, seed=0)
    for i in range(6):
        assert [tuple(c) for c in walker.cells[i]] == record_episode(
            always_up, SMALL, level=walker.levels[i]
        ).path
        assert walker.cells[i][-1][0] == 1 and walker.truncated[i]
    assert walker.values is None
    assert discounted_to_go([1.0, 0.0, 1.0], 0.5).tolist() == [1.25, 0.5, 1.0]
