"""Collecting activations: what a trained agent computed in many states, and what was true in them."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from mesalib.env.levels import Boards, Level, LevelDistribution, Mixture
from mesalib.env.rollout import play_steps
from mesalib.env.vecenv import VecChestsAndKeys


@dataclass(frozen=True)
class Activations:
    """What an agent computed in N states, and what was true in them (one row per state).

    The state is recorded *before* the agent acts on it; `actions` is what it then did.
    """

    features: np.ndarray
    """float32 [N, H]: the agent's last hidden layer (`agent.features(obs)`)."""
    obs: np.ndarray
    """uint8 [N, C, V, V]: the observation the agent acted on."""
    walls: np.ndarray
    """bool [N, S, S]: the board's walls."""
    keys: np.ndarray
    """bool [N, S, S]: the keys still on the board."""
    chests: np.ndarray
    """bool [N, S, S]: the chests still closed."""
    agent: np.ndarray
    """int [N, 2]: the agent's (row, col)."""
    keys_held: np.ndarray
    """int [N]: keys the agent holds (whether or not its observation shows them)."""
    actions: np.ndarray
    """int [N]: the action the agent took in the state."""
    episode: np.ndarray
    """int [N]: an id shared by all states of one episode (use it to split by episode)."""
    step: np.ndarray
    """int [N]: steps already taken in the episode (0 at the start)."""

    def __len__(self) -> int:
        return len(self.features)

    def take(self, which) -> Activations:
        """The states selected by a boolean mask or an index array."""
        return Activations(**{f.name: getattr(self, f.name)[which] for f in fields(self)})

    @property
    def key_visible(self) -> np.ndarray:
        """bool [N]: at least one key on the board (the default view shows the whole board)."""
        return np.asarray(self.keys.any(axis=(1, 2)))

    @property
    def holds_key(self) -> np.ndarray:
        """bool [N]: the agent holds at least one key."""
        return self.keys_held > 0

    def level(self, i: int) -> Level:
        """State `i` as a `levels.Level` (for `render.draw`, `drawing.fields.policy_field`,
        `rules.State.start`)."""
        r, c = self.agent[i]
        return Level(
            self.walls[i], self.keys[i], self.chests[i], np.zeros_like(self.chests[i]), (int(r), int(c))
        )

    def boards(self) -> Boards:
        """The states as a `levels.Boards` (for heuristic policies and drawing); no ghost chests."""
        return Boards(
            self.walls, self.keys, self.chests, np.zeros_like(self.chests), self.agent, self.keys_held
        )


def collect(
    agent, dist: LevelDistribution | Mixture, num_envs: int = 256, steps: int = 40, seed: int = 0, policy=None
) -> Activations:
    """Play `num_envs` games for `steps` steps on levels from `dist` and record every state.

    The games reset automatically, so `num_envs * steps` states come from a little more than
    `num_envs * steps / episode length` episodes. Features are `agent.features(obs)`; actions come
    from `policy(obs, boards)` if given (any policy, for example a heuristic), else from `agent`.
    `dist` must give the observations the agent was trained on (same view and inventory planes):
    `agent.ppo_config().dist` for its training levels, `ppo.matching_test(...)` for its TEST levels.
    Deterministic: the levels come from `seed`, and a greedy agent has no randomness.
    """
    if tuple(dist.observation_shape) != tuple(agent.net.obs_shape):
        raise ValueError(
            f"collect: the levels give observations of shape {tuple(dist.observation_shape)}, "
            f"but the agent was trained on {tuple(agent.net.obs_shape)}; use the agent's "
            "own distribution (agent.ppo_config().dist) with the item counts you want."
        )
    env = VecChestsAndKeys(dist, num_envs, seed=seed)
    rows: dict[str, list] = {f.name: [] for f in fields(Activations)}
    for step in play_steps(agent if policy is None else policy, env, steps):
        assert step.boards is not None  # play_steps builds the boards unless asked not to
        rows["features"].append(agent.features(step.obs).numpy().astype(np.float32))
        rows["obs"].append(step.obs.copy())
        for name in ("walls", "keys", "chests", "agent", "keys_held"):
            rows[name].append(getattr(step.boards, name))
        rows["actions"].append(step.actions)
        rows["episode"].append(step.episode)
        rows["step"].append(step.info["steps"] - 1)  # the steps taken before this one
    return Activations(**{name: np.concatenate(parts) for name, parts in rows.items()})
