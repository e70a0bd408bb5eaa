"""Recording behaviour: the states a policy visits on some levels, and what it does there."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesalib.analysis.choices import one_hot_moves, softmax
from mesalib.env.levels import Boards, LevelBatch, LevelDistribution, Mixture
from mesalib.env.rollout import play_levels, reset_policy

_BOARD_FIELDS = ("walls", "keys", "chests", "ghosts", "agent", "keys_held")


@dataclass
class Trajectories:
    """The states a policy visited and what it did there, one row per decision.

    `boards` holds the board before each decision (keys held included); `steps_left` the steps the
    episode had left at that moment; `actions` the action taken; `probs` the policy's action
    probabilities (one-hot for policies without `.logits`); `episode` which level the row belongs to;
    `asked` the moves of another policy asked on the same boards (`record(..., ask=...)`), else None.
    Rows are ordered by episode, and in time order within an episode.
    """

    boards: Boards
    steps_left: np.ndarray
    actions: np.ndarray
    probs: np.ndarray
    episode: np.ndarray
    asked: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.actions)

    def reversals(self) -> float:
        """The share of moves that undo the move just before (UP after DOWN, ...) in the same episode:
        high when a policy dithers back and forth between two cells."""
        same = self.episode[1:] == self.episode[:-1]
        undo = self.actions[1:] == (self.actions[:-1] + 2) % 4
        return float((undo & same).sum() / max(int(same.sum()), 1))


def record(
    policy,
    dist: LevelDistribution | Mixture,
    episodes: int,
    seed: int = 0,
    levels: LevelBatch | None = None,
    ask=None,
) -> Trajectories:
    """Play `episodes` levels drawn from `dist` with `seed` (the same levels `evaluate` would use),
    or the given `levels`, one episode each, all at once, and record every decision. With `ask`,
    another policy, also ask it for its move on every board `policy` meets (it is reset as each
    episode ends) and keep its answers as `Trajectories.asked`: two policies compared on the very
    same states, those one of them chose to visit."""
    if levels is None:
        levels = dist.sample(np.random.default_rng(seed), int(episodes))
    n = len(levels)
    keys = (*_BOARD_FIELDS, "steps_left", "actions", "probs", "episode", "asked")
    parts: dict[str, list] = {k: [] for k in keys}
    if ask is not None:
        reset_policy(ask, None)
    for t, step in enumerate(play_levels(policy, levels, dist, num_envs=n)):
        assert step.boards is not None  # play_levels builds the boards unless asked not to
        if hasattr(policy, "logits"):
            probs = softmax(policy.logits(step.obs))
        else:
            probs = one_hot_moves(step.actions, n)
        rows = np.flatnonzero(step.episode >= 0)  # games still playing their own level
        for name in _BOARD_FIELDS:
            parts[name].append(getattr(step.boards, name)[rows])
        parts["steps_left"].append(np.full(len(rows), int(dist.max_steps) - t))
        parts["actions"].append(step.actions[rows])
        parts["probs"].append(probs[rows])
        parts["episode"].append(step.episode[rows])
        if ask is not None:
            parts["asked"].append(np.asarray(ask(step.obs, step.boards)).astype(np.int64)[rows])
            if step.done.any():
                reset_policy(ask, step.done)
    order = np.argsort(np.concatenate(parts["episode"]), kind="stable")  # by episode, then in time order
    cat = {k: np.concatenate(v)[order] for k, v in parts.items() if v}
    boards = Boards(*(cat[name] for name in _BOARD_FIELDS))
    return Trajectories(
        boards, cat["steps_left"], cat["actions"], cat["probs"], cat["episode"], cat.get("asked")
    )
