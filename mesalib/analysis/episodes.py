"""One episode, recorded frame by frame on the reference `rules.Game`, for pictures and replays.

`record_episode` plays any policy (or a name that `agents.registry.resolve` knows) on one level and
keeps every board, inventory and running total; the drawing layer (`drawing.replay`) and the widgets
replay the same `Episode` objects. `level_for` names the level a seed draws, the one a batched
environment created with that seed starts with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mesalib.agents.registry import resolve
from mesalib.env.levels import TRAIN, Level, LevelDistribution, Mixture
from mesalib.env.rollout import reset_policy
from mesalib.env.rules import Action, Game

ACTION_NAMES = tuple(a.name for a in Action)


def level_for(dist: LevelDistribution | Mixture = TRAIN, seed: int = 0) -> Level:
    """The level `seed` draws from `dist`: the first level of `VecChestsAndKeys(dist, 1, seed)` too."""
    return dist.sample(np.random.default_rng(int(seed)), 1)[0]


def policy_name(policy) -> str:
    """The name a policy shows in titles and tables: its `name`, else its class name."""
    return getattr(policy, "name", None) or type(policy).__name__


@dataclass
class Episode:
    """One recorded episode. Frame t is the game after t steps (frame 0 is the start)."""

    policy: str
    """The policy's name."""
    dist: LevelDistribution | Mixture
    seed: int
    boards: list[Level] = field(default_factory=list)
    """The board at each frame (items already taken are gone); `steps + 1` entries."""
    keys_held: list[int] = field(default_factory=list)
    """Keys held at each frame."""
    infos: list[dict] = field(default_factory=list)
    """The game's running totals (`rules.INFO_KEYS`) at each frame."""
    actions: list[int] = field(default_factory=list)
    """The action taken from frame t to frame t + 1; `steps` entries."""
    rewards: list[float] = field(default_factory=list)
    """The reward of each step."""
    terminated: bool = False
    """The episode ended because no chest could be opened any more."""
    truncated: bool = False
    """The episode hit the step limit."""

    @property
    def steps(self) -> int:
        return len(self.actions)

    @property
    def path(self) -> list[tuple[int, int]]:
        """The agent's cell at each frame."""
        return [b.agent for b in self.boards]

    @property
    def chests_opened(self) -> int:
        return int(self.infos[-1]["chests_opened"])

    @property
    def keys_collected(self) -> int:
        return int(self.infos[-1]["keys_collected"])

    def series(self, name: str) -> np.ndarray:
        """One running total (`keys_held`, `keys_collected`, `chests_opened`, ...) at every frame."""
        return np.array([info[name] for info in self.infos])

    def describe(self, t: int) -> str:
        """One line about frame t: the step, the last action and reward, the inventory and the chests."""
        t = max(0, min(int(t), self.steps))
        info = self.infos[t]
        parts = [f"step {t} / {self.steps}"]
        if t > 0:
            parts.append(f"action {ACTION_NAMES[self.actions[t - 1]]} (reward {self.rewards[t - 1]:+g})")
        parts += [
            f"keys held {info['keys_held']}",
            f"keys collected {info['keys_collected']}",
            f"chests opened {info['chests_opened']}",
        ]
        if t == self.steps:
            parts.append(self.ending())
        return " · ".join(parts)

    def ending(self) -> str:
        if self.terminated:
            return "ended: no chest can be opened any more"
        if self.truncated:
            return "ended: step limit reached"
        return "not finished"

    def snapshot(self, game: Game) -> None:
        """Append the game as it is now as the next frame."""
        self.boards.append(game.level())
        self.keys_held.append(game.keys_held)
        self.infos.append(game.info())


def record_episode(
    policy,
    dist: LevelDistribution | Mixture = TRAIN,
    seed: int = 0,
    level: Level | None = None,
    max_steps: int | None = None,
) -> Episode:
    """Play one episode of `policy` (a policy object or a name `agents.registry.resolve` knows) and
    record it.

    The level is `level_for(dist, seed)` unless `level` is given. The policy is `reset(None)` first, so
    the same arguments record the same episode. `max_steps` (default: the distribution's step limit)
    can only shorten the episode.
    """
    policy = resolve(policy, dist)
    game = Game(level if level is not None else level_for(dist, seed), dist)
    reset_policy(policy, None)
    ep = Episode(policy_name(policy), dist, int(seed))
    ep.snapshot(game)
    limit = int(dist.max_steps if max_steps is None else min(max_steps, dist.max_steps))
    for _ in range(limit):
        action = int(np.asarray(policy(game.observe()[None], game.boards()))[0])
        reward, terminated, truncated = game.step(action)
        ep.actions.append(action)
        ep.rewards.append(float(reward) + 0.0)  # + 0.0 turns -0.0 (a zero step penalty) into 0.0
        ep.snapshot(game)
        if terminated or truncated:
            ep.terminated, ep.truncated = bool(terminated), bool(truncated)
            break
    return ep
