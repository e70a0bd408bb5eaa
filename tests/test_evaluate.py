"""Rollouts and metrics: episode bookkeeping, determinism, and the planner's best as the reference."""

import numpy as np
import pytest

from mesalib.agents.heuristics import KeyThenChest, NearestKey, RandomPolicy, WallFollower, act_single
from mesalib.agents.objectives import CHESTS
from mesalib.agents.planner import Planner, best_chests
from mesalib.analysis.evaluate import COUNTERS, RECORD_KEYS, Evaluation, evaluate, evaluate_levels
from mesalib.env.levels import TEST, TRAIN, mix
from mesalib.env.rules import INFO_KEYS, Game

SUMMARY_KEYS = {
    "return",
    "chests_opened",
    "keys_collected",
    "ghost_chests_opened",
    "steps",
    "wall_bumps",
    "fraction_of_best",
    "episodes",
}


class Spy:
    """Wraps a policy and records how evaluate calls reset."""

    def __init__(self, policy):
        self.policy, self.name, self.resets = policy, "spy", []

    def __call__(self, obs, boards):
        return self.policy(obs, boards)

    def reset(self, done):
        self.resets.append(None if done is None else np.array(done))
        self.policy.reset(done)


def test_the_records_keep_every_running_total_of_the_game_but_the_keys_held():
    assert set(COUNTERS) == set(INFO_KEYS) - {"keys_held"}
    assert RECORD_KEYS == ("return", *COUNTERS, "best_chests", "fraction_of_best")


def test_exact_number_of_episodes_and_summary_keys():
    for episodes, num_envs in ((100, 16), (5, 64), (37, 8)):
        ev = evaluate(KeyThenChest(), TRAIN, episodes, seed=0, num_envs=num_envs)
        assert len(ev) == episodes
        assert set(ev.records) == set(RECORD_KEYS)
        assert all(len(v) == episodes for v in ev.records.values())
        summary = ev.summary()
        assert set(summary) == SUMMARY_KEYS and summary["episodes"] == episodes
        assert summary["chests_opened"] == pytest.approx(ev.records["chests_opened"].mean())
        assert ev.seconds > 0 and ev.policy == "key_then_chest"
    with pytest.raises(ValueError):
        evaluate(KeyThenChest(), TRAIN, 0)


def test_records_match_a_plain_python_replay():
    """evaluate plays the levels `dist.sample(default_rng(seed), episodes)`; replay them by the rules."""
    for policy, dist in ((KeyThenChest(), TEST), (Planner(CHESTS), TRAIN), (WallFollower(2), TEST)):
        ev = evaluate(policy, dist, 12, seed=3, num_envs=1)
        levels = dist.sample(np.random.default_rng(3), 12)
        policy.reset(None)
        for k in range(12):
            level = levels[k]
            game, ret = Game(level, dist), 0.0
            while True:
                reward, terminated, truncated = game.step(act_single(policy, game))
                ret += reward
                if terminated or truncated:
                    break
            policy.reset(np.ones(1, bool))
            got = {name: ev.records[name][k] for name in RECORD_KEYS}
            assert got["return"] == pytest.approx(ret)
            for name in ("chests_opened", "keys_collected", "ghost_chests_opened", "steps", "wall_bumps"):
                assert got[name] == getattr(game, name), (policy.name, k, name)
            assert got["best_chests"] == best_chests(level, dist)
            assert got["fraction_of_best"] == pytest.approx(game.chests_opened / got["best_chests"])


def test_every_policy_meets_the_same_levels_whatever_the_batch_size():
    """The levels depend on the seed only: not on the policy, nor on how many games run at once."""
    a = evaluate(NearestKey(), TEST, 40, seed=4, num_envs=8)
    b = evaluate(KeyThenChest(), TEST, 40, seed=4, num_envs=3)
    levels = TEST.sample(np.random.default_rng(4), 40)
    expected = [best_chests(levels[k], TEST) for k in range(40)]
    np.testing.assert_array_equal(a.records["best_chests"], expected)
    np.testing.assert_array_equal(b.records["best_chests"], expected)
    c = evaluate(KeyThenChest(), TEST, 40, seed=4, num_envs=40)
    for name in RECORD_KEYS:  # a deterministic, memoryless policy: identical per-level results
        np.testing.assert_array_equal(b.records[name], c.records[name])


@pytest.mark.slow
def test_same_seed_same_numbers_different_seed_different():
    for policy in (RandomPolicy(0), WallFollower(1), Planner(CHESTS)):
        a = evaluate(policy, TEST, 150, seed=1, num_envs=32)
        b = evaluate(policy, TEST, 150, seed=1, num_envs=32)  # the same object again: reset reseeds it
        c = evaluate(policy, TEST, 150, seed=2, num_envs=32)
        for name in RECORD_KEYS:
            np.testing.assert_array_equal(a.records[name], b.records[name])
        assert a.summary() == b.summary()
        assert any(not np.array_equal(a.records[name], c.records[name]) for name in RECORD_KEYS)


def test_policy_reset_is_called_first_and_after_every_step_with_finished_games():
    spy = Spy(KeyThenChest())
    ev = evaluate(spy, TRAIN, 50, seed=0, num_envs=10)
    assert spy.resets[0] is None
    masks = spy.resets[1:]
    assert masks and all(m.shape == (10,) and m.dtype == bool and m.any() for m in masks)
    assert sum(int(m.sum()) for m in masks) >= len(ev)


def test_plain_functions_are_policies_too():
    ev = evaluate(lambda obs, boards: np.full(len(boards), 2), TRAIN, 10, seed=0, with_best=False)
    assert len(ev) == 10 and ev.policy == "function"
    assert (ev.records["steps"] == TRAIN.max_steps).all()  # walking down into the wall forever


def test_fraction_of_best_uses_the_planner():
    planner = evaluate(Planner(CHESTS), TEST, 200, seed=0)
    np.testing.assert_array_equal(planner.records["chests_opened"], planner.records["best_chests"])
    assert planner.summary()["fraction_of_best"] == 1.0
    nearest = evaluate(NearestKey(), TEST, 200, seed=0)
    assert (nearest.records["chests_opened"] <= nearest.records["best_chests"]).all()
    assert 0.1 < nearest.summary()["fraction_of_best"] < 0.6
    bare = evaluate(NearestKey(), TEST, 200, seed=0, with_best=False)
    assert (bare.records["best_chests"] == 0).all() and np.isnan(bare.records["fraction_of_best"]).all()
    assert np.isnan(bare.summary()["fraction_of_best"])
    for name in ("chests_opened", "keys_collected", "steps"):
        np.testing.assert_array_equal(bare.records[name], nearest.records[name])


def test_summary_averages_fraction_over_episodes_where_a_chest_could_be_opened():
    records = {name: np.array([1, 0, 2]) for name in RECORD_KEYS}
    records["best_chests"] = np.array([2, 0, 2])
    records["fraction_of_best"] = np.array([0.5, np.nan, 1.0])
    s = Evaluation(records, "handmade").summary()
    assert s["fraction_of_best"] == 0.75 and s["chests_opened"] == 1.0 and s["episodes"] == 3
    assert "handmade" in repr(Evaluation(records, "handmade"))


def test_ghost_chests_are_counted_separately():
    ghostly = TEST.replace(ghost_chests=True)
    ev = evaluate(NearestKey(), ghostly, 200, seed=0, with_best=False)
    assert ev.summary()["ghost_chests_opened"] > 0.2
    assert not np.array_equal(ev.records["ghost_chests_opened"], ev.records["chests_opened"])
    assert evaluate(NearestKey(), TEST, 50, seed=0, with_best=False).summary()["ghost_chests_opened"] == 0


def test_return_includes_the_penalties():
    costly = TRAIN.replace(step_penalty=0.01, wall_bump_penalty=0.1)
    ev = evaluate(RandomPolicy(0), costly, 60, seed=0, with_best=False)
    want = ev.records["chests_opened"] - 0.01 * ev.records["steps"] - 0.1 * ev.records["wall_bumps"]
    np.testing.assert_allclose(ev.records["return"], want, atol=1e-4)


def test_mixtures_and_progress_bar(capsys):
    ev = evaluate(KeyThenChest(), mix(TRAIN, TEST, 0.5), 40, seed=0, progress=True)
    assert len(ev) == 40 and ev.summary()["fraction_of_best"] > 0.9


def test_evaluate_levels_plays_each_level_once_in_order():
    levels = TEST.sample(np.random.default_rng(0), 30)
    ev = evaluate_levels(NearestKey(), levels, TEST)
    assert len(ev) == 30
    for i in [0, 7, 29]:
        game = Game(levels[i], TEST)
        while True:
            _, terminated, truncated = game.step(act_single(NearestKey(), game))
            if terminated or truncated:
                break
        assert ev.records["keys_collected"][i] == game.keys_collected
        assert ev.records["chests_opened"][i] == game.chests_opened
        assert ev.records["best_chests"][i] == best_chests(levels[i], TEST)
