"""Labels computed from the boards: where the nearest key or chest is, how far, and whether a move heads
for it. Probes are scored against these."""

from __future__ import annotations

import numpy as np

from mesalib.agents.heuristics import UNREACHABLE, distance_map
from mesalib.env.rules import DELTAS, Action

DIRECTION_NAMES = tuple(a.name for a in Action)
"""Names of the direction labels 0..3, in `rules.Action` order: UP, RIGHT, DOWN, LEFT."""


def _as_boards(states) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.asarray(states.walls, bool),
        np.asarray(states.keys, bool),
        np.asarray(states.chests, bool),
        np.asarray(states.agent, np.int64),
    )


def _nearest(states, targets: str):
    """(distance int [N], target cell int [N, 2]) of the nearest target by walking distance; ties go to
    the first target in row-major order; distance UNREACHABLE (and cell -1) where none can be reached."""
    if targets not in ("keys", "chests"):
        raise ValueError(f"targets must be 'keys' or 'chests'; got {targets!r}.")
    walls, keys, chests, agent = _as_boards(states)
    n, size = len(agent), walls.shape[1]
    start = np.zeros_like(walls)
    start[np.arange(n), agent[:, 0], agent[:, 1]] = True
    from_agent = distance_map(walls, start).reshape(n, -1)  # steps from the agent to every cell
    goal = (keys if targets == "keys" else chests).reshape(n, -1)
    masked = np.where(goal, from_agent, UNREACHABLE)
    flat = masked.argmin(axis=1)  # argmin returns the first minimum: row-major tie-break
    distance = masked[np.arange(n), flat]
    cell = np.stack(np.divmod(flat, size), axis=1)
    cell[distance >= UNREACHABLE] = -1
    return distance.astype(np.int64), cell


def nearest_distance(states, targets: str = "chests") -> np.ndarray:
    """int [N]: steps from the agent to the nearest key or chest (`targets`), walking around walls;
    `heuristics.UNREACHABLE` where there is none. `states`: `Activations` or `levels.Boards`."""
    return _nearest(states, targets)[0]


def nearest_direction(states, targets: str = "keys") -> np.ndarray:
    """int [N]: in which direction the nearest key or chest (`targets`) lies, as an `Action` number.

    The nearest target is the one with the fewest steps (ties: the first in row-major order). With
    (dr, dc) = its cell minus the agent's: UP (0) or DOWN (2) when |dr| >= |dc|, by the sign of dr;
    otherwise RIGHT (1) or LEFT (3) by the sign of dc. -1 where there is no reachable target, or the
    agent stands on it. This is where the target *is*, not the first move of a shortest path.
    """
    distance, cell = _nearest(states, targets)
    agent = np.asarray(states.agent, np.int64)
    dr, dc = (cell - agent).T
    vertical = np.abs(dr) >= np.abs(dc)
    out = np.where(
        vertical,
        np.where(dr < 0, int(Action.UP), int(Action.DOWN)),
        np.where(dc > 0, int(Action.RIGHT), int(Action.LEFT)),
    )
    return np.where((distance >= UNREACHABLE) | (distance == 0), -1, out).astype(np.int64)


def moves_toward(states, actions, targets: str = "keys") -> np.ndarray:
    """bool [N]: whether each action steps onto a cell nearer (in walking steps) to the nearest key or
    chest (`targets`). A move into a wall, or on a board without such targets, is never "toward".
    `states`: `Activations` or `levels.Boards`; actions: int [N] in `rules.Action` order."""
    if targets not in ("keys", "chests"):
        raise ValueError(f"targets must be 'keys' or 'chests'; got {targets!r}.")
    walls, keys, chests, agent = _as_boards(states)
    n = len(agent)
    dist = distance_map(walls, keys if targets == "keys" else chests)
    rows = np.arange(n)
    here = dist[rows, agent[:, 0], agent[:, 1]]
    step = agent + DELTAS[np.asarray(actions, dtype=np.int64)]
    there = np.where(walls[rows, step[:, 0], step[:, 1]], here, dist[rows, step[:, 0], step[:, 1]])
    return (there < here) & (here < UNREACHABLE)
