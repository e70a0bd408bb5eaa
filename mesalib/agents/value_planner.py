"""A mesa-optimizer in the strict sense: explicit search against a learned, explicitly represented objective.

`ValuePlanner(agent)` looks ahead by simulating the game's rules: it tries every sequence of `depth`
moves, and scores where each sequence ends with the trained agent's own value head V(observation),
the network's learned estimate of how much reward is still to come. It takes the first move of the
best sequence and searches again at the next step. The search is hand-written and transparent; the
objective it optimizes is learned. So, unlike the plain network, we can point at the objective
(`planner.objective(obs)` is a function we can call on any observation we like) and ask what it
rewards, which is the point of lesson 09.

`use_rewards=True` adds the rewards the simulated rules pay during the sequence (the usual
"model-based search with a learned value at the leaves"); the default scores plans by the learned
objective alone, so that everything the planner wants comes from training.
"""

from __future__ import annotations

import itertools

import numpy as np

from mesalib.agents.heuristics import Policy
from mesalib.env.levels import Boards, LevelBatch, LevelDistribution
from mesalib.env.vecenv import VecChestsAndKeys


class ValuePlanner(Policy):
    """Receding-horizon search over all 4**depth move sequences, scored by a trained agent's value head."""

    def __init__(
        self,
        agent,
        dist: LevelDistribution,
        depth: int = 3,
        gamma: float | None = None,
        use_rewards: bool = False,
        name: str | None = None,
    ):
        if not isinstance(depth, int) or not 1 <= depth <= 5:
            raise ValueError(
                "ValuePlanner: depth must be an integer from 1 to 5 (4**depth plans per step); "
                f"got {depth!r}."
            )
        if tuple(agent.net.obs_shape) != tuple(dist.observation_shape):
            raise ValueError(
                f"ValuePlanner: the agent sees observations of shape {tuple(agent.net.obs_shape)}, "
                f"but {dist} makes {dist.observation_shape}; pass the distribution it was trained on."
            )
        self.agent = agent
        self.dist = dist
        self.depth = depth
        self.gamma = float(agent.config.get("gamma", 0.97)) if gamma is None else float(gamma)
        self.use_rewards = use_rewards
        self.name = name or f"value_planner(depth={depth}{', +rewards' if use_rewards else ''})"
        self.plans = np.array(list(itertools.product(range(4), repeat=depth)), dtype=np.int64)
        self._sim: VecChestsAndKeys | None = None

    def objective(self, obs) -> np.ndarray:
        """The learned objective: the agent's value estimate of each observation (numpy [B])."""
        return self.agent.value(obs).numpy()

    def plan_scores(self, boards: Boards) -> np.ndarray:
        """Score of every plan for every game, shape [games, 4**depth] (rows of `self.plans`)."""
        n, k = len(boards), len(self.plans)
        sim = self._simulator(n * k)
        rep = np.repeat(np.arange(n), k)
        sim.load(
            np.arange(n * k),
            LevelBatch(
                boards.walls[rep], boards.keys[rep], boards.chests[rep], boards.ghosts[rep], boards.agent[rep]
            ),
        )
        sim.set_keys_held(np.arange(n * k), boards.keys_held[rep])
        score = np.zeros(n * k)
        ended = np.zeros(n * k, bool)
        for t in range(self.depth):
            _, reward, term, trunc, _ = sim.step(np.tile(self.plans[:, t], n))
            if self.use_rewards:
                score += np.where(ended, 0.0, self.gamma**t * reward)
            ended |= term | trunc  # the simulator starts a new level there: ignore what follows
        leaf = self.objective(sim.observe())
        score += np.where(ended, 0.0, self.gamma**self.depth * leaf)
        return score.reshape(n, k)

    def __call__(self, obs, boards: Boards) -> np.ndarray:
        best = self.plan_scores(boards).argmax(axis=1)  # ties: the first plan in `self.plans`
        return self.plans[best, 0].copy()

    def reset(self, done=None) -> None:
        """Nothing to remember between steps: every step is a fresh search."""

    def _simulator(self, size: int) -> VecChestsAndKeys:
        if self._sim is None or self._sim.num_envs != size:
            self._sim = VecChestsAndKeys(self.dist.replace(max_steps=10**6), size, seed=0)
        return self._sim
