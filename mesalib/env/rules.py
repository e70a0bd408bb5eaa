"""The rules of Chests and Keys for one level, in plain Python: the reference lesson 1 reads.

- Four moves. Walking into a wall leaves the agent where it is.
- Stepping onto a key picks it up (the agent can carry any number).
- Stepping onto a chest while holding a key opens it: reward +1, and the key and chest are used up.
  Without a key nothing happens; chests never block the way.
- The episode ends (terminated) when no further chest can be opened: no chests left, or no keys
  held and none on the board. It is cut off (truncated) at the distribution's step limit.
- Ghost chests (optional) are invisible chests for the hidden-chest test: they "open" under the same
  key rule but use no key and give no reward; we only count them.

The batched NumPy core in `vecenv.py` must agree with this file exactly; a test checks it does.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from mesalib.env.levels import Boards, Level, LevelDistribution


class Action(IntEnum):
    UP = 0
    RIGHT = 1
    DOWN = 2
    LEFT = 3


MOVES = {Action.UP: (-1, 0), Action.RIGHT: (0, 1), Action.DOWN: (1, 0), Action.LEFT: (0, -1)}

DELTAS = np.array([MOVES[a] for a in Action])
"""The move table as an array: row `a` is the (d_row, d_col) of action `a`, for code that moves many agents."""

# Observation planes, in order. Planes 4, 5, ... (if any) show the inventory.
WALL, KEY, CHEST, AGENT = 0, 1, 2, 3
PLANE_NAMES = ("walls", "keys", "chests", "agent")

INFO_KEYS = ("keys_collected", "chests_opened", "ghost_chests_opened", "keys_held", "wall_bumps", "steps")


class Game:
    """One episode on one level. `step` applies the rules; `observe` shows what the agent sees."""

    def __init__(self, level: Level, dist: LevelDistribution):
        self.dist = dist
        self.size = level.size
        self.walls = level.walls.copy()
        self.keys = {tuple(map(int, rc)) for rc in np.argwhere(level.keys)}
        self.chests = {tuple(map(int, rc)) for rc in np.argwhere(level.chests)}
        self.ghosts = {tuple(map(int, rc)) for rc in np.argwhere(level.ghosts)}
        self.agent = level.agent
        self.keys_held = 0
        self.keys_collected = 0
        self.chests_opened = 0
        self.ghost_chests_opened = 0
        self.wall_bumps = 0
        self.steps = 0
        self._planes = _Planes(self)

    def step(self, action: int) -> tuple[float, bool, bool]:
        """Apply one move; return (reward, terminated, truncated)."""
        dr, dc = MOVES[_checked(action)]
        reward = 0.0 - self.dist.step_penalty  # 0.0, not -0.0, without a penalty
        self.steps += 1
        target = (self.agent[0] + dr, self.agent[1] + dc)
        if self.walls[target]:
            self.wall_bumps += 1
            reward -= self.dist.wall_bump_penalty
        else:
            self._planes.move(self.agent, target)
            self.agent = target
        here = self.agent
        if here in self.keys:
            self.keys.remove(here)
            self._planes.clear(KEY, here)
            self.keys_held += 1
            self.keys_collected += 1
        if here in self.chests and self.keys_held > 0:
            self.chests.remove(here)
            self._planes.clear(CHEST, here)
            self.keys_held -= 1
            self.chests_opened += 1
            reward += 1.0
        if here in self.ghosts and self.keys_held > 0:
            self.ghosts.remove(here)
            self.ghost_chests_opened += 1
        self._planes.show_inventory(self.keys_held)
        terminated = not self.can_open_more()
        truncated = not terminated and self.steps >= self.dist.max_steps
        return reward, terminated, truncated

    def can_open_more(self) -> bool:
        """Whether some chest could still be opened: a chest is left, and a key is held or lying around."""
        return bool(self.chests) and (self.keys_held > 0 or bool(self.keys))

    def info(self) -> dict[str, int]:
        """The episode's running totals."""
        return {name: getattr(self, name) for name in INFO_KEYS}

    def level(self) -> Level:
        """The board as it is now (items already taken are gone)."""
        return Level(
            self.walls.copy(),
            self._mask(self.keys),
            self._mask(self.chests),
            self._mask(self.ghosts),
            self.agent,
        )

    def boards(self) -> Boards:
        """This game as a batch of one, the form heuristic policies read."""
        lv = self.level()
        return Boards(
            lv.walls[None],
            lv.keys[None],
            lv.chests[None],
            lv.ghosts[None],
            np.array([self.agent]),
            np.array([self.keys_held]),
        )

    def _mask(self, cells: set) -> np.ndarray:
        mask = np.zeros_like(self.walls, dtype=bool)
        for cell in cells:
            mask[cell] = True
        return mask

    def observe(self) -> np.ndarray:
        """uint8 planes (walls, keys, chests, agent, inventory...) of shape `dist.observation_shape`."""
        return self._planes.window(self.agent)


def _checked(action) -> int:
    """The action as a plain int, or a ValueError that says what is allowed."""
    if (
        isinstance(action, (int, np.integer))
        and not isinstance(action, (bool, np.bool_))
        and 0 <= action <= 3
    ):
        return int(action)
    raise ValueError(
        f"action must be an integer in 0..3 ({', '.join(a.name for a in Action)}); got {action!r}."
    )


class _Planes:
    """The observation planes, kept up to date as the game changes so that observing is one copy.

    For an egocentric view the planes are padded with walls by half the window, so the window around
    the agent never runs off the array; `self.grid` is a view of the unpadded interior.
    """

    def __init__(self, game: Game):
        d, n = game.dist, game.size
        self.view = d.view
        self.pad = 0 if d.view is None else d.view // 2
        self.all = np.zeros((4 + d.inventory_planes, n + 2 * self.pad, n + 2 * self.pad), np.uint8)
        self.all[WALL] = 1
        self.grid = self.all[:, self.pad : self.pad + n, self.pad : self.pad + n]
        self.grid[WALL] = game.walls
        for r, c in game.keys:
            self.grid[KEY, r, c] = 1
        for r, c in game.chests:
            self.grid[CHEST, r, c] = 1
        self.grid[(AGENT, *game.agent)] = 1
        self.held = 0

    def move(self, old, new):
        self.grid[(AGENT, *old)] = 0
        self.grid[(AGENT, *new)] = 1

    def clear(self, plane, cell):
        self.grid[(plane, *cell)] = 0

    def show_inventory(self, held):
        if held != self.held and len(self.all) > 4:
            self.held = held
            for i in range(len(self.all) - 4):
                self.all[4 + i] = held > i

    def window(self, agent):
        if self.view is None:
            return self.all.copy()
        r, c = agent  # in padded coordinates the window starts at the agent's own cell
        return self.all[:, r : r + self.view, c : c + self.view].copy()


# --------------------------------------------------------------------------------------------------
# The rules as pure functions on arrays (the library references for lesson 1's exercises). They run
# a `Game`, so they cannot drift from it.


def step_arrays(walls, keys, chests, agent, keys_held: int, action: int):
    """One step of the rules on plain arrays; nothing passed in is modified.

    walls, keys, chests: bool arrays of shape (size, size), border cells walls, at most one item per
    cell; agent: (row, col); keys_held: keys carried; action: 0..3 (UP, RIGHT, DOWN, LEFT).
    Returns `(keys, chests, agent, keys_held, reward)`: new bool arrays, the new (row, col) as a tuple
    of ints, the new count, and the reward as a float (1.0 when a chest was opened, else 0.0: no step
    or wall-bump penalties here).

    >>> walls = np.ones((5, 5), bool); walls[1, 1:4] = False  # one corridor of three cells
    >>> keys, chests = np.zeros((5, 5), bool), np.zeros((5, 5), bool)
    >>> keys[1, 2] = chests[1, 3] = True
    >>> k, c, agent, held, reward = step_arrays(walls, keys, chests, (1, 1), 0, Action.RIGHT)
    >>> agent, held, reward, bool(k.any())
    ((1, 2), 1, 0.0, False)
    >>> step_arrays(walls, k, c, agent, held, Action.RIGHT)[2:]
    ((1, 3), 0, 1.0)
    """
    walls = np.asarray(walls, bool)
    ghosts = np.zeros_like(walls)
    agent = (int(agent[0]), int(agent[1]))
    game = Game(Level(walls, np.asarray(keys, bool), np.asarray(chests, bool), ghosts, agent), _PLAIN)
    game.keys_held = int(keys_held)
    reward, _, _ = game.step(action)
    level = game.level()
    return level.keys, level.chests, level.agent, game.keys_held, float(reward) + 0.0


def can_open_more(keys, chests, keys_held):
    """Whether some chest can still be opened (the episode goes on): a chest is left, and a key is
    held or lying on the board. This is `Game.can_open_more` for one board or a batch.

    keys, chests: bool arrays of shape (..., size, size); keys_held: int or array of shape (...).
    Returns a bool (one board) or a bool array of shape (...) (a batch).

    >>> none, one = np.zeros((3, 3), bool), np.eye(3, dtype=bool)
    >>> can_open_more(none, one, 1), can_open_more(none, one, 0), can_open_more(one, none, 5)
    (True, False, False)
    >>> can_open_more(np.stack([none, one]), np.stack([one, one]), np.array([0, 0]))
    array([False,  True])
    """
    keys, chests = np.asarray(keys, bool), np.asarray(chests, bool)
    out = chests.any(axis=(-2, -1)) & ((np.asarray(keys_held) > 0) | keys.any(axis=(-2, -1)))
    return bool(out) if out.ndim == 0 else out


def observe_arrays(
    walls, keys, chests, agent, view: int | None = 17, keys_held: int = 0, inventory_planes: int = 0
) -> np.ndarray:
    """What the agent observes: `Game.observe` for a board given as arrays.

    walls, keys, chests: bool arrays of shape (size, size); agent: (row, col); view: the side of the
    egocentric window (odd), or None for the whole grid. Returns uint8 planes of shape
    (4 + inventory_planes, view, view): walls, keys, chests, agent, then the inventory planes
    (plane 4 + i is all ones when more than i keys are held). Cells beyond the grid show as walls.

    >>> walls = np.ones((5, 5), bool); walls[1:-1, 1:-1] = False
    >>> keys = np.zeros((5, 5), bool); keys[1, 2] = True
    >>> obs = observe_arrays(walls, keys, np.zeros((5, 5), bool), (1, 1), view=3)
    >>> obs[0], obs[1], obs[3]
    (array([[1, 1, 1],
           [1, 0, 0],
           [1, 0, 0]], dtype=uint8), array([[0, 0, 0],
           [0, 0, 1],
           [0, 0, 0]], dtype=uint8), array([[0, 0, 0],
           [0, 1, 0],
           [0, 0, 0]], dtype=uint8))
    """
    walls = np.asarray(walls, bool)
    dist = _PLAIN.replace(view=view, inventory_planes=int(inventory_planes))
    agent = (int(agent[0]), int(agent[1]))
    game = Game(
        Level(walls, np.asarray(keys, bool), np.asarray(chests, bool), np.zeros_like(walls), agent), dist
    )
    game._planes.show_inventory(int(keys_held))
    return game.observe()


_PLAIN = LevelDistribution(view=None)
"""Settings for the pure functions above: no penalties, whole-grid planes. (A `Game` takes its board's
size from the level, so this one distribution serves boards of any size.)"""
