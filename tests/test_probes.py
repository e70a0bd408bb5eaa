"""mesalib.analysis.probes: labels from boards, closed-form probes, activation collection and steering."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mesalib.agents.heuristics import UNREACHABLE, NearestKey
from mesalib.agents.ppo import PPOConfig, new_agent
from mesalib.analysis import probes
from mesalib.analysis.choices import field_probabilities
from mesalib.analysis.evaluate import evaluate
from mesalib.env.levels import TEST, TRAIN, Boards
from mesalib.env.rules import Action

SMALL = TRAIN.replace(size=6, view=None, keys=(1, 2), chests=(2, 3), max_steps=10)


def room(size=7):
    walls = np.zeros((size, size), bool)
    walls[0, :] = walls[-1, :] = walls[:, 0] = walls[:, -1] = True
    return walls


def boards(walls, keys, chests, agent, held=0) -> Boards:
    """One game's board as a Boards of length 1: items given as lists of (row, col)."""
    grids = []
    for cells in (keys, chests):
        grid = np.zeros_like(walls)
        for r, c in cells:
            grid[r, c] = True
        grids.append(grid[None])
    return Boards(
        walls[None], grids[0], grids[1], np.zeros_like(walls)[None], np.array([agent]), np.array([held])
    )


def stack(*bs: Boards) -> Boards:
    return Boards(
        *(
            np.concatenate([getattr(b, f) for b in bs])
            for f in ("walls", "keys", "chests", "ghosts", "agent", "keys_held")
        )
    )


# --------------------------------------------------------------------------------------------------
# Labels


def test_direction_follows_the_larger_displacement_and_ties_go_vertical():
    w = room()
    b = stack(
        boards(w, [(1, 3)], [], (3, 3)),  # straight up
        boards(w, [(3, 5)], [], (3, 3)),  # straight right
        boards(w, [(5, 4)], [], (3, 3)),  # down 2, right 1: DOWN
        boards(w, [(2, 1)], [], (3, 3)),  # up 1, left 2: LEFT
        boards(w, [(1, 5)], [], (3, 3)),  # up 2, right 2: a tie goes vertical: UP
        boards(w, [], [(3, 4)], (3, 3)),  # no key at all
    )
    assert probes.nearest_direction(b, "keys").tolist() == [
        Action.UP,
        Action.RIGHT,
        Action.DOWN,
        Action.LEFT,
        Action.UP,
        -1,
    ]
    assert probes.nearest_distance(b, "keys").tolist() == [2, 2, 3, 3, 4, UNREACHABLE]
    assert probes.nearest_distance(b, "chests").tolist()[-1] == 1
    assert probes.nearest_direction(b, "chests").tolist()[-1] == Action.RIGHT


def test_nearest_is_by_walking_distance_around_walls():
    w = room(7)
    w[1:5, 3] = True  # a wall between the agent (left) and a key just behind it
    b = boards(w, [(1, 4), (5, 1)], [], (1, 2))
    # The key at (1, 4) is 2 cells away as the crow flies but 10 steps around the wall; (5, 1) is 5.
    assert probes.nearest_distance(b, "keys").tolist() == [5]
    assert probes.nearest_direction(b, "keys").tolist() == [Action.DOWN]


def test_standing_on_a_chest_has_no_direction():
    b = boards(room(), [(1, 1)], [(3, 3)], (3, 3))
    assert probes.nearest_distance(b, "chests").tolist() == [0]
    assert probes.nearest_direction(b, "chests").tolist() == [-1]
    with pytest.raises(ValueError, match="targets"):
        probes.nearest_direction(b, "ghosts")


def test_moves_toward_counts_walking_steps_and_walls():
    w = room(7)
    w[2, 2] = True
    b = stack(
        *[boards(w, [(1, 3)], [(5, 3)], (3, 3)) for _ in range(4)],
        boards(w, [(1, 2)], [], (3, 2)),
        boards(w, [], [], (3, 3)),
    )
    actions = np.array([Action.UP, Action.DOWN, Action.LEFT, Action.RIGHT, Action.UP, Action.UP])
    assert probes.moves_toward(b, actions, "keys").tolist() == [True, False, False, False, False, False]
    assert probes.moves_toward(b, actions, "chests").tolist() == [False, True, False, False, False, False]
    # Around the wall at (2, 2): UP bumps (not toward), LEFT and RIGHT both shorten the walk to (1, 2).
    b2 = stack(*[boards(w, [(1, 2)], [], (3, 2)) for _ in range(3)])
    assert probes.moves_toward(b2, np.array([Action.UP, Action.LEFT, Action.RIGHT]), "keys").tolist() == [
        False,
        True,
        True,
    ]


# --------------------------------------------------------------------------------------------------
# Probes


def test_split_by_episode_keeps_episodes_whole_and_is_seeded():
    episode = np.repeat(np.arange(50), 7)
    train, test = probes.split_by_episode(episode, 0.3, seed=4)
    assert not (train & test).any() and (train | test).all()
    assert set(episode[train]).isdisjoint(episode[test])
    assert len(set(episode[test])) == 15
    again = probes.split_by_episode(episode, 0.3, seed=4)
    assert np.array_equal(test, again[1])
    assert not np.array_equal(test, probes.split_by_episode(episode, 0.3, seed=5)[1])
    with pytest.raises(ValueError):
        probes.split_by_episode(episode, 1.0)


def test_fit_ridge_matches_least_squares_and_shrinks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ [1.0, -2.0, 0.5] + 3.0 + 0.01 * rng.normal(size=40)
    w = probes.fit_ridge(x, y, ridge=0.0)
    xb = np.hstack([x, np.ones((40, 1))])
    assert np.allclose(w, np.linalg.lstsq(xb, y, rcond=None)[0])
    assert np.allclose(w, [1.0, -2.0, 0.5, 3.0], atol=0.02)
    assert np.linalg.norm(probes.fit_ridge(x, y, ridge=100.0)) < np.linalg.norm(w)
    assert probes.fit_ridge(x, np.stack([y, y], 1), 1.0).shape == (4, 2)


def test_probe_reads_a_linear_rule_and_beats_the_majority():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 5)) + 2.0
    y = (x[:, 0] - x[:, 1] > 0).astype(int) + 2 * (x[:, 2] > 2.0)
    train, test = slice(0, 200), slice(200, None)
    acc = probes.probe_accuracy(x[train], y[train], x[test], y[test], n_classes=4, ridge=0.1)
    probe = probes.fit_probe(x[train], y[train], 4, ridge=0.1)
    assert acc == probe.accuracy(x[test], y[test])
    assert probe.predict(x[test]).shape == (100,) and probe.scores(x[test]).shape == (100, 4)
    assert acc > 0.85 > probes.majority_accuracy(y[train], y[test])
    # Noise features hold nothing: the probe is near the majority baseline.
    noise = rng.normal(size=(300, 5))
    chance = probes.probe_accuracy(noise[train], y[train], noise[test], y[test], 4, 1.0)
    assert chance < probes.majority_accuracy(y[train], y[test]) + 0.12


def test_probe_takes_observation_shaped_rows():
    rng = np.random.default_rng(2)
    obs = rng.integers(0, 2, size=(60, 2, 3, 3)).astype(np.uint8)
    y = obs[:, 0, 1, 1].astype(int)
    assert probes.probe_accuracy(obs[:40], y[:40], obs[40:], y[40:], 2, 0.1) == 1.0


def test_majority_and_one_hot():
    assert probes.majority_accuracy([2, 2, 1], [2, 1, 1, 1]) == 0.25
    assert probes.majority_accuracy([0, 1], [0, 0, 1]) == pytest.approx(2 / 3)  # tie: the smaller label
    assert probes.one_hot([1, 0], 3).tolist() == [[0, 1, 0], [1, 0, 0]]
    with pytest.raises(ValueError):
        probes.one_hot([3], 3)


def test_regression_r2():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 2))
    y = 3 * x[:, 0] + 1.0
    assert probes.regression_r2(x[:150], y[:150], x[150:], y[150:], ridge=1e-6) == pytest.approx(1.0)
    noise = rng.normal(size=(200, 2))
    assert probes.regression_r2(noise[:150], y[:150], noise[150:], y[150:]) < 0.1


# --------------------------------------------------------------------------------------------------
# Steering vectors


def test_steering_vector_and_steer():
    a = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]])
    b = np.array([[0.0, 1.0]])
    assert probes.steering_vector(a, b).tolist() == [2.0, 0.0]
    out = probes.steer(np.zeros((2, 2)), a, b, -0.5)
    assert out.tolist() == [[-1.0, 0.0], [-1.0, 0.0]]
    with pytest.raises(ValueError):
        probes.steering_vector(a, np.zeros((1, 3)))
    with pytest.raises(ValueError):
        probes.steering_vector(a, np.zeros((0, 2)))


# --------------------------------------------------------------------------------------------------
# Collecting activations and steering an agent


@pytest.fixture(scope="module")
def agent():
    torch.manual_seed(0)
    return new_agent(
        PPOConfig(dist=SMALL, test_dist=SMALL.replace(keys=(3, 3), chests=(1, 1)), hidden=32, threads=1)
    )


def test_collect_records_what_the_agent_saw_and_did(agent):
    acts = probes.collect(agent, SMALL, num_envs=8, steps=25, seed=3)
    assert len(acts) == 200
    assert acts.features.shape == (200, 32) and acts.features.dtype == np.float32
    assert acts.obs.shape == (200, *SMALL.observation_shape)
    assert acts.walls.shape == acts.keys.shape == acts.chests.shape == (200, 6, 6)
    assert np.allclose(acts.features, agent.features(acts.obs).numpy(), atol=1e-6)
    assert np.array_equal(acts.actions, agent(acts.obs))
    # The observation is the board seen from the fixed view: the key plane is the keys.
    assert np.array_equal(acts.obs[:, 1].astype(bool), acts.keys)
    # Episodes: ids shared within an episode, new ids after an ending; step 0 starts each.
    assert len(np.unique(acts.episode)) > 8
    for e in np.unique(acts.episode):
        steps = acts.step[acts.episode == e]
        assert np.array_equal(steps, np.arange(steps[0], steps[0] + len(steps)))
        assert e < 8 or steps[0] == 0
    # Deterministic, and a subset is taken field by field.
    again = probes.collect(agent, SMALL, num_envs=8, steps=25, seed=3)
    assert np.array_equal(acts.features, again.features) and np.array_equal(acts.keys, again.keys)
    sub = acts.take(acts.key_visible)
    assert len(sub) == int(acts.key_visible.sum()) and sub.keys.any(axis=(1, 2)).all()
    assert acts.boards().keys_held.tolist() == acts.keys_held.tolist()
    level = acts.level(5)
    assert level.agent == tuple(acts.agent[5]) and np.array_equal(level.keys, acts.keys[5])
    assert (acts.holds_key == (acts.keys_held > 0)).all()


def test_collect_with_another_policy_and_a_wrong_distribution(agent):
    acts = probes.collect(agent, SMALL, num_envs=4, steps=10, seed=1, policy=NearestKey())
    assert np.array_equal(acts.actions, NearestKey()(acts.obs, acts.boards()))
    with pytest.raises(ValueError, match="observations of shape"):
        probes.collect(agent, TEST, num_envs=4, steps=2)


def test_steered_agent_adds_the_vector_before_the_heads(agent):
    acts = probes.collect(agent, SMALL, num_envs=8, steps=10, seed=0)
    v = np.linspace(-1, 1, 32)
    same = probes.SteeredAgent(agent, v, 0.0)
    assert np.array_equal(same(acts.obs), agent(acts.obs))
    steered = probes.SteeredAgent(agent, v, 3.0, name="pushed")
    with torch.no_grad():
        by_hand = agent.net.policy_head(
            torch.tensor(acts.features) + 3.0 * torch.tensor(v, dtype=torch.float32)
        )
        value = agent.net.value_head(torch.tensor(acts.features) + 3.0 * torch.tensor(v, dtype=torch.float32))
    assert torch.allclose(steered.logits(acts.obs), by_hand, atol=1e-5)
    assert torch.allclose(steered.value(acts.obs), value.squeeze(-1), atol=1e-5)
    assert np.array_equal(steered(acts.obs), by_hand.argmax(1).numpy())
    assert steered.name == "pushed" and "x3" in probes.SteeredAgent(agent, v, 3.0).name
    # It is a policy: evaluation and policy fields take it.
    summary = evaluate(steered, SMALL, 16, seed=0, with_best=False).summary()
    assert summary["episodes"] == 16
    cells, p = field_probabilities(steered, SMALL.sample(np.random.default_rng(0), 1)[0])
    assert p.shape == (len(cells), 4) and np.allclose(p.sum(1), 1.0)
    with pytest.raises(ValueError, match="shape"):
        probes.SteeredAgent(agent, np.zeros(5))


# --------------------------------------------------------------------------------------------------
# Paired differences


def test_with_inventory_changes_only_the_inventory_planes():
    rng = np.random.default_rng(0)
    obs = rng.integers(0, 2, size=(3, 6, 5, 5), dtype=np.uint8)
    before = obs.copy()
    out = probes.with_inventory(obs, np.array([0, 1, 2]))
    assert np.array_equal(obs, before)  # a copy: the input is untouched
    assert np.array_equal(out[:, :4], obs[:, :4])
    assert out[0, 4:].max() == 0
    assert out[1, 4].min() == 1 and out[1, 5].max() == 0
    assert out[2, 4:].min() == 1
    assert np.array_equal(probes.with_inventory(obs, 1)[:, 4:], out[[1, 1, 1], 4:])  # one count for all
    with pytest.raises(ValueError, match="no inventory planes"):
        probes.with_inventory(obs[:, :4], 1)


def test_without_keys_clears_only_the_key_plane():
    obs = np.ones((2, 4, 3, 3), np.uint8)
    out = probes.without_keys(obs)
    assert obs.min() == 1  # a copy
    assert out[:, 1].max() == 0
    assert out[:, [0, 2, 3]].min() == 1


class LinearFeatures:
    """A stand-in agent whose features are a fixed linear map of the flattened observation."""

    def __init__(self, shape, hidden=3):
        self.w = torch.tensor(np.random.default_rng(1).normal(size=(int(np.prod(shape)), hidden)))

    def features(self, obs):
        return torch.tensor(np.asarray(obs, np.float64).reshape(len(obs), -1)) @ self.w


def test_paired_differences_are_row_by_row():
    fake = LinearFeatures((2, 2, 2))
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2, size=(5, 2, 2, 2), dtype=np.uint8)
    b = a.copy()
    b[:, 1] = 0
    d = probes.paired_differences(fake, a, b)
    expected = (fake.features(a) - fake.features(b)).numpy()
    assert d.shape == (5, 3) and np.allclose(d, expected)
    # Row i against row i: shuffling one side changes the differences (an unpaired mean would not).
    assert not np.allclose(probes.paired_differences(fake, a, b[::-1]), d)
    assert np.allclose(probes.paired_vector(fake, a, b), expected.mean(axis=0))
    with pytest.raises(ValueError, match="same shape"):
        probes.paired_differences(fake, a, b[:4])


def test_consistency_is_the_mean_cosine_with_the_mean():
    assert probes.consistency([[2.0, 0.0], [1.0, 0.0]]) == pytest.approx(1.0)
    assert probes.consistency([[1.0, 0.0], [0.0, 1.0]]) == pytest.approx(np.sqrt(0.5))
    # Pairs that mostly cancel: the mean is short and points along the one extra row.
    assert probes.consistency([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]) == pytest.approx(1 / 3)
    assert probes.consistency([[0.0, 0.0], [0.0, 0.0]]) == 0.0
    # A pair that points against the mean counts against consistency.
    d = np.array([[2.0, 1.0], [-2.0, 1.0], [0.5, -1.0]])
    m = d.mean(axis=0)
    cosines = [(r @ m) / (np.linalg.norm(r) * np.linalg.norm(m)) for r in d]
    assert min(cosines) < 0
    assert probes.consistency(d) == pytest.approx(np.mean(cosines))


def test_target_shares_count_moves_towards_each_target():
    w = room()
    b = stack(
        boards(w, [(1, 3)], [(5, 3)], (3, 3)),  # key above, chest below
        boards(w, [(1, 3)], [(5, 3)], (3, 3)),
    )
    shares = probes.target_shares(b, np.array([Action.UP, Action.DOWN]))
    assert shares == {"to a key": 0.5, "to a chest": 0.5}
    assert probes.target_shares(b, np.array([Action.UP, Action.UP])) == {"to a key": 1.0, "to a chest": 0.0}


def test_the_inventory_edit_is_the_real_observation_of_holding_a_key():
    """The edited observation is exactly what the environment shows an agent that holds the keys."""
    from mesalib.env.rules import observe_arrays

    w = room(6)
    keys, chests = np.zeros_like(w), np.zeros_like(w)
    keys[1, 2], chests[4, 4] = True, True
    seen = {held: observe_arrays(w, keys, chests, (2, 2), None, held, 2) for held in (0, 1, 2)}
    for held in (1, 2):
        assert np.array_equal(probes.with_inventory(seen[0][None], held)[0], seen[held])
    assert np.array_equal(
        probes.without_keys(seen[1][None])[0], observe_arrays(w, 0 * keys, chests, (2, 2), None, 1, 2)
    )
