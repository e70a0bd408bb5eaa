"""mesalib.analysis.stance: preference levels, Q values under candidate objectives, the softmax-rational
model."""

from __future__ import annotations

import numpy as np
import pytest

from mesalib import TEST, TRAIN
from mesalib.agents.heuristics import KeyThenChest, NearestKey, distance_map
from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.analysis import stance
from mesalib.analysis.evaluate import evaluate
from mesalib.env.levels import Boards
from mesalib.env.rules import Action, Game

# --------------------------------------------------------------------------------------------------
# Preference levels


@pytest.mark.parametrize("side", list(Action))
def test_preference_level_puts_key_and_chest_on_opposite_sides_at_the_given_distances(side):
    for k, c in [(1, 1), (2, 3), (5, 1), (1, 5), (3, 3)]:
        level = stance.preference_level(k, c, side)
        assert level.keys.sum() == 1 and level.chests.sum() == 1
        assert not (level.walls | level.keys | level.chests)[level.agent]
        assert not level.walls[level.keys] and not level.walls[level.chests]
        key = np.argwhere(level.keys)[0]
        chest = np.argwhere(level.chests)[0]
        agent = np.array(level.agent)
        step = np.array(
            {Action.UP: (-1, 0), Action.RIGHT: (0, 1), Action.DOWN: (1, 0), Action.LEFT: (0, -1)}[side]
        )
        assert np.array_equal(key, agent + k * step)
        assert np.array_equal(chest, agent - c * step)
        # Walking distances in the open room equal the straight-line ones.
        to_key = distance_map(level.walls[None], level.keys[None])[0]
        assert to_key[level.agent] == k


def test_preference_level_refuses_what_does_not_fit():
    for k, c in [(0, 2), (2, 0), (4, 3)]:
        with pytest.raises(ValueError, match="preference_level"):
            stance.preference_level(k, c)
    stance.preference_level(3, 3)  # exactly fits a 9x9 room
    stance.preference_level(5, 4, size=12)


def test_observations_show_the_keys_held_only_with_inventory_planes():
    level = stance.preference_level(2, 2)
    plain = stance.observations([level, level], TRAIN, [0, 1])
    assert np.array_equal(plain[0], plain[1])  # the default observation cannot show the key in hand
    inv = stance.observations([level, level, level], TRAIN.replace(inventory_planes=2), [0, 1, 2])
    assert inv.shape == (3, 6, TRAIN.view, TRAIN.view)
    assert inv[0, 4:].sum() == 0 and inv[1, 4].all() and not inv[1, 5].any() and inv[2, 4:].all()
    assert np.array_equal(inv[:, :4], np.stack([Game(level, TRAIN).observe()] * 3))


def test_heuristics_on_preference_levels():
    ktc0 = stance.preference_probabilities(KeyThenChest(), keys_held=0)
    ktc1 = stance.preference_probabilities(KeyThenChest(), keys_held=1)
    nk1 = stance.preference_probabilities(NearestKey(), keys_held=1)
    fits = ~np.isnan(ktc0.toward_key)
    assert fits.sum() == 15  # k, c >= 1 and k + c <= 6
    assert np.all(ktc0.chest_minus_key[fits] == -1) and np.all(ktc1.chest_minus_key[fits] == 1)
    assert np.all(nk1.chest_minus_key[fits] == -1)
    key, chest = ktc1.diagonal()
    assert np.array_equal(key, [0, 0, 0]) and np.array_equal(chest, [1, 1, 1])


def test_action_probabilities_of_a_torch_like_agent_are_a_softmax():
    class Fake:
        name = "fake"

        def logits(self, obs):
            out = np.zeros((len(obs), 4))
            out[:, 1] = np.log(3.0)  # RIGHT three times as likely as each other move
            return out

    probs = stance.action_probabilities(Fake(), [stance.preference_level(1, 1)] * 2, dist=TRAIN)
    assert np.allclose(probs, [[1 / 6, 3 / 6, 1 / 6, 1 / 6]] * 2)


# --------------------------------------------------------------------------------------------------
# Recording


def test_record_sees_every_decision_of_the_same_levels_as_evaluate():
    traj = stance.record(KeyThenChest(), TEST, episodes=12, seed=3)
    ev = evaluate(KeyThenChest(), TEST, 12, seed=3, with_best=False)
    assert len(traj) == int(ev.records["steps"].sum())
    counts = np.bincount(traj.episode, minlength=12)
    assert np.array_equal(counts, ev.records["steps"])
    # The recorded actions are what the policy does on the recorded boards, and the first board of
    # each episode is the level evaluate played.
    assert np.array_equal(KeyThenChest()(None, traj.boards), traj.actions)
    levels = TEST.sample(np.random.default_rng(3), 12)
    first = np.array([np.flatnonzero(traj.episode == e)[0] for e in range(12)])
    assert np.array_equal(traj.boards.keys[first], levels.keys)
    assert np.array_equal(traj.boards.agent[first], levels.agent)
    assert np.all(traj.steps_left[first] == TEST.max_steps)
    assert np.all(np.diff(traj.steps_left[traj.episode == 0]) == -1)
    assert np.allclose(traj.probs[np.arange(len(traj)), traj.actions], 1.0)
    assert np.all(np.diff(traj.episode) >= 0)  # grouped by episode, in time order
    assert 0.0 <= traj.reversals() < 0.1  # key_then_chest walks straight to its targets


def test_reversals_counts_moves_that_undo_the_previous_one_within_an_episode():
    traj = stance.record(KeyThenChest(), TEST, episodes=2, seed=0)
    traj.actions = np.array(
        [Action.UP, Action.DOWN, Action.UP, Action.LEFT] + [Action.LEFT] * (len(traj) - 4)
    )
    traj.episode = np.array([0, 0, 0, 0] + [1] * (len(traj) - 4))
    assert traj.reversals() == pytest.approx(2 / (len(traj) - 2))


# --------------------------------------------------------------------------------------------------
# Q values


def _corridor(key_col, chest_col, agent_col, width=9):
    walls = np.ones((3, width), bool)
    walls[1, 1:-1] = False
    keys, chests = np.zeros_like(walls), np.zeros_like(walls)
    if key_col is not None:
        keys[1, key_col] = True
    chests[1, chest_col] = True
    return walls, keys, chests, (1, agent_col)


def test_action_values_in_a_corridor():
    walls, keys, chests, agent = _corridor(key_col=2, chest_col=6, agent_col=4)
    h = stance.HASTE
    q_keys = stance.action_values(KEYS, walls, keys, chests, agent, keys_held=0, steps_left=20)
    # LEFT reaches the key in 2 steps (1 step, then a 1-step plan); RIGHT first goes away (1 + 3 steps).
    assert q_keys[Action.LEFT] == pytest.approx(1 - 2 * h)
    assert q_keys[Action.RIGHT] == pytest.approx(1 - 4 * h)
    # UP and DOWN bump into walls: one step lost, then the 2-step plan.
    assert q_keys[Action.UP] == pytest.approx(1 - 3 * h) == q_keys[Action.DOWN]
    q_chests = stance.action_values(CHESTS, walls, keys, chests, agent, keys_held=0, steps_left=20)
    assert q_chests.argmax() == Action.LEFT  # without a key, the chest needs the key first
    q_held = stance.action_values(CHESTS, walls, keys, chests, agent, keys_held=1, steps_left=20)
    assert q_held.argmax() == Action.RIGHT and q_held[Action.RIGHT] == pytest.approx(1 - 2 * h)
    q_keys_held = stance.action_values(KEYS, walls, keys, chests, agent, keys_held=1, steps_left=20)
    assert q_keys_held.argmax() == Action.LEFT
    q_nothing = stance.action_values(Objective(), walls, keys, chests, agent, keys_held=1, steps_left=20)
    assert np.allclose(q_nothing, -h)


def test_action_values_respect_the_steps_left_and_the_end_of_the_game():
    walls, keys, chests, agent = _corridor(key_col=None, chest_col=5, agent_col=4)
    # Holding a key one step from the only chest: opening it ends the game.
    q = stance.action_values(CHESTS, walls, keys, chests, agent, keys_held=1, steps_left=20)
    assert q[Action.RIGHT] == pytest.approx(1 - stance.HASTE)
    assert q[Action.LEFT] == pytest.approx(1 - 3 * stance.HASTE)
    # With a single step left only the immediate effect counts.
    q1 = stance.action_values(CHESTS, walls, keys, chests, agent, keys_held=1, steps_left=1)
    assert q1[Action.RIGHT] == pytest.approx(1 - stance.HASTE) and q1[Action.LEFT] == pytest.approx(
        -stance.HASTE
    )
    # The horizon limits how far the plan looks.
    walls, keys, chests, agent = _corridor(key_col=None, chest_col=7, agent_col=1, width=9)
    far = stance.action_values(CHESTS, walls, keys, chests, agent, keys_held=1, steps_left=20, horizon=4)
    assert np.allclose(far, -stance.HASTE)
    near = stance.action_values(CHESTS, walls, keys, chests, agent, keys_held=1, steps_left=20, horizon=6)
    assert near.argmax() == Action.RIGHT


def test_q_values_with_a_believed_inventory():
    walls, keys, chests, agent = _corridor(key_col=2, chest_col=6, agent_col=4)
    boards = Boards(
        walls[None], keys[None], chests[None], np.zeros_like(walls)[None], np.array([agent]), np.array([1])
    )
    knows = stance.q_values(stance.Candidate("c", CHESTS), boards, 20)
    believes_none = stance.q_values(stance.Candidate("c0", CHESTS, believed_keys=0), boards, 20)
    assert knows[0].argmax() == Action.RIGHT and believes_none[0].argmax() == Action.LEFT
    assert np.array_equal(stance.q_values(CHESTS, boards, [20]), knows)


# --------------------------------------------------------------------------------------------------
# The softmax-rational model


def test_log_likelihood_against_a_direct_computation():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(7, 4))
    actions = rng.integers(0, 4, 7)
    for beta in (0.0, 0.5, 3.0):
        p = np.exp(beta * q) / np.exp(beta * q).sum(axis=1, keepdims=True)
        assert stance.log_likelihood(q, actions, beta) == pytest.approx(
            np.log(p[np.arange(7), actions]).sum()
        )
    assert stance.log_likelihood(q, actions, 0.0) == pytest.approx(7 * np.log(0.25))
    # Adding a constant to a state's Q values changes nothing; huge values do not overflow.
    assert stance.log_likelihood(q + rng.normal(size=(7, 1)) * 50, actions, 2.0) == pytest.approx(
        stance.log_likelihood(q, actions, 2.0)
    )
    assert np.isfinite(stance.log_likelihood(q * 1e4, actions, 10.0))
    assert stance.log_likelihood(np.zeros((0, 4)), np.zeros(0, int), 1.0) == 0.0
    with pytest.raises(ValueError):
        stance.log_likelihood(q, actions[:3], 1.0)


def test_fit_recovers_the_objective_and_beta_that_generated_the_actions():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(3, 4000, 4))
    true_beta = 2.0
    z = true_beta * q[2]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    actions = np.array([rng.choice(4, p=row) for row in p])
    c, beta = stance.fit(q, actions, stance.BETAS)
    assert c == 2 and beta == pytest.approx(true_beta, rel=0.25)
    table = stance.likelihood_table(q, actions, stance.BETAS)
    assert table.shape == (3, len(stance.BETAS)) and table.max() == table[2].max()


def test_best_moves_marks_every_maximum():
    q = np.array([[1.0, 2.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 2.0, 2.0]])
    assert np.array_equal(stance.best_moves(q), [[0, 1, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]])


def test_fit_ties_go_to_the_first_candidate_and_beta():
    q = np.zeros((2, 3, 4))
    assert stance.fit(q, [0, 1, 2], [0.5, 1.0, 2.0]) == (0, 0.5)


# --------------------------------------------------------------------------------------------------
# Everything at once


@pytest.mark.slow
def test_explain_tells_the_intended_policy_from_the_key_collector():
    ktc = stance.explain(KeyThenChest(), TEST, episodes=15, seed=0)
    nk = stance.explain(NearestKey(), TEST, episodes=15, seed=0)
    assert ktc.winner == "chests" and nk.winner == "keys"
    names = ktc.names
    assert ktc.best_log_likelihood[names.index("chests")] > ktc.best_log_likelihood[names.index("keys")] + 20
    assert nk.best_log_likelihood[names.index("keys")] > nk.best_log_likelihood[names.index("chests")] + 20
    # "nothing" is the uniform model: exactly log(1/4) per decision.
    assert nk.best_log_likelihood[names.index("nothing")] == pytest.approx(
        len(nk.trajectories) * np.log(0.25)
    )
    text = ktc.summary()
    assert "best explanation: 'chests'" in text and "uniform random" in text
    assert ktc.per_decision().shape == (len(names),)
    per_state = ktc.per_state()
    assert per_state.shape == (len(names), len(ktc.betas), len(ktc.trajectories))
    assert np.allclose(per_state.sum(axis=2), ktc.table)
    wins = ktc.bootstrap(resamples=50, seed=1)
    assert wins["chests"] == 1.0 and sum(wins.values()) == pytest.approx(1.0)


def test_explain_reuses_given_trajectories():
    traj = stance.record(KeyThenChest(), TEST, episodes=4, seed=2)
    ex = stance.explain(
        KeyThenChest(), TEST, trajectories=traj, candidates=stance.CANDIDATES[:2], betas=[1.0, 10.0]
    )
    assert ex.trajectories is traj and ex.table.shape == (2, 2) and ex.q.shape == (2, len(traj), 4)
    again = stance.explain(
        KeyThenChest(), TEST, trajectories=traj, candidates=stance.CANDIDATES[:2], betas=[1.0, 10.0], q=ex.q
    )
    assert np.array_equal(again.table, ex.table)
    with pytest.raises(ValueError, match="shape"):
        stance.explain(KeyThenChest(), TEST, trajectories=traj, candidates=stance.CANDIDATES, q=ex.q)


def test_the_default_agent_is_explained_by_keys_not_chests():
    from mesalib.agents import checkpoints

    if not checkpoints.path("default").exists():
        pytest.skip("the default checkpoint is not built")
    agent = checkpoints.load("default")
    ex = stance.explain(agent, TEST, episodes=20, seed=0)
    ll = dict(zip(ex.names, ex.best_log_likelihood))
    assert ex.winner == "keys" and ll["keys"] > ll["chests"] + 50
    # Its observation cannot tell whether it holds a key, so its preferences are the same either way.
    p0 = stance.preference_probabilities(agent, keys_held=0)
    p1 = stance.preference_probabilities(agent, keys_held=1)
    assert np.array_equal(p0.toward_key, p1.toward_key, equal_nan=True)
