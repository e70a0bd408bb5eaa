"""Pictures of a level: an RGB array (NumPy only), a matplotlib figure, and plain text.

Three views of one board, for three uses:

- `rgb_array` backs Gymnasium's ``render_mode="rgb_array"`` and videos. It needs only NumPy, so the
  core environment stays light: this module imports matplotlib only inside `draw`.
- `draw` makes the figures of the lessons: vector shapes that stay sharp at any size, a legend, and
  an optional trajectory.
- `text` prints a board in a terminal or a doctest, one character per cell (see `LEGEND`).

All three use the same colours and shapes, so a learner who can read one picture can read the others.
The items take their colours from the Okabe-Ito palette, chosen to stay distinguishable under the
common colour-vision deficiencies; the shapes differ too, so nothing relies on colour alone.
"""

from __future__ import annotations

import functools

import numpy as np

from mesalib.env.levels import Level

# Colours. Walls and floor are neutral; every item colour is from the Okabe-Ito palette
# (Okabe & Ito 2008, "Color Universal Design"), which is colour-blind safe.
WALL_COLOR = "#2E3138"  # dark slate
WALL_EDGE_COLOR = "#41454F"  # faint seams between wall blocks
FLOOR_COLOR = "#F3F0E8"  # warm off-white
GRID_COLOR = "#DCD7CA"  # faint grid lines on the floor
OUTLINE_COLOR = "#1B1B1F"  # near black, around items
KEY_COLOR = "#E69F00"  # Okabe-Ito orange
CHEST_COLOR = "#0072B2"  # Okabe-Ito blue
LATCH_COLOR = "#F0E442"  # Okabe-Ito yellow
AGENT_COLOR = "#D55E00"  # Okabe-Ito vermillion
GHOST_COLOR = "#CC79A7"  # Okabe-Ito reddish purple
TRAJECTORY_COLOR = "#009E73"  # Okabe-Ito bluish green

LEGEND = "# wall   . floor   k key   c chest   A agent   g ghost chest (only when shown)"
"""What each character of `text` means."""

# Sprite geometry in cell units, shared by `rgb_array` and `draw` so the two pictures match:
# (0, 0) is a cell's top-left corner and (1, 1) its bottom-right; y grows downwards.
# Boxes are (centre_y, centre_x, half_height, half_width).
_KEY_RING = (0.5, 0.28, 0.21, 0.09)  # centre_y, centre_x, outer radius, inner radius (the bow)
_KEY_BARS = ((0.5, 0.62, 0.065, 0.22), (0.62, 0.77, 0.12, 0.055), (0.6, 0.62, 0.1, 0.045))  # shaft, teeth
_CHEST_BODY = (0.56, 0.5, 0.27, 0.37)
_CHEST_LID_Y = 0.45  # the line between lid and box
_CHEST_LATCH = (0.5, 0.5, 0.08, 0.07)
_AGENT_RADIUS = 0.33
_PIP_SCALE = 0.8  # held keys, drawn on the top wall row, are a little smaller than keys on the floor


# --------------------------------------------------------------------------------------------------
# rgb_array: NumPy only
# --------------------------------------------------------------------------------------------------

# What a cell can show. The agent adds N_KINDS: it is drawn over whatever it stands on (a chest,
# a ghost chest, or floor), so there is one pre-drawn tile for every (cell kind, agent?) pair.
FLOOR, WALL, KEY, CHEST, GHOST, HELD = range(6)
_N_KINDS = 6


def rgb_array(level: Level, keys_held: int = 0, cell: int = 12, show_ghosts: bool = False) -> np.ndarray:
    """The level as a uint8 image of shape (size * cell, size * cell, 3).

    Keys held are shown as small keys on the top wall row, one per key (at most one per column).
    Every cell picture is drawn once per `cell` size and cached, so rendering is one gather and one
    copy (well under a millisecond for a 9x9 level): fast enough for videos of training.
    """
    if keys_held < 0:
        raise ValueError(f"keys_held must be >= 0; got {keys_held}.")
    n = level.size
    kind = np.full((n, n), FLOOR, np.intp)
    kind[level.walls] = WALL
    kind[level.keys] = KEY
    kind[level.chests] = CHEST
    if show_ghosts:
        kind[level.ghosts] = GHOST
    kind[0, : min(int(keys_held), n)] = HELD
    kind[level.agent] += _N_KINDS
    tiles = _tiles(int(cell))[kind]  # (n, n, cell, cell, 3): row, col, y, x, rgb
    return tiles.transpose(0, 2, 1, 3, 4).reshape(n * cell, n * cell, 3)


def _rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def _lighter(color: str) -> str:
    """Halfway to white."""
    return "#" + "".join(f"{int(v):02X}" for v in (_rgb(color) + 255) // 2)


def _circle(y, x, cy, cx, r):
    """Signed distance to a circle: negative inside. Shapes as distances make outlines easy."""
    return np.hypot(y - cy, x - cx) - r


def _box(y, x, cy, cx, hy, hx, rounding=0.0):
    """Signed distance to a box with rounded corners (negative inside)."""
    qy = np.abs(y - cy) - hy + rounding
    qx = np.abs(x - cx) - hx + rounding
    return np.hypot(np.maximum(qy, 0), np.maximum(qx, 0)) + np.minimum(np.maximum(qy, qx), 0) - rounding


def _key(y, x, scale=1.0):
    """Signed distance to the key glyph, shrunk by `scale` around the cell's centre."""
    y, x = (y - 0.5) / scale + 0.5, (x - 0.5) / scale + 0.5
    cy, cx, outer, inner = _KEY_RING
    bow = np.abs(_circle(y, x, cy, cx, (outer + inner) / 2)) - (outer - inner) / 2
    bars = [_box(y, x, *bar) for bar in _KEY_BARS]
    return np.minimum.reduce([bow, *bars]) * scale


@functools.cache
def _tiles(cell: int) -> np.ndarray:
    """Every cell picture at this size, shape (2 * _N_KINDS, cell, cell, 3), indexed by kind.

    Shapes are sampled 4x4 times per pixel and averaged, which smooths their edges (anti-aliasing).
    """
    if cell < 4:
        raise ValueError(f"cell must be at least 4 pixels; got {cell}.")
    ss = 4
    y, x = (np.indices((cell * ss, cell * ss)) + 0.5) / (cell * ss)
    px = 1.0 / cell  # one pixel, in cell units: the width of an outline

    def paint(tile, distance, color):
        cover = (distance < 0).reshape(cell, ss, cell, ss).mean(axis=(1, 3))[..., None]
        return tile * (1 - cover) + cover * _rgb(color)

    def outlined(tile, distance, color):
        return paint(paint(tile, distance - px, OUTLINE_COLOR), distance, color)

    floor = np.broadcast_to(_rgb(FLOOR_COLOR), (cell, cell, 3)).copy()
    floor[0, :] = floor[:, 0] = _rgb(GRID_COLOR)  # each tile draws its top and left grid line
    wall = np.broadcast_to(_rgb(WALL_COLOR), (cell, cell, 3)).copy()
    wall[0, :] = wall[:, 0] = _rgb(WALL_EDGE_COLOR)

    body = _box(y, x, *_CHEST_BODY, rounding=0.08)
    chest = outlined(floor, body, CHEST_COLOR)
    lid = np.maximum(body + px, np.abs(y - _CHEST_LID_Y) - px / 2)  # a line across the body
    chest = paint(chest, lid, OUTLINE_COLOR)
    chest = outlined(chest, _box(y, x, *_CHEST_LATCH), LATCH_COLOR)
    ghost = paint(floor, np.abs(body) - 0.75 * px, GHOST_COLOR)  # the same box, outline only

    tiles = [
        floor,
        wall,
        outlined(floor, _key(y, x), KEY_COLOR),
        chest,
        ghost,
        paint(wall, _key(y, x, _PIP_SCALE), KEY_COLOR),
    ]
    blob = _circle(y, x, 0.5, 0.5, _AGENT_RADIUS)
    shine = _circle(y, x, 0.4, 0.4, _AGENT_RADIUS / 3)  # a highlight makes the disc read as a ball
    tiles += [paint(outlined(tile, blob, AGENT_COLOR), shine, _lighter(AGENT_COLOR)) for tile in tiles]
    out = np.round(np.stack(tiles)).astype(np.uint8)
    out.flags.writeable = False  # shared by every call: keep it safe from accidental edits
    return out


# --------------------------------------------------------------------------------------------------
# draw: matplotlib, vector shapes
# --------------------------------------------------------------------------------------------------


def draw(
    ax,
    level: Level,
    keys_held: int = 0,
    *,
    show_ghosts: bool = False,
    trajectory=None,
    title: str | None = None,
):
    """Draw the level on a matplotlib Axes (or a new figure when `ax` is None) and return the Axes.

    Cell (row, col) is centred at x=col, y=row with row 0 at the top, as in `plt.imshow`, so you can
    add your own marks in cell coordinates. `trajectory` is a sequence of (row, col) cells, drawn as
    a line from a hollow start marker to a filled end marker, with an arrow on every move. The title
    ends with the number of keys held, which are also shown as small keys on the top wall row.
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Patch, PathPatch, Rectangle

    if keys_held < 0:
        raise ValueError(f"keys_held must be >= 0; got {keys_held}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    n = level.size
    ax.set_facecolor(FLOOR_COLOR)
    ax.add_collection(
        LineCollection(
            [[(i - 0.5, -0.5), (i - 0.5, n - 0.5)] for i in range(n + 1)]
            + [[(-0.5, i - 0.5), (n - 0.5, i - 0.5)] for i in range(n + 1)],
            colors=GRID_COLOR,
            linewidths=0.8,
            zorder=0,
        )
    )

    def cells(grid):
        return [(int(r), int(c)) for r, c in np.argwhere(grid)]

    def box(r, c, cy, cx, hy, hx):  # a box given in cell units, placed in cell (r, c)
        return (c + cx - hx - 0.5, r + cy - hy - 0.5), 2 * hx, 2 * hy

    ax.add_collection(
        PatchCollection(
            [Rectangle((c - 0.5, r - 0.5), 1, 1) for r, c in cells(level.walls)],
            facecolor=WALL_COLOR,
            edgecolor=WALL_EDGE_COLOR,
            linewidth=0.6,
            zorder=1,
        )
    )

    def keys_at(where, scale, outline):
        paths = [PathPatch(_key_path().transformed(_cell_transform(r, c, scale))) for r, c in where]
        if outline:  # a thick dark copy underneath gives the whole glyph one clean outline
            ax.add_collection(
                PatchCollection(
                    paths, facecolor=OUTLINE_COLOR, edgecolor=OUTLINE_COLOR, linewidth=1.6, zorder=3
                )
            )
        ax.add_collection(PatchCollection(paths, facecolor=KEY_COLOR, edgecolor="none", zorder=3.1))

    keys_at(cells(level.keys), 1.0, outline=True)
    keys_at([(0, c) for c in range(min(int(keys_held), n))], _PIP_SCALE, outline=False)

    rounded = "round,pad=0,rounding_size=0.08"
    chests = cells(level.chests)
    ax.add_collection(
        PatchCollection(
            [FancyBboxPatch(*box(r, c, *_CHEST_BODY), boxstyle=rounded) for r, c in chests],
            facecolor=CHEST_COLOR,
            edgecolor=OUTLINE_COLOR,
            linewidth=1.0,
            zorder=2,
        )
    )
    cy, cx, hy, hx = _CHEST_BODY
    ax.add_collection(
        LineCollection(
            [
                [(c + cx - hx - 0.5, r + _CHEST_LID_Y - 0.5), (c + cx + hx - 0.5, r + _CHEST_LID_Y - 0.5)]
                for r, c in chests
            ],
            colors=OUTLINE_COLOR,
            linewidths=1.0,
            zorder=2.1,
        )
    )
    ax.add_collection(
        PatchCollection(
            [Rectangle(*box(r, c, *_CHEST_LATCH)) for r, c in chests],
            facecolor=LATCH_COLOR,
            edgecolor=OUTLINE_COLOR,
            linewidth=0.8,
            zorder=2.2,
        )
    )
    if show_ghosts:
        ax.add_collection(
            PatchCollection(
                [FancyBboxPatch(*box(r, c, *_CHEST_BODY), boxstyle=rounded) for r, c in cells(level.ghosts)],
                facecolor="none",
                edgecolor=GHOST_COLOR,
                linewidth=1.6,
                linestyle="--",
                zorder=2,
            )
        )

    r, c = level.agent
    ax.add_patch(
        Circle((c, r), _AGENT_RADIUS, facecolor=AGENT_COLOR, edgecolor=OUTLINE_COLOR, linewidth=1.0, zorder=5)
    )
    ax.add_patch(
        Circle(
            (c - 0.1, r - 0.1),
            _AGENT_RADIUS / 3,
            facecolor=_lighter(AGENT_COLOR),
            edgecolor="none",
            zorder=5.1,
        )
    )  # a highlight: the disc reads as a ball

    handles = [
        Patch(facecolor=WALL_COLOR, edgecolor=WALL_EDGE_COLOR, label="wall"),
        Line2D(
            [],
            [],
            linestyle="none",
            marker=_key_path().transformed(_flip()),
            markersize=15,
            markerfacecolor=KEY_COLOR,
            markeredgecolor=OUTLINE_COLOR,
            markeredgewidth=0.8,
            label="key",
        ),
        Patch(facecolor=CHEST_COLOR, edgecolor=OUTLINE_COLOR, label="chest"),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=10,
            markerfacecolor=AGENT_COLOR,
            markeredgecolor=OUTLINE_COLOR,
            label="agent",
        ),
    ]
    if show_ghosts:
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=GHOST_COLOR,
                linestyle="--",
                linewidth=1.4,
                label="ghost chest\n(hidden from agent)",
            )
        )

    if trajectory is not None and len(trajectory) > 0:
        path = np.asarray(trajectory, dtype=float).reshape(-1, 2)
        rows, cols = path[:, 0], path[:, 1]
        style = dict(color=TRAJECTORY_COLOR, zorder=6)
        (line,) = ax.plot(
            cols,
            rows,
            linewidth=2.2,
            alpha=0.85,
            solid_capstyle="round",
            solid_joinstyle="round",
            label="trajectory",
            **style,
        )
        for (r0, c0), (r1, c1) in zip(path[:-1], path[1:]):
            if (r0, c0) != (r1, c1):  # an arrow in the middle of every move shows the direction
                mid, step = np.array([c0 + c1, r0 + r1]) / 2, np.array([c1 - c0, r1 - r0])
                ax.add_patch(
                    FancyArrowPatch(
                        mid - 0.12 * step,
                        mid + 0.12 * step,
                        arrowstyle="-|>",
                        mutation_scale=13,
                        linewidth=0,
                        **style,
                    )
                )
        (start,) = ax.plot(
            cols[:1],
            rows[:1],
            linestyle="none",
            marker="o",
            markersize=8,
            markerfacecolor="white",
            markeredgewidth=2,
            label="start",
            **style,
        )
        (end,) = ax.plot(
            cols[-1:],
            rows[-1:],
            linestyle="none",
            marker="s",
            markersize=7,
            markeredgecolor="white",
            label="end",
            **style,
        )
        handles += [line, start, end]

    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        fontsize="small",
        handlelength=1.6,
        borderaxespad=0,
    )
    held = f"keys held: {int(keys_held)}"
    ax.set_title(f"{title}  ({held})" if title else held)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)  # row 0 at the top
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


@functools.cache
def _key_path():
    """The key glyph as one matplotlib Path, centred on (0, 0), in cell units, y down."""
    from matplotlib.patches import Wedge
    from matplotlib.path import Path
    from matplotlib.transforms import Affine2D

    cy, cx, outer, inner = _KEY_RING
    bow = Wedge((cx, cy), outer, 0, 360, width=outer - inner).get_path()  # a ring, hole included
    bars = [
        Path.unit_rectangle().transformed(Affine2D().scale(2 * hx, 2 * hy).translate(bx - hx, by - hy))
        for by, bx, hy, hx in _KEY_BARS
    ]
    return Path.make_compound_path(bow, *bars).transformed(Affine2D().translate(-0.5, -0.5))


def _cell_transform(r, c, scale):
    from matplotlib.transforms import Affine2D

    return Affine2D().scale(scale).translate(c, r)


def _flip():
    """Markers are drawn with y up; the board has y down."""
    from matplotlib.transforms import Affine2D

    return Affine2D().scale(1, -1)


# --------------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------------


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
