"""The value-head planner: plans are simulated with the real rules and scored by the value head."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mesalib.agents.agent import Agent
from mesalib.agents.nets import make_network
from mesalib.agents.value_planner import ValuePlanner
from mesalib.analysis.evaluate import evaluate
from mesalib.env.levels import TRAIN, Boards

DIST = TRAIN.replace(size=7, keys=(1, 1), chests=(1, 1), view=None, max_steps=12)


class FakeValue:
    """An 'agent' whose value head is a hand-written function of the observation."""

    def __init__(self, value_fn, dist=DIST):
        self.net = make_network("mlp", dist.observation_shape, 8)
        self.config = {"gamma": 0.9}
        self.value_fn = value_fn

    def value(self, obs):
        return torch.as_tensor(self.value_fn(np.asarray(obs)), dtype=torch.float32)


def corridor(agent_col: int, key_col: int | None, chest_col: int | None, held: int = 0) -> Boards:
    walls = np.ones((7, 7), bool)
    walls[3, 1:6] = False
    walls[1, 1:6] = False  # a separate room, out of reach, so that no episode ends on its own
    keys, chests = np.zeros((7, 7), bool), np.zeros((7, 7), bool)
    keys[1, 1] = chests[1, 5] = True
    if key_col is not None:
        keys[3, key_col] = True
    if chest_col is not None:
        chests[3, chest_col] = True
    return Boards(
        walls[None],
        keys[None],
        chests[None],
        np.zeros((1, 7, 7), bool),
        np.array([[3, agent_col]]),
        np.array([held]),
    )


def test_the_planner_goes_where_its_learned_objective_is_high():
    # A value that likes the agent far to the right, then one that likes it far to the left.
    right = ValuePlanner(FakeValue(lambda o: np.argmax(o[:, 3].reshape(len(o), -1), 1) % 7), DIST, depth=2)
    left = ValuePlanner(FakeValue(lambda o: -(np.argmax(o[:, 3].reshape(len(o), -1), 1) % 7)), DIST, depth=2)
    b = corridor(3, None, None)
    assert right(None, b)[0] == 1 and left(None, b)[0] == 3  # RIGHT, LEFT


def test_plans_simulate_the_rules_exactly():
    # Value = number of keys left on the board (negated): the planner should pick up the key 2 steps away.
    planner = ValuePlanner(FakeValue(lambda o: -o[:, 1, 3].astype(int).sum(1)), DIST, depth=2)
    scores = planner.plan_scores(corridor(3, 5, None))
    best = planner.plans[scores[0].argmax()]
    assert tuple(best) == (1, 1)
    # With rewards counted, a chest two steps away is opened when a key is held, not otherwise.
    flat = ValuePlanner(FakeValue(lambda o: np.zeros(len(o))), DIST, depth=2, use_rewards=True)
    s_held = flat.plan_scores(corridor(3, None, 5, held=1))[0]
    s_none = flat.plan_scores(corridor(3, 1, 5, held=0))[0]
    assert s_held.max() == pytest.approx(0.9) and tuple(flat.plans[s_held.argmax()]) == (1, 1)
    assert s_none.max() == 0.0


def test_a_real_agent_plays_and_the_objective_is_readable():
    agent = Agent(make_network("mlp", DIST.observation_shape, 16), {"gamma": 0.97})
    planner = ValuePlanner(agent, DIST, depth=2)
    summary = evaluate(planner, DIST, 16, seed=1, num_envs=8, with_best=False).summary()
    assert summary["episodes"] == 16 and summary["steps"] > 0
    obs = np.zeros((3, *DIST.observation_shape), np.uint8)
    assert planner.objective(obs).shape == (3,)


def test_bad_arguments_are_clear_errors():
    agent = Agent(make_network("mlp", DIST.observation_shape, 16), {})
    with pytest.raises(ValueError, match="depth"):
        ValuePlanner(agent, DIST, depth=7)
    with pytest.raises(ValueError, match="shape"):
        ValuePlanner(agent, DIST.replace(view=5), depth=2)


def test_simulated_observations_show_the_keys_held_for_an_inventory_agent():
    dist = DIST.replace(inventory_planes=1)
    seen = []

    class Recorder(FakeValue):
        def value(self, obs):
            seen.append(np.asarray(obs)[:, 4].max(axis=(1, 2)))
            return torch.zeros(len(obs))

    planner = ValuePlanner(Recorder(None, dist), dist, depth=1)
    planner.plan_scores(corridor(3, None, None, held=1))
    assert (seen[0] == 1).all()  # every simulated observation shows the held key
