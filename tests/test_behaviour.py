"""mesalib.analysis.behaviour: scoring evaluation records under an objective."""

from __future__ import annotations

import numpy as np
import pytest

from mesalib import TEST
from mesalib.agents.heuristics import NearestKey
from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.analysis.behaviour import EVENTS, as_objective, mean_scores, score_episodes
from mesalib.analysis.evaluate import COUNTERS, evaluate

RECORDS = {
    "chests_opened": np.array([1, 0, 2]),
    "keys_collected": np.array([2, 5, 3]),
    "steps": np.array([20, 20, 14]),
    "ghost_chests_opened": np.array([0, 1, 0]),
    "return": np.array([1.0, 0.0, 2.0]),
}


def test_docstring_example():
    out = score_episodes(
        {"chests_opened": [1, 0], "keys_collected": [2, 5], "steps": [20, 20]}, {"key": 1.0, "chest": 0.5}
    )
    assert out.dtype == np.float64 and out.tolist() == [2.5, 5.0]


def test_each_weight_multiplies_its_record():
    assert score_episodes(RECORDS, CHESTS).tolist() == [1, 0, 2]
    assert score_episodes(RECORDS, KEYS).tolist() == [2, 5, 3]
    assert score_episodes(RECORDS, {"step": -0.5}).tolist() == [-10, -10, -7]
    assert score_episodes(RECORDS, {"ghost": 2.0}).tolist() == [0, 2, 0]
    mixed = Objective(chest=1.0, key=0.25, step=-0.125, ghost=-1.0)
    expected = (
        RECORDS["chests_opened"]
        + 0.25 * RECORDS["keys_collected"]
        - 0.125 * RECORDS["steps"]
        - RECORDS["ghost_chests_opened"]
    )
    assert np.allclose(score_episodes(RECORDS, mixed), expected)
    assert np.allclose(
        score_episodes(RECORDS, mixed),
        score_episodes(RECORDS, {"chest": 1.0, "key": 0.25, "step": -0.125, "ghost": -1.0}),
    )


def test_the_environment_reward_equals_the_return_without_penalties():
    ev = evaluate(NearestKey(), TEST, 64, seed=3, with_best=False)
    assert np.allclose(score_episodes(ev.records, CHESTS), ev.records["return"])


def test_missing_records_and_bad_weights():
    only_keys = {"keys_collected": [1, 2]}
    assert score_episodes(only_keys, KEYS).tolist() == [1.0, 2.0]  # unweighted records may be absent
    with pytest.raises(KeyError, match="chests_opened"):
        score_episodes(only_keys, CHESTS)
    with pytest.raises(ValueError, match="unknown weight"):
        score_episodes(RECORDS, {"chests": 1.0})  # a typo is an error, not a zero weight
    with pytest.raises(TypeError):
        score_episodes(RECORDS, [1.0, 0.0])
    with pytest.raises(ValueError, match="different lengths"):
        score_episodes({"keys_collected": [1, 2], "steps": [3]}, KEYS)
    assert as_objective({"key": 1}) == KEYS and as_objective(CHESTS) is CHESTS


def test_mean_scores_by_objective_and_policy():
    other = {k: v[:2] for k, v in RECORDS.items()}
    scores = mean_scores({"a": RECORDS, "b": other}, {"chests": CHESTS, "keys": KEYS})
    assert scores == {"chests": {"a": 1.0, "b": 0.5}, "keys": {"a": 10 / 3, "b": 3.5}}
    ev = evaluate(NearestKey(), TEST, 32, seed=0, with_best=False)
    assert mean_scores({"nk": ev}, {"keys": KEYS})["keys"]["nk"] == pytest.approx(
        ev.summary()["keys_collected"]
    )


def test_every_event_an_objective_weighs_is_an_episode_counter():
    assert set(EVENTS.values()) <= set(COUNTERS)
    assert set(EVENTS) == set(vars(Objective()))  # one event per weight of an objective
