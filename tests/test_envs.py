"""The Gymnasium faces of the environment."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import mesalib
from mesalib.env.adapters import ChestsAndKeysEnv, ChestsAndKeysVectorEnv
from mesalib.env.levels import TEST, TRAIN
from mesalib.env.rules import INFO_KEYS
from mesalib.env.vecenv import VecChestsAndKeys

IDS = ["mesalib/ChestsAndKeys-Train-v0", "mesalib/ChestsAndKeys-Test-v0"]


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("render_mode", [None, "rgb_array", "ansi"])
def test_check_env_passes_without_warnings(env_id, render_mode):
    env = gym.make(env_id, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


def test_registered_ids_use_the_presets_and_kwargs_override_them():
    assert gym.make(IDS[0]).unwrapped.dist == TRAIN
    assert gym.make(IDS[1]).unwrapped.dist == TEST
    env = gym.make(IDS[1], view=7, inventory_planes=2)
    assert env.unwrapped.dist == TEST.replace(view=7, inventory_planes=2)
    assert env.observation_space.shape == (6, 7, 7)
    with pytest.raises(ValueError, match="Unknown distribution field"):
        gym.make(IDS[0], colour="blue")
    with pytest.raises(ValueError, match="view"):
        gym.make(IDS[0], view=8)


def rollout(env, seed, steps=200):
    obs, _ = env.reset(seed=seed)
    actions = np.random.default_rng(0).integers(0, 4, size=steps)
    out = [obs]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append(obs)
        if terminated or truncated:
            out.append(env.reset()[0])
    return np.stack(out)


def test_same_seed_same_trajectory_single():
    env = gym.make(IDS[0])
    np.testing.assert_array_equal(rollout(env, 1), rollout(gym.make(IDS[0]), 1))
    assert not np.array_equal(rollout(env, 1), rollout(env, 2))


def test_single_env_follows_the_rules():
    env = ChestsAndKeysEnv(TRAIN)
    env.reset(seed=0)
    total, chests = 0.0, 0
    for a in np.random.default_rng(1).integers(0, 4, size=500):
        _, reward, terminated, truncated, info = env.step(int(a))
        total += reward
        if terminated or truncated:
            chests += info["chests_opened"]
            env.reset()
    assert total > 0 and total == chests + env.game.chests_opened  # reward is exactly chests opened


def test_step_before_reset_and_bad_actions_are_clear_errors():
    env = ChestsAndKeysEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="0..3"):
        env.step(7)


def assert_every_key_reported_under_one_read_only_mask(info):
    masks = [info["_" + name] for name in INFO_KEYS]
    assert all(m.all() for m in masks)
    with pytest.raises(ValueError, match="read-only"):  # one shared mask: writing into it is refused
        masks[0][0] = False


def test_make_vec_gives_the_batched_env_with_gymnasiums_default_next_step_autoreset():
    envs = gym.make_vec(IDS[0], num_envs=16)
    assert isinstance(envs, ChestsAndKeysVectorEnv)
    assert envs.observation_space.shape == (16, *TRAIN.observation_shape)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, info = envs.reset(seed=0)
    core = VecChestsAndKeys(TRAIN, 16, seed=0)  # the same games, stepped by the same-step core
    ended = np.zeros(16, bool)
    seen_end = False
    for _ in range(60):
        actions = envs.action_space.sample()
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert envs.observation_space.contains(obs)
        # Games that ended last step start a new level now: their action is ignored, no reward.
        assert not (terminated | truncated)[ended].any() and np.all(reward[ended] == 0)
        assert np.all(info["steps"][ended] == 0) and np.all(info["steps"][~ended] >= 1)
        if not seen_end:  # until the first ending, the two autoresets cannot differ
            core_obs, core_reward, core_term, core_trunc, core_info = core.step(actions, final_obs=True)
            np.testing.assert_array_equal(reward, core_reward)
            done = core_term | core_trunc
            np.testing.assert_array_equal(obs[~done], core_obs[~done])
            # the step that ends an episode returns its last observation and its totals
            np.testing.assert_array_equal(obs[done], core_info["final_obs"])
            assert all(np.array_equal(info[k], core_info[k]) for k in INFO_KEYS)
        ended = terminated | truncated
        seen_end |= ended.any()
        assert "final_obs" not in info and "final_info" not in info
        assert_every_key_reported_under_one_read_only_mask(info)
    assert seen_end


def test_the_arrays_a_step_returns_never_change_afterwards():
    for mode in ("NextStep", "SameStep"):
        envs = gym.make_vec(IDS[0], num_envs=8, autoreset_mode=mode)
        envs.reset(seed=1)
        kept = [envs.step(envs.action_space.sample())[4] for _ in range(30)]
        copies = [{k: np.copy(v) for k, v in info.items() if k in INFO_KEYS} for info in kept]
        for _ in range(30):
            envs.step(envs.action_space.sample())
        for info, copy in zip(kept, copies):
            assert all(np.array_equal(info[k], copy[k]) for k in INFO_KEYS)
            with pytest.raises(ValueError, match="read-only"):  # shared, so writing into them is refused
                info["steps"][0] = 99


def test_autoreset_mode_is_checked_before_anything_is_built():
    with pytest.raises(ValueError, match=r"autoreset_mode must be .*NEXT_STEP.*SAME_STEP.*got 'Disabled'"):
        gym.make_vec(IDS[0], num_envs=4, autoreset_mode="Disabled")
    with pytest.raises(ValueError, match="autoreset must be one of"):
        VecChestsAndKeys(TRAIN, 4, autoreset="never")
    with pytest.raises(ValueError, match="final_obs=True needs autoreset='same_step'"):
        VecChestsAndKeys(TRAIN, 4, autoreset="next_step").step(np.zeros(4, int), final_obs=True)


def test_make_vec_same_step_autoreset_on_request():
    envs = gym.make_vec(IDS[0], num_envs=16, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    obs, info = envs.reset(seed=0)
    core = VecChestsAndKeys(TRAIN, 16, seed=0)  # the same games, stepped directly
    assert envs.observation_space.contains(obs)
    seen_final = False
    for _ in range(40):
        actions = envs.action_space.sample()
        obs, reward, terminated, truncated, info = envs.step(actions)
        core_obs, _, _, _, core_info = core.step(actions, final_obs=True)
        assert envs.observation_space.contains(obs) and np.array_equal(obs, core_obs)
        done = terminated | truncated
        if done.any():
            seen_final = True
            assert all(info["final_obs"][i] is None for i in np.flatnonzero(~done))
            assert np.array_equal(info["_final_info"], done)
            for k, i in enumerate(np.flatnonzero(done)):
                assert np.array_equal(info["final_obs"][i], core_info["final_obs"][k])
                assert info["final_info"]["steps"][i] == core_info["steps"][i] >= 1
                assert info["steps"][i] == 0  # the new episode has not moved yet
            masks = [info["final_info"]["_" + name] for name in INFO_KEYS]
            assert all(np.array_equal(m, done) for m in masks)
        assert_every_key_reported_under_one_read_only_mask(info)
    assert seen_final


def test_same_seed_same_trajectory_vector():
    def run(seed):
        envs = gym.make_vec(IDS[1], num_envs=8, view=None)
        out = [envs.reset(seed=seed)[0]]
        for a in np.random.default_rng(0).integers(0, 4, size=(50, 8)):
            out.append(envs.step(a)[0])
        return np.stack(out)

    np.testing.assert_array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_render_modes():
    env = gym.make(IDS[0], render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.count("A") == 1 and "keys held" in text
    env = gym.make(IDS[0], render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    envs = gym.make_vec(IDS[0], num_envs=3, render_mode="rgb_array")
    envs.reset(seed=0)
    assert len(envs.render()) == 3


def test_package_exports():
    assert mesalib.Action.LEFT == 3
    assert set(IDS) <= set(gym.registry)
