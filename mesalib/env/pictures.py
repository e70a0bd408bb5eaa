"""A level as an RGB image (NumPy only) and as text: the pictures of Gymnasium's render modes.

`rgb_array` backs Gymnasium's ``render_mode="rgb_array"`` and videos of training, so it must be fast
and light: every cell picture (a "tile") is painted once per cell size and cached, and an image is then
one gather of tiles. Shapes are signed distances (negative inside), which makes outlines easy: the
outline of a shape is the same shape grown by one pixel, painted first in a dark colour.
"""

from __future__ import annotations

import functools

import numpy as np

from mesalib.env.levels import Level
from mesalib.env.sprites import (
    AGENT_COLOR,
    AGENT_RADIUS,
    CHEST_BODY,
    CHEST_COLOR,
    CHEST_LATCH,
    CHEST_LID_Y,
    CHEST_ROUNDING,
    FLOOR_COLOR,
    GHOST_COLOR,
    GRID_COLOR,
    KEY_BARS,
    KEY_COLOR,
    KEY_RING,
    LATCH_COLOR,
    OUTLINE_COLOR,
    PIP_SCALE,
    WALL_COLOR,
    WALL_EDGE_COLOR,
    lighter,
    rgb,
)

# What a cell can show. The agent adds N_KINDS: it is drawn over whatever it stands on (a chest,
# a ghost chest, or floor), so there is one pre-drawn tile for every (cell kind, agent?) pair.
FLOOR, WALL, KEY, CHEST, GHOST, HELD = range(6)
N_KINDS = 6
_SUPERSAMPLING = 4
"""Shapes are sampled 4x4 times per pixel and averaged, which smooths their edges (anti-aliasing)."""


def rgb_array(level: Level, keys_held: int = 0, cell: int = 12, show_ghosts: bool = False) -> np.ndarray:
    """The level as a uint8 image of shape (size * cell, size * cell, 3).

    Keys held are shown as small keys on the top wall row, one per key (at most one per column).
    Every cell picture is drawn once per `cell` size and cached, so rendering is one gather and one
    copy (well under a millisecond for a 9x9 level): fast enough for videos of training.
    """
    if keys_held < 0:
        raise ValueError(f"keys_held must be >= 0; got {keys_held}.")
    n = level.size
    kind = cell_kinds(level, keys_held, show_ghosts)
    tiles = _tiles(int(cell))[kind]  # (n, n, cell, cell, 3): row, col, y, x, rgb
    return tiles.transpose(0, 2, 1, 3, 4).reshape(n * cell, n * cell, 3)


def cell_kinds(level: Level, keys_held: int = 0, show_ghosts: bool = False) -> np.ndarray:
    """Which tile each cell shows: a kind (FLOOR ... HELD), plus N_KINDS where the agent stands."""
    n = level.size
    kind = np.full((n, n), FLOOR, np.intp)
    kind[level.walls] = WALL
    kind[level.keys] = KEY
    kind[level.chests] = CHEST
    if show_ghosts:
        kind[level.ghosts] = GHOST
    kind[0, : min(int(keys_held), n)] = HELD
    kind[level.agent] += N_KINDS
    return kind


# --------------------------------------------------------------------------------------------------
# Shapes as signed distances, in cell units (negative inside)


def _circle(y, x, cy, cx, r):
    return np.hypot(y - cy, x - cx) - r


def _box(y, x, cy, cx, hy, hx, rounding=0.0):
    """A box with rounded corners."""
    qy = np.abs(y - cy) - hy + rounding
    qx = np.abs(x - cx) - hx + rounding
    return np.hypot(np.maximum(qy, 0), np.maximum(qx, 0)) + np.minimum(np.maximum(qy, qx), 0) - rounding


def _key(y, x, scale=1.0):
    """The key glyph, shrunk by `scale` around the cell's centre."""
    y, x = (y - 0.5) / scale + 0.5, (x - 0.5) / scale + 0.5
    cy, cx, outer, inner = KEY_RING
    bow = np.abs(_circle(y, x, cy, cx, (outer + inner) / 2)) - (outer - inner) / 2
    bars = [_box(y, x, *bar) for bar in KEY_BARS]
    return np.minimum.reduce([bow, *bars]) * scale


# --------------------------------------------------------------------------------------------------
# Painting the tiles


class _Painter:
    """Paints shapes given as signed distances onto tiles of `cell` x `cell` pixels."""

    def __init__(self, cell: int):
        if cell < 4:
            raise ValueError(f"cell must be at least 4 pixels; got {cell}.")
        self.cell = cell
        fine = cell * _SUPERSAMPLING
        self.y, self.x = (np.indices((fine, fine)) + 0.5) / fine  # sample points, in cell units
        self.px = 1.0 / cell  # one pixel, in cell units: the width of an outline

    def paint(self, tile, distance, color):
        """`tile` with the inside of `distance` filled in `color` (edge pixels partly)."""
        n, ss = self.cell, _SUPERSAMPLING
        cover = (distance < 0).reshape(n, ss, n, ss).mean(axis=(1, 3))[..., None]
        return tile * (1 - cover) + cover * rgb(color)

    def outlined(self, tile, distance, color):
        """`paint`, with a one-pixel dark outline around the shape."""
        return self.paint(self.paint(tile, distance - self.px, OUTLINE_COLOR), distance, color)

    def plain(self, color, edge_color):
        """A tile of one colour that draws its own top and left edge (the grid, or the wall seams)."""
        tile = np.broadcast_to(rgb(color), (self.cell, self.cell, 3)).copy()
        tile[0, :] = tile[:, 0] = rgb(edge_color)
        return tile


def _chest_tiles(p: _Painter, floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The chest (body, lid line, latch) and the ghost chest (the same body, outline only)."""
    y, x = p.y, p.x
    body = _box(y, x, *CHEST_BODY, rounding=CHEST_ROUNDING)
    chest = p.outlined(floor, body, CHEST_COLOR)
    lid = np.maximum(body + p.px, np.abs(y - CHEST_LID_Y) - p.px / 2)  # a line across the body
    chest = p.paint(chest, lid, OUTLINE_COLOR)
    chest = p.outlined(chest, _box(y, x, *CHEST_LATCH), LATCH_COLOR)
    ghost = p.paint(floor, np.abs(body) - 0.75 * p.px, GHOST_COLOR)
    return chest, ghost


def _with_agent(p: _Painter, tile: np.ndarray) -> np.ndarray:
    """The agent, a disc with a highlight that makes it read as a ball, over `tile`."""
    blob = _circle(p.y, p.x, 0.5, 0.5, AGENT_RADIUS)
    shine = _circle(p.y, p.x, 0.4, 0.4, AGENT_RADIUS / 3)
    return p.paint(p.outlined(tile, blob, AGENT_COLOR), shine, lighter(AGENT_COLOR))


@functools.cache
def _tiles(cell: int) -> np.ndarray:
    """Every cell picture at this size, shape (2 * N_KINDS, cell, cell, 3), indexed by kind."""
    p = _Painter(cell)
    floor = p.plain(FLOOR_COLOR, GRID_COLOR)
    wall = p.plain(WALL_COLOR, WALL_EDGE_COLOR)
    chest, ghost = _chest_tiles(p, floor)
    key = p.outlined(floor, _key(p.y, p.x), KEY_COLOR)
    held = p.paint(wall, _key(p.y, p.x, PIP_SCALE), KEY_COLOR)
    tiles = [floor, wall, key, chest, ghost, held]  # in the order FLOOR ... HELD
    tiles += [_with_agent(p, tile) for tile in tiles]
    out = np.round(np.stack(tiles)).astype(np.uint8)
    out.flags.writeable = False  # shared by every call: keep it safe from accidental edits
    return out


LEGEND = "# wall   . floor   k key   c chest   A agent   g ghost chest (only when shown)"
"""What each character of `text` means."""


def text(level: Level, keys_held: int = 0, show_ghosts: bool = False) -> str:
    """The level as text, one character per cell (see `LEGEND`), then a line ``keys held: N``.

    >>> walls = np.ones((4, 4), bool)
    >>> walls[1:3, 1:3] = False
    >>> keys, chests = np.zeros((4, 4), bool), np.zeros((4, 4), bool)
    >>> keys[1, 2] = chests[2, 1] = True
    >>> print(text(Level(walls, keys, chests, np.zeros((4, 4), bool), agent=(1, 1)), keys_held=1))
    ####
    #Ak#
    #c.#
    ####
    keys held: 1
    """
    chars = np.full(level.walls.shape, ".", dtype="<U1")
    chars[level.walls] = "#"
    if show_ghosts:
        chars[level.ghosts] = "g"
    chars[level.chests] = "c"
    chars[level.keys] = "k"
    chars[level.agent] = "A"  # the agent may stand on a chest; it hides it, as in the pictures
    return "\n".join(["".join(row) for row in chars] + [f"keys held: {int(keys_held)}"])


def level_from_text(picture, agent: tuple[int, int] | None = None) -> Level:
    """The level a text picture shows: the inverse of `text` (ghost chests as ``g``; a ``keys held``
    line, if present, is ignored). Lets people draw levels by hand, e.g. to build a level on which
    two policies disagree. Bad pictures are refused with the row and column of the problem. `agent`
    is the start cell for a picture without an ``A`` (one with an ``A`` must not give it).

    >>> level = level_from_text(["####", "#Ak#", "#c.#", "####"])
    >>> level.agent, int(level.keys.sum()), int(level.chests.sum())
    ((1, 1), 1, 1)
    """
    rows = picture.splitlines() if isinstance(picture, str) else list(picture)
    if not all(isinstance(row, str) for row in rows):
        raise ValueError(f"a level picture is a string or a list of strings; got {picture!r}")
    rows = [row.strip() for row in rows if row.strip() and not row.strip().startswith("keys held")]
    if not rows or any(len(row) != len(rows[0]) for row in rows):
        lengths = [len(row) for row in rows]
        raise ValueError(f"every row of a level picture has the same length; got row lengths {lengths}")
    allowed = "#.kcAg"
    for r, row in enumerate(rows):
        for c, char in enumerate(row):
            if char not in allowed:
                raise ValueError(f"row {r}, column {c}: {char!r} is not a level character; allowed: {LEGEND}")
    grid = np.array([list(row) for row in rows])
    agents = [(int(r), int(c)) for r, c in np.argwhere(grid == "A")]
    if agent is not None and not agents:
        agents = [(int(agent[0]), int(agent[1]))]
    if len(agents) != 1:
        raise ValueError(f"a level picture has exactly one agent 'A'; this one has {len(agents)}")
    return Level(walls=grid == "#", keys=grid == "k", chests=grid == "c", ghosts=grid == "g", agent=agents[0])
