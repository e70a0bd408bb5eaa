"""What a policy would do in states we choose: the observation it would get there, and the
probabilities it gives each move.

Lessons put an agent in hand-made situations (a key on one side, a chest on the other; every free cell
of a level; the cell it would reach after a move) and ask what it does. Two questions, one answer each:

- `observation_at` / `observations`: what the agent would see, built by the rules' own `observe`, so
  the inventory planes show the keys held exactly as in play;
- `action_probabilities`: its move probabilities at the start of given levels: the softmax of a
  torch agent's logits, 1/4 each for `RandomPolicy`, and probability 1 on the chosen move for any
  other policy. `field_probabilities` does the same at every cell a policy field shows (`field_cells`).

Actions are in `rules.Action` order: UP, RIGHT, DOWN, LEFT.
"""

from __future__ import annotations

import numpy as np

from mesalib.agents.heuristics import RandomPolicy
from mesalib.agents.registry import training_distribution
from mesalib.env.levels import TRAIN, Boards, Level, LevelBatch, LevelDistribution, Mixture
from mesalib.env.rollout import reset_policy
from mesalib.env.rules import State, observe


def observation_at(
    level: Level, cell, dist: LevelDistribution | Mixture = TRAIN, keys_held: int = 0
) -> np.ndarray:
    """What the agent would observe standing on `cell` of `level` (items as they are) with `keys_held`
    keys, under the observation settings (view, inventory planes) of `dist`."""
    placed = Level(level.walls, level.keys, level.chests, level.ghosts, (int(cell[0]), int(cell[1])))
    return observe(State.start(placed, int(keys_held)), dist)


def observations(levels: list[Level], dist: LevelDistribution | Mixture, keys_held=0) -> np.ndarray:
    """uint8 [N, *dist.observation_shape]: what an agent sees at the start of each level, holding
    `keys_held` keys (a number, or one per level); inventory planes (if any) show that count."""
    held = np.broadcast_to(np.asarray(keys_held, dtype=np.int64), (len(levels),))
    return np.stack([observation_at(level, level.agent, dist, int(h)) for level, h in zip(levels, held)])


def softmax(logits) -> np.ndarray:
    """float64 [N, A]: each row of logits (a NumPy array or a torch tensor) turned into probabilities."""
    if hasattr(logits, "detach"):
        logits = logits.detach().cpu().numpy()
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot_moves(actions, n: int) -> np.ndarray:
    """float [n, 4]: probability 1 on each chosen action: how a deterministic policy's choice reads."""
    probs = np.zeros((n, 4))
    probs[np.arange(n), np.asarray(actions, dtype=np.int64)] = 1.0
    return probs


def action_probabilities(
    policy, levels: list[Level], keys_held=0, dist: LevelDistribution | Mixture | None = None
) -> np.ndarray:
    """float [N, 4]: the policy's move probabilities at the start of each level, holding `keys_held`
    (a number, or one per level).

    - A torch agent (anything with `.logits`): the softmax of its logits on the observation it would
      get, with its own training distribution's observation settings unless `dist` is given.
    - `RandomPolicy`: 1/4 each.
    - Any other policy: probability 1 on the action it picks (it reads `Boards` with `keys_held`, one
      game per level); it is `reset(None)` before and after, so its memory is left as it was made.
    """
    dist = dist or training_distribution(policy, TRAIN)
    n = len(levels)
    if n == 0:
        return np.zeros((0, 4))
    obs = observations(levels, dist, keys_held)
    if hasattr(policy, "logits"):
        return softmax(policy.logits(obs))
    if isinstance(policy, RandomPolicy):
        return np.full((n, 4), 0.25)
    batch = LevelBatch.stack(levels)
    held = np.broadcast_to(np.asarray(keys_held, dtype=np.int64), (n,)).copy()
    boards = Boards(batch.walls, batch.keys, batch.chests, batch.ghosts, batch.agent, held)
    reset_policy(policy, None)
    actions = policy(obs, boards)
    reset_policy(policy, None)
    return one_hot_moves(actions, n)


def field_cells(level: Level, keys_held: int = 0) -> np.ndarray:
    """int [N, 2]: the cells a policy field shows, the cells where the agent can actually stand with
    `keys_held` keys: free cells without a key (a key there would have been picked up) and, when a key
    is held, without a chest (it would have been opened)."""
    blocked = level.walls | level.keys
    if keys_held > 0:
        blocked = blocked | level.chests
    return np.argwhere(~blocked)


def field_probabilities(
    policy, level: Level, keys_held: int = 0, dist: LevelDistribution | Mixture | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(cells int [N, 2], probabilities float [N, 4]): the policy's move probabilities at every cell of
    `field_cells`, with the rest of the level as it is, all cells in one batch (see
    `action_probabilities` for how each kind of policy is read)."""
    cells = field_cells(level, keys_held)
    placed = [Level(level.walls, level.keys, level.chests, level.ghosts, (int(r), int(c))) for r, c in cells]
    return cells, action_probabilities(policy, placed, keys_held, dist)
