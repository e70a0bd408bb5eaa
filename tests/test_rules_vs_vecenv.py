"""The batched NumPy core must agree exactly with the plain-Python rules, step by step."""

import numpy as np
import pytest

from mesalib.env.levels import COSTLY, TEST, TRAIN, mix
from mesalib.env.rules import INFO_KEYS, State, observe, step
from mesalib.env.vecenv import VecChestsAndKeys

VARIANTS = {
    "train": TRAIN,
    "test": TEST,
    "allocentric": TRAIN.replace(view=None),
    "small-view-inventory-ghosts-maze": TRAIN.replace(
        view=5, inventory_planes=2, ghost_chests=True, layout="maze"
    ),
    "mixture": mix(TRAIN, TEST, 0.3),
    "penalties-maze-ghosts": TEST.replace(
        layout="maze", size=11, ghost_chests=True, wall_bump_penalty=0.1, step_penalty=0.01, max_steps=30
    ),
    "costly": COSTLY,  # a reward per key taken, negative
    "costly-penalties-maze": COSTLY.replace(
        layout="maze", key_cost=0.25, wall_bump_penalty=0.1, step_penalty=0.01, inventory_planes=1
    ),
    "tiny": TRAIN.replace(size=5, keys=(1, 3), chests=(1, 3), max_steps=12, view=3, inventory_planes=1),
    # The padded layout has two cases. Rows as wide as the view, whose windows wrap into the row above
    # and below, when the view sees every cell inside the border from anywhere (view >= 2 * size - 5:
    # the default 13 on size 9, exactly 9 on size 7, 17 on size 9, and views wider than they need to
    # be). Rows wider than the view otherwise (11 on size 9 just below, size 11 above, small views).
    "view-wider-than-board": TRAIN.replace(size=7, view=15, inventory_planes=1),
    "view-just-wide-enough": TRAIN.replace(size=7, view=9, inventory_planes=2, ghost_chests=True),
    "view-just-too-narrow": TRAIN.replace(view=11, layout="maze"),
    "whole-board-view": TRAIN.replace(view=17, inventory_planes=1),
    "one-cell-view": TRAIN.replace(view=1),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_batched_core_matches_plain_rules(name):
    dist = VARIANTS[name]
    num_envs, steps = 48, 250
    env = VecChestsAndKeys(dist, num_envs, seed=7)
    states = [State.start(env.level(i)) for i in range(num_envs)]
    obs = env.observe()
    for i, state in enumerate(states):
        np.testing.assert_array_equal(obs[i], observe(state, dist))
    actions = np.random.default_rng(11).integers(0, 4, size=(steps, num_envs))
    episodes = 0
    for t in range(steps):
        obs, reward, terminated, truncated, info = env.step(actions[t], final_obs=True)
        finished = list(np.flatnonzero(terminated | truncated))
        assert len(info["final_obs"]) == len(finished)
        for i in range(num_envs):
            states[i], r, term, trunc = step(states[i], int(actions[t, i]), dist)
            where = f"step {t}, game {i}"
            assert reward[i] == np.float32(r), where
            assert (terminated[i], truncated[i]) == (term, trunc), where
            assert {k: int(info[k][i]) for k in INFO_KEYS} == states[i].info(), where
            if term or trunc:
                last = info["final_obs"][finished.index(i)]
                np.testing.assert_array_equal(last, observe(states[i], dist), err_msg=where)
                states[i] = State.start(env.level(i))
                episodes += 1
            np.testing.assert_array_equal(obs[i], observe(states[i], dist), err_msg=where)
    assert episodes > 300  # the comparison covered many whole episodes, resets included


@pytest.mark.parametrize("name", ["train", "small-view-inventory-ghosts-maze", "costly-penalties-maze"])
def test_next_step_autoreset_matches_plain_rules_with_one_still_step_between_episodes(name):
    dist = VARIANTS[name]
    num_envs, steps = 32, 200
    env = VecChestsAndKeys(dist, num_envs, seed=3, autoreset="next_step")
    states = [State.start(env.level(i)) for i in range(num_envs)]
    actions = np.random.default_rng(5).integers(0, 4, size=(steps, num_envs))
    ended = np.zeros(num_envs, bool)
    episodes = 0
    for t in range(steps):
        obs, reward, terminated, truncated, info = env.step(actions[t])
        for i in range(num_envs):
            where = f"step {t}, game {i}"
            if ended[i]:  # a new level, and the agent has not moved on it
                states[i], r, term, trunc = State.start(env.level(i)), 0.0, False, False
                episodes += 1
            else:
                states[i], r, term, trunc = step(states[i], int(actions[t, i]), dist)
            assert reward[i] == np.float32(r), where
            assert (terminated[i], truncated[i]) == (term, trunc), where
            assert {k: int(info[k][i]) for k in INFO_KEYS} == states[i].info(), where
            np.testing.assert_array_equal(obs[i], observe(states[i], dist), err_msg=where)
        ended = terminated | truncated
    assert episodes > 150


def test_same_seed_same_trajectory_and_different_seed_differs():
    def run(seed):
        env = VecChestsAndKeys(TRAIN, 16, seed=seed)
        acts = np.random.default_rng(0).integers(0, 4, size=(60, 16))
        out = [env.reset(seed=seed)]
        for a in acts:
            out.append(env.step(a)[0])
        return np.stack(out)

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.array_equal(run(3), run(4))


def test_info_counts_whole_episodes():
    env = VecChestsAndKeys(TRAIN, 32, seed=0)
    rng = np.random.default_rng(1)
    for _ in range(100):
        _, reward, terminated, truncated, info = env.step(rng.integers(0, 4, 32))
        done = terminated | truncated
        assert np.all(info["steps"][truncated] == TRAIN.max_steps)
        assert np.all(info["chests_opened"] <= info["keys_collected"])
        assert np.all(info["keys_held"] == info["keys_collected"] - info["chests_opened"])
        assert np.all(env.counters["steps"][done] == 0)  # the new episodes start from zero


@pytest.mark.parametrize(
    "bad", [np.array([4] * 4), np.array([-1, 0, 0, 0]), np.zeros(3, int), np.zeros(4, float)]
)
def test_bad_actions_are_rejected_with_a_clear_error(bad):
    env = VecChestsAndKeys(TRAIN, 4, seed=0)
    before = env.planes.copy()
    with pytest.raises(ValueError, match="actions must be"):
        env.step(bad)
    np.testing.assert_array_equal(env.planes, before)  # nothing changed


def test_load_starts_given_levels_and_rejects_the_wrong_size():
    env = VecChestsAndKeys(TRAIN, 4, seed=0)
    levels = TEST.sample(np.random.default_rng(1), 2)
    env.load(np.array([1, 3]), levels)
    assert env.level(1).keys.sum() == levels.keys[0].sum() and env.counters["steps"][[1, 3]].sum() == 0
    np.testing.assert_array_equal(env.observe()[3], observe(State.start(levels[1]), TRAIN))
    with pytest.raises(ValueError, match="9x9"):
        env.load(np.array([0]), TRAIN.replace(size=7).sample(np.random.default_rng(0), 1))
    open_border = TRAIN.sample(np.random.default_rng(2), 1)
    open_border.walls[0, 0, 4] = False
    with pytest.raises(ValueError, match="walls all around its border"):
        env.load(np.array([0]), open_border)
