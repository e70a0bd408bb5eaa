"""The rules of Chests and Keys for one level, in plain Python: the reference lesson 1 reads.

- Four moves. Walking into a wall leaves the agent where it is.
- Stepping onto a key picks it up (the agent can carry any number).
- Stepping onto a chest while holding a key opens it: reward +1, and the key and chest are used up.
  Without a key nothing happens; chests never block the way.
- The episode ends (terminated) when no further chest can be opened: no chests left, or no keys
  held and none on the board. It is cut off (truncated) at the distribution's step limit.
- Ghost chests (optional) are invisible chests for the hidden-chest test: they "open" under the same
  key rule but use no key and give no reward; we only count them.

The rules are pure functions over a frozen `State`: `step(state, action, dist)` returns a new state,
`observe(state, dist)` what the agent sees; `arrive` (what happens on the cell the agent stands on)
and `can_still_open` (the end of the game) are the two rules they share with the planner's
simulation. `Game` plays one episode with them. The batched NumPy core in `vecenv.py` must agree
with this file exactly; a test checks it does.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple

import numpy as np

from mesalib.env.levels import Boards, Level, LevelDistribution, Mixture


class Action(IntEnum):
    UP = 0
    RIGHT = 1
    DOWN = 2
    LEFT = 3


MOVES: dict[int, tuple[int, int]] = {
    Action.UP: (-1, 0),
    Action.RIGHT: (0, 1),
    Action.DOWN: (1, 0),
    Action.LEFT: (0, -1),
}
"""The move table: each `Action` (an int) to its (d_row, d_col)."""

DELTAS = np.array([MOVES[a] for a in Action])
"""The move table as an array, for code that moves many agents: row `a` is action `a`'s
(d_row, d_col)."""

# Observation planes, in order. Planes 4, 5, ... (if any) show the inventory.
WALL, KEY, CHEST, AGENT = 0, 1, 2, 3
PLANE_NAMES = ("walls", "keys", "chests", "agent")

INFO_KEYS = (
    "keys_collected",
    "chests_opened",
    "ghost_chests_opened",
    "keys_held",
    "wall_bumps",
    "steps",
)
"""The running totals of an episode (fields of `State`), as every environment reports them in
`info`."""

Cell = tuple[int, int]
"""(row, col), row 0 at the top."""


class State(NamedTuple):
    """Everything about one game at one moment. A named tuple, so immutable: the rules return a new
    state, never change one.

    Items are sets of cells; items already used are gone from them. The walls (a read-only array)
    are shared by every state of a game; compare states of one game only.
    """

    walls: np.ndarray
    keys: frozenset[Cell]
    chests: frozenset[Cell]
    ghosts: frozenset[Cell]
    agent: Cell
    keys_held: int = 0
    keys_collected: int = 0
    chests_opened: int = 0
    ghost_chests_opened: int = 0
    wall_bumps: int = 0
    steps: int = 0

    @staticmethod
    def start(level: Level, keys_held: int = 0) -> State:
        """The state at the start of `level` (holding `keys_held` keys, to start mid-episode)."""
        walls = np.array(level.walls, dtype=bool)
        walls.flags.writeable = False  # shared by every later state of the game
        agent = (int(level.agent[0]), int(level.agent[1]))
        return State(
            walls,
            _cells(level.keys),
            _cells(level.chests),
            _cells(level.ghosts),
            agent,
            int(keys_held),
        )

    def can_open_more(self) -> bool:
        """Whether some chest could still be opened: a chest is left, and a key is held or lying
        around."""
        return bool(can_still_open(len(self.chests), self.keys_held, len(self.keys)))

    def info(self) -> dict[str, int]:
        """The episode's running totals."""
        return {name: getattr(self, name) for name in INFO_KEYS}

    def level(self) -> Level:
        """The board as it is now (items already taken are gone)."""
        shape = self.walls.shape
        ghosts = _mask(self.ghosts, shape)
        return Level(
            self.walls.copy(),
            _mask(self.keys, shape),
            _mask(self.chests, shape),
            ghosts,
            self.agent,
        )


def arrive(keys_held: int, key: bool, chest: bool, ghost: bool) -> tuple[int, bool, bool, bool]:
    """The rule for the cell the agent stands on after its move, given what lies there.

    A key is picked up; then a chest is opened if a key is held, using that key up; then a ghost
    chest likewise, but it uses no key. Returns (keys held afterwards, key picked up, chest opened,
    ghost chest opened). `step` applies it to the cell the agent moved to, the planner's search to
    every item on its paths.

    >>> arrive(0, key=False, chest=True, ghost=False)  # no key: the chest stays shut
    (0, False, False, False)
    >>> arrive(1, key=False, chest=True, ghost=False)
    (0, False, True, False)
    """
    held = keys_held + key
    opened = chest and held > 0
    held -= opened
    return held, key, opened, ghost and held > 0


def can_still_open(chests_left, keys_held, keys_left):
    """The end-of-game rule: a chest can still be opened when one is left, and a key is held or
    lying on the board. The episode is terminated when this is False.

    Numbers give a bool, arrays of numbers (one per game) a bool array: `&` and `|` work on both.
    """
    return (chests_left > 0) & ((keys_held > 0) | (keys_left > 0))


def step(
    state: State,
    action: int,
    dist: LevelDistribution | Mixture,
) -> tuple[State, float, bool, bool]:
    """One move by the rules: (the new state, reward, terminated, truncated); `state` is unchanged.

    `dist` gives the step limit and the penalties and key cost (all zero in `TRAIN` and `TEST`).
    """
    d_row, d_col = MOVES[_checked(action)]
    target = (state.agent[0] + d_row, state.agent[1] + d_col)
    bumped = bool(state.walls[target])
    here = state.agent if bumped else target
    held, took_key, opened, opened_ghost = arrive(
        state.keys_held, here in state.keys, here in state.chests, here in state.ghosts
    )
    new = State(  # the fields in order (by keyword, the single env runs some 5% slower)
        state.walls,
        (state.keys - {here}) if took_key else state.keys,
        (state.chests - {here}) if opened else state.chests,
        (state.ghosts - {here}) if opened_ghost else state.ghosts,
        here,  # agent
        held,  # keys_held
        state.keys_collected + took_key,
        state.chests_opened + opened,
        state.ghost_chests_opened + opened_ghost,
        state.wall_bumps + bumped,
        state.steps + 1,
    )
    reward = 0.0 - dist.step_penalty  # 0.0, not -0.0, without a penalty
    if bumped:
        reward -= dist.wall_bump_penalty
    if took_key:
        reward -= dist.key_cost
    if opened:
        reward += 1.0
    terminated = not can_still_open(len(new.chests), held, len(new.keys))
    truncated = not terminated and new.steps >= dist.max_steps
    return new, reward, terminated, truncated


def observe(state: State, dist: LevelDistribution | Mixture) -> np.ndarray:
    """What the agent sees: uint8 planes (walls, keys, chests, agent, inventory...) of shape
    `dist.observation_shape`.

    With a view, the window of side `dist.view` centred on the agent: the planes are padded with
    walls by half a window, so that cells beyond the grid show as walls, and the window is cut out
    of them (a view into a fresh array, yours to keep or change). Without a view (`None`), the whole
    grid.
    """
    (height, width), view = state.walls.shape, dist.view
    pad = 0 if view is None else view // 2
    planes = np.zeros((4 + dist.inventory_planes, height + 2 * pad, width + 2 * pad), np.uint8)
    planes[WALL] = 1  # the padding is wall
    # the grid itself, a view into the planes
    grid = planes[:, pad : pad + height, pad : pad + width]
    grid[WALL] = state.walls
    for plane, cells in (
        (grid[KEY], state.keys),
        (grid[CHEST], state.chests),
        (grid[AGENT], (state.agent,)),
    ):
        for cell in cells:
            plane[cell] = 1
    if dist.inventory_planes:
        planes[4:] = inventory_flags(state.keys_held, dist.inventory_planes)[:, None, None]
    if view is None:
        return planes
    row, col = state.agent  # in padded coordinates, the window around the agent starts at its cell
    return planes[:, row : row + view, col : col + view]


def inventory_flags(keys_held, planes: int) -> np.ndarray:
    """The inventory rule of the observation: plane 4 + i is all ones when more than i keys are
    held.

    keys_held: a number, or an int array of shape (B,). Returns uint8 [planes] (or [B, planes]): the
    value that fills each inventory plane.

    >>> inventory_flags(2, 3)
    array([1, 1, 0], dtype=uint8)
    """
    return (np.asarray(keys_held)[..., None] > np.arange(planes)).astype(np.uint8)


class Game:
    """One episode on one level: the current `State`, played with `step` and seen with `observe`.

    The attributes of the state read through: `game.agent`, `game.keys_held`, `game.chests_opened`,
    `game.keys` and so on are `game.state`'s. They are read-only; to start from another state, make
    one (`State.start(level, keys_held=...)`, `game.state._replace(...)`) and assign
    `game.state`.
    """

    def __init__(self, level: Level, dist: LevelDistribution | Mixture, keys_held: int = 0):
        self.dist = dist
        self.state = State.start(level, keys_held)

    def step(self, action: int) -> tuple[float, bool, bool]:
        """Apply one move; return (reward, terminated, truncated)."""
        self.state, reward, terminated, truncated = step(self.state, action, self.dist)
        return reward, terminated, truncated

    def observe(self) -> np.ndarray:
        """uint8 planes (walls, keys, chests, agent, inventory...), of shape
        `dist.observation_shape`."""
        return observe(self.state, self.dist)

    def can_open_more(self) -> bool:
        """Whether some chest could still be opened (the episode goes on)."""
        return self.state.can_open_more()

    def info(self) -> dict[str, int]:
        """The episode's running totals."""
        return self.state.info()

    def level(self) -> Level:
        """The board as it is now (items already taken are gone)."""
        return self.state.level()

    def boards(self) -> Boards:
        """This game as a batch of one, the form heuristic policies read."""
        lv = self.level()
        held = np.array([self.state.keys_held])
        return Boards(
            lv.walls[None],
            lv.keys[None],
            lv.chests[None],
            lv.ghosts[None],
            np.array([lv.agent]),
            held,
        )

    def __getattr__(self, name: str) -> Any:
        # Called only for names Game itself lacks: the state's fields read through.
        if name in State._fields:
            return getattr(self.state, name)
        raise AttributeError(f"'Game' object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in State._fields:
            raise AttributeError(
                f"Game.{name} is read-only: it is game.state.{name}. Assign a new state instead, "
                f"e.g. game.state = game.state._replace({name}=...)."
            )
        super().__setattr__(name, value)


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


def _cells(mask: np.ndarray) -> frozenset[Cell]:
    rows, cols = np.nonzero(mask)
    return frozenset(zip(rows.tolist(), cols.tolist()))


def _mask(cells: frozenset[Cell], shape: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for cell in cells:
        mask[cell] = True
    return mask


# --------------------------------------------------------------------------------------------------
# The rules on plain arrays (the library references for lesson 1's exercises), built on the
# functions above.


def step_arrays(walls, keys, chests, agent, keys_held: int, action: int):
    """One step of the rules on plain arrays; nothing passed in is modified.

    walls, keys, chests: bool arrays of shape (size, size), border cells walls, at most one item per
    cell; agent: (row, col); keys_held: keys carried; action: 0..3 (UP, RIGHT, DOWN, LEFT). Returns
    `(keys, chests, agent, keys_held, reward)`: new bool arrays, the new (row, col) as a tuple of
    ints, the new count, and the reward as a float (1.0 when a chest was opened, else 0.0: no step
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
    state = _state_of_arrays(walls, keys, chests, agent, keys_held)
    new, reward, _, _ = step(state, action, _PLAIN)
    shape = state.walls.shape
    return _mask(new.keys, shape), _mask(new.chests, shape), new.agent, new.keys_held, reward


def can_open_more(keys, chests, keys_held):
    """Whether some chest can still be opened (the episode goes on): a chest is left, and a key is
    held or lying on the board. This is `State.can_open_more` for one board or a batch.

    keys, chests: bool arrays of shape (..., size, size); keys_held: int or array of shape (...).
    Returns a bool (one board) or a bool array of shape (...) (a batch).

    >>> none, one = np.zeros((3, 3), bool), np.eye(3, dtype=bool)
    >>> can_open_more(none, one, 1), can_open_more(none, one, 0), can_open_more(one, none, 5)
    (True, False, False)
    >>> can_open_more(np.stack([none, one]), np.stack([one, one]), np.array([0, 0]))
    array([False,  True])
    """
    keys, chests = np.asarray(keys, bool), np.asarray(chests, bool)
    on_board = (-2, -1)
    out = np.asarray(
        can_still_open(
            np.count_nonzero(chests, axis=on_board),
            np.asarray(keys_held),
            np.count_nonzero(keys, axis=on_board),
        )
    )
    return bool(out) if out.ndim == 0 else out


def observe_arrays(
    walls,
    keys,
    chests,
    agent,
    view: int | None = LevelDistribution.view,
    keys_held: int = 0,
    inventory_planes: int = 0,
) -> np.ndarray:
    """What the agent observes: `observe` for a board given as arrays.

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
    state = _state_of_arrays(walls, keys, chests, agent, keys_held)
    return observe(state, _PLAIN.replace(view=view, inventory_planes=int(inventory_planes)))


def _state_of_arrays(walls, keys, chests, agent, keys_held) -> State:
    walls = np.asarray(walls, bool)
    keys, chests = np.asarray(keys, bool), np.asarray(chests, bool)
    level = Level(walls, keys, chests, np.zeros_like(walls), agent)
    return State.start(level, keys_held)


_PLAIN = LevelDistribution(view=None)
"""Settings for the array functions above: no penalties, whole-grid planes. (Boards of any size: the
rules take the size from the walls.)"""
