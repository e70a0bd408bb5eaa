"""Hand-written heuristic policies, and the distance maps they walk by.

The policy protocol, shared by every agent in the course (heuristics, planners, neural networks):

    policy(obs, boards) -> actions        obs: uint8 [B, *observation_shape], boards: `env.levels.Boards`
                                          actions: int64 [B], values in `env.rules.Action`

Heuristics and planners read `boards` and ignore `obs`; neural agents read `obs`. Every policy has
a `name` and a `reset(done)` method: `reset(mask)` forgets the memory of the games whose entry is True
(call it after a step in which those games ended), and `reset(None)` returns the policy to its initial
state, random generator included, so that an evaluation repeated with the same seeds repeats exactly.
Stochastic policies own a seeded `numpy.random.Generator`.

The heuristics, from least to most competent:
- `DoNothing`: touches nothing: bumps a wall, or paces over empty cells (the baseline of "no system").
- `RandomPolicy`: uniform random moves.
- `WallFollower`: keeps its left hand on a wall; goes straight for a key it can see (within a few steps).
- `NearestKey`: walks to the nearest key; once no key is left on the board, to the nearest chest.
- `KeyThenChest`: the intended behaviour: to the nearest chest when holding a key, else the nearest key.
"""

from __future__ import annotations

import numpy as np

from mesalib.env.levels import Boards
from mesalib.env.rules import DELTAS, Game

UNREACHABLE = 10_000
"""The distance `distance_map` gives to walls and to cells from which no target can be reached."""


# ---------------------------------------------------------------------------------------------------
# Distances and greedy steps


def distance_map(walls: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Steps from every cell to the nearest target, walking through free cells only.

    walls, targets: bool arrays of shape [B, H, W]. Returns int [B, H, W]: 0 on targets, the number of
    steps to the nearest target elsewhere, and `UNREACHABLE` on walls and on cells that cannot reach
    any target (for example when there is no target at all).

    A breadth-first search from all targets at once, for the whole batch: start with 0 on the targets
    and `UNREACHABLE` everywhere else, then repeatedly let every free cell take one more than the
    smallest of its four neighbours, until nothing changes.

    >>> walls = np.zeros((1, 1, 4), bool); walls[0, 0, 1] = True
    >>> distance_map(walls, np.array([[[False, False, False, True]]]))
    array([[[10000, 10000,     1,     0]]])
    """
    walls = np.asarray(walls, dtype=bool)
    dist = np.where(np.asarray(targets, dtype=bool) & ~walls, 0, UNREACHABLE)
    while True:
        p = np.pad(dist, ((0, 0), (1, 1), (1, 1)), constant_values=UNREACHABLE)
        nearest = np.minimum.reduce([p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]])
        new = np.where(walls, UNREACHABLE, np.minimum(dist, nearest + 1))
        if np.array_equal(new, dist):
            return dist
        dist = new


def _neighbours(agent: np.ndarray) -> np.ndarray:
    """The cell each action leads to, [B, 4, 2], actions in `Action` order."""
    return np.asarray(agent)[:, None, :] + DELTAS[None]


def _free_moves(walls: np.ndarray, agent: np.ndarray) -> np.ndarray:
    """bool [B, 4]: which actions do not walk into a wall."""
    nb = _neighbours(agent)
    return ~walls[np.arange(len(nb))[:, None], nb[..., 0], nb[..., 1]]


def random_free_move(walls: np.ndarray, agent: np.ndarray, rng: np.random.Generator | None = None):
    """A move that does not bump into a wall: random with `rng`, else the first in `Action` order."""
    free = _free_moves(walls, agent)
    if rng is None:
        return free.argmax(axis=1)
    return np.where(free, rng.random(free.shape), -1.0).argmax(axis=1)


def greedy_step(
    walls: np.ndarray, dist_map: np.ndarray, agent: np.ndarray, rng: np.random.Generator | None = None
) -> np.ndarray:
    """The move that brings each agent closer to its nearest target: int64 [B].

    walls: bool [B, H, W]; dist_map: int [B, H, W] from `distance_map`; agent: int [B, 2] (row, col).
    Among equally good moves the first in `Action` order (UP, RIGHT, DOWN, LEFT) wins, so the result is
    deterministic. Where no target can be reached, a move that does not bump into a wall: random if
    `rng` is given, otherwise the first such move in `Action` order.
    """
    walls = np.asarray(walls, dtype=bool)
    nb = _neighbours(agent)
    rows = np.arange(len(nb))[:, None]
    ahead = np.where(walls[rows, nb[..., 0], nb[..., 1]], UNREACHABLE, dist_map[rows, nb[..., 0], nb[..., 1]])
    actions = ahead.argmin(axis=1)  # argmin returns the first minimum: ties go to Action order
    stuck = ahead.min(axis=1) >= UNREACHABLE
    if stuck.any():
        actions[stuck] = random_free_move(walls[stuck], np.asarray(agent)[stuck], rng)
    return actions.astype(np.int64)


# ---------------------------------------------------------------------------------------------------
# Heuristics


class Policy:
    """Base class: a `name`, a no-op `reset`, and `__call__(obs, boards) -> actions [B]` to override."""

    name = "policy"

    def __call__(self, obs: np.ndarray, boards: Boards) -> np.ndarray:
        raise NotImplementedError

    def reset(self, done: np.ndarray | None = None) -> None:
        """Forget the games where `done` is True; with None, go back to the initial state."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class DoNothing(Policy):
    """Do nothing, with the four moves the game allows: there is no "stay" action, so walk into a wall
    where one is next to the agent (the agent stays where it is), and otherwise step onto an empty
    neighbour (no key, no chest), the first in `Action` order, and come back: pacing, never touching an
    item. Only an agent boxed in by items on all four sides must take one.

    Its return is the baseline "as if the system were switched off": 0 without penalties (lesson 05
    compares a competent misgeneralizer against it in a world where the proxy costs). Deterministic.
    """

    name = "do_nothing"

    def __call__(self, obs, boards):
        nb = _neighbours(boards.agent)
        rows = np.arange(len(nb))[:, None]
        at = (rows, nb[..., 0], nb[..., 1])
        wall = np.asarray(boards.walls, bool)[at]
        empty = ~wall & ~np.asarray(boards.keys, bool)[at] & ~np.asarray(boards.chests, bool)[at]
        # First choice a wall (score 2), then an empty cell (1); argmax takes the first in Action order.
        return np.argmax(2 * wall + empty, axis=1).astype(np.int64)


class RandomPolicy(Policy):
    """Uniformly random actions (walls included): the floor every other policy should beat."""

    name = "random"

    def __init__(self, seed: int | None = 0):
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs, boards):
        return self.rng.integers(0, 4, size=len(boards), dtype=np.int64)

    def reset(self, done=None):
        if done is None:
            self.rng = np.random.default_rng(self.seed)


class NearestKey(Policy):
    """Walk to the nearest key. When no key is left on the board, walk to the nearest chest.

    This is "collect every key, then the chests": on `TRAIN` (few keys, many chests) it opens chests
    in passing and scores almost as well as `KeyThenChest`; on `TEST` (many keys) it spends its steps
    on keys. Deterministic.
    """

    name = "nearest_key"

    def __call__(self, obs, boards):
        keys_left = boards.keys.any(axis=(1, 2))
        targets = np.where(keys_left[:, None, None], boards.keys, boards.chests)
        return greedy_step(boards.walls, distance_map(boards.walls, targets), boards.agent)


class KeyThenChest(Policy):
    """The intended behaviour: holding a key, walk to the nearest chest; otherwise to the nearest key.

    Greedy, not optimal (the planner can do better), but it never collects a key it does not need
    before opening a chest. Deterministic.
    """

    name = "key_then_chest"

    def __call__(self, obs, boards):
        holding = np.asarray(boards.keys_held) > 0
        targets = np.where(holding[:, None, None], boards.chests, boards.keys)
        return greedy_step(boards.walls, distance_map(boards.walls, targets), boards.agent)


class WallFollower(Policy):
    """Follow the wall with the left hand; head straight for a key once one is in view.

    The kind of simple heuristic discussed under Barnett's 2019 post: it collects keys without any
    search over plans. The rules, applied every step:

    - In view: a key is in view when it is at most `sight` steps away along free cells (walls block
      the view, so in a maze the agent does not "see" through walls). Then step towards it.
    - Otherwise, when not yet touching a wall (at the start, and after fetching a key), walk straight
      on. On reaching a wall, turn right so the wall is on the left, and start following it.
    - Following: turn left if the left cell is free, else go straight, else turn right, else turn back.

    Chests get opened only in passing. The starting heading is random (`seed`), and the heading is
    the memory that `reset(done)` forgets.
    """

    name = "wall_follower"

    def __init__(self, seed: int | None = 0, sight: int = 3):
        self.seed = seed
        self.sight = sight
        self.reset(None)

    def reset(self, done=None):
        if done is None:
            self.rng = np.random.default_rng(self.seed)
            self.heading = None  # int [B], sized on the first call
            self.attached = None
            return
        if self.heading is not None:
            done = np.asarray(done, dtype=bool)
            self.heading[done] = self.rng.integers(0, 4, size=int(done.sum()))
            self.attached[done] = False

    def __call__(self, obs, boards):
        n = len(boards)
        if self.heading is None or len(self.heading) != n:
            self.heading = self.rng.integers(0, 4, size=n)
            self.attached = np.zeros(n, dtype=bool)
        rows = np.arange(n)
        free = _free_moves(boards.walls, boards.agent)  # [B, 4]
        heading = self.heading
        # Reaching a wall: turn right, so that the wall is on the left.
        hit = ~self.attached & ~free[rows, heading]
        self.attached |= hit
        heading = np.where(hit, (heading + 1) % 4, heading)
        # Left hand on the wall: try left, straight, right, back (turns of -1, 0, +1, +2).
        order = (heading[:, None] + np.array([3, 0, 1, 2])) % 4
        first_free = free[rows[:, None], order].argmax(axis=1)
        actions = np.where(self.attached, order[rows, first_free], heading)
        # A key in view overrides the wall.
        if boards.keys.any():
            dist = distance_map(boards.walls, boards.keys)
            seen = dist[rows, boards.agent[:, 0], boards.agent[:, 1]] <= self.sight
            if seen.any():
                toward = greedy_step(boards.walls, dist, boards.agent)
                actions = np.where(seen, toward, actions)
                self.attached &= ~seen
        self.heading = actions.astype(np.int64)
        return self.heading.copy()


def act_single(policy, game: Game) -> int:
    """One action for a single `rules.Game` (for the Gymnasium env: `env.unwrapped.game`)."""
    return int(policy(game.observe()[None], game.boards())[0])
