"""A level drawn with matplotlib: vector shapes that stay sharp at any size, a legend, a trajectory.

`draw` makes the figures of the lessons. It paints in layers, bottom to top (the `zorder`s below): the
floor grid, walls, chests, keys, the agent, then the trajectory on top. matplotlib is imported inside
the functions, so importing this module (and `render`) stays as light as NumPy.
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
    TRAJECTORY_COLOR,
    WALL_COLOR,
    WALL_EDGE_COLOR,
    lighter,
)

_ROUNDED = f"round,pad=0,rounding_size={CHEST_ROUNDING}"


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

    if keys_held < 0:
        raise ValueError(f"keys_held must be >= 0; got {keys_held}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    _draw_floor_and_walls(ax, level)
    _draw_keys(ax, _cells(level.keys), 1.0, outline=True)
    _draw_keys(ax, [(0, c) for c in range(min(int(keys_held), level.size))], PIP_SCALE, outline=False)
    _draw_chests(ax, _cells(level.chests))
    if show_ghosts:
        _draw_ghost_chests(ax, _cells(level.ghosts))
    _draw_agent(ax, level.agent)
    handles = legend_handles(show_ghosts)
    if trajectory is not None and len(trajectory) > 0:
        handles += _draw_trajectory(ax, np.asarray(trajectory, dtype=float).reshape(-1, 2))
    legend_beside(ax, handles)
    _frame(ax, level.size, keys_held, title)
    return ax


def _cells(grid) -> list[tuple[int, int]]:
    """The (row, col) of every True cell of a boolean grid."""
    return [(int(r), int(c)) for r, c in np.argwhere(grid)]


def _box(
    r: int, c: int, cy: float, cx: float, hy: float, hx: float
) -> tuple[tuple[float, float], float, float]:
    """A box given in cell units, placed in cell (r, c): the (corner, width, height) of a Rectangle."""
    return (c + cx - hx - 0.5, r + cy - hy - 0.5), 2 * hx, 2 * hy


def legend_beside(ax, handles) -> None:
    """The board's legend, to the right of the board, where it never covers a cell."""
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        fontsize="small",
        handlelength=1.6,
        borderaxespad=0,
    )


def _draw_floor_and_walls(ax, level: Level) -> None:
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import Rectangle

    n = level.size
    ax.set_facecolor(FLOOR_COLOR)
    lines = [[(i - 0.5, -0.5), (i - 0.5, n - 0.5)] for i in range(n + 1)]
    lines += [[(-0.5, i - 0.5), (n - 0.5, i - 0.5)] for i in range(n + 1)]
    ax.add_collection(LineCollection(lines, colors=GRID_COLOR, linewidths=0.8, zorder=0))
    walls = [Rectangle((c - 0.5, r - 0.5), 1, 1) for r, c in _cells(level.walls)]
    ax.add_collection(
        PatchCollection(walls, facecolor=WALL_COLOR, edgecolor=WALL_EDGE_COLOR, linewidth=0.6, zorder=1)
    )


def _draw_keys(ax, where: list[tuple[int, int]], scale: float, outline: bool) -> None:
    """Keys in cells `where`; keys held are smaller (`scale`) and drawn without an outline."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch

    paths = [PathPatch(_key_path().transformed(_cell_transform(r, c, scale))) for r, c in where]
    if outline:  # a thick dark copy underneath gives the whole glyph one clean outline
        ax.add_collection(
            PatchCollection(paths, facecolor=OUTLINE_COLOR, edgecolor=OUTLINE_COLOR, linewidth=1.6, zorder=3)
        )
    ax.add_collection(PatchCollection(paths, facecolor=KEY_COLOR, edgecolor="none", zorder=3.1))


def _draw_chests(ax, chests: list[tuple[int, int]]) -> None:
    """Each chest: a rounded body, the line between lid and box, and a latch."""
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.patches import FancyBboxPatch, Rectangle

    bodies = [FancyBboxPatch(*_box(r, c, *CHEST_BODY), boxstyle=_ROUNDED) for r, c in chests]
    ax.add_collection(
        PatchCollection(bodies, facecolor=CHEST_COLOR, edgecolor=OUTLINE_COLOR, linewidth=1.0, zorder=2)
    )
    _, cx, _, hx = CHEST_BODY
    lids = [
        [(c + cx - hx - 0.5, r + CHEST_LID_Y - 0.5), (c + cx + hx - 0.5, r + CHEST_LID_Y - 0.5)]
        for r, c in chests
    ]
    ax.add_collection(LineCollection(lids, colors=OUTLINE_COLOR, linewidths=1.0, zorder=2.1))
    latches = [Rectangle(*_box(r, c, *CHEST_LATCH)) for r, c in chests]
    ax.add_collection(
        PatchCollection(latches, facecolor=LATCH_COLOR, edgecolor=OUTLINE_COLOR, linewidth=0.8, zorder=2.2)
    )


def _draw_ghost_chests(ax, ghosts: list[tuple[int, int]]) -> None:
    """Ghost chests (hidden from the agent): the chest's outline, dashed."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import FancyBboxPatch

    outlines = [FancyBboxPatch(*_box(r, c, *CHEST_BODY), boxstyle=_ROUNDED) for r, c in ghosts]
    ax.add_collection(
        PatchCollection(
            outlines, facecolor="none", edgecolor=GHOST_COLOR, linewidth=1.6, linestyle="--", zorder=2
        )
    )


def _draw_agent(ax, agent: tuple[int, int]) -> None:
    """A disc with a highlight: it reads as a ball."""
    from matplotlib.patches import Circle

    r, c = agent
    ax.add_patch(
        Circle((c, r), AGENT_RADIUS, facecolor=AGENT_COLOR, edgecolor=OUTLINE_COLOR, linewidth=1.0, zorder=5)
    )
    highlight = Circle(
        (c - 0.1, r - 0.1), AGENT_RADIUS / 3, facecolor=lighter(AGENT_COLOR), edgecolor="none", zorder=5.1
    )
    ax.add_patch(highlight)


def legend_handles(show_ghosts: bool = False) -> list:
    """Legend entries that look like the sprites: wall, key, chest, agent (and ghost chest)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    key_marker = _key_path().transformed(_flip())
    handles = [
        Patch(facecolor=WALL_COLOR, edgecolor=WALL_EDGE_COLOR, label="wall"),
        Line2D(
            [],
            [],
            linestyle="none",
            marker=key_marker,
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
        ghost_label = "ghost chest\n(hidden from agent)"
        handles.append(
            Patch(facecolor="none", edgecolor=GHOST_COLOR, linestyle="--", linewidth=1.4, label=ghost_label)
        )
    return handles


def _draw_trajectory(ax, path: np.ndarray) -> list:
    """The path of (row, col) cells as a line with an arrow on every move, from a hollow start marker
    to a filled end marker. Returns the three for the legend."""
    rows, cols = path[:, 0], path[:, 1]
    color, zorder = TRAJECTORY_COLOR, 6
    (line,) = ax.plot(
        cols,
        rows,
        linewidth=2.2,
        alpha=0.85,
        solid_capstyle="round",
        solid_joinstyle="round",
        label="trajectory",
        color=color,
        zorder=zorder,
    )
    _draw_move_arrows(ax, path)
    (start,) = ax.plot(
        cols[:1],
        rows[:1],
        linestyle="none",
        marker="o",
        markersize=8,
        markerfacecolor="white",
        markeredgewidth=2,
        label="start",
        color=color,
        zorder=zorder,
    )
    (end,) = ax.plot(
        cols[-1:],
        rows[-1:],
        linestyle="none",
        marker="s",
        markersize=7,
        markeredgecolor="white",
        label="end",
        color=color,
        zorder=zorder,
    )
    return [line, start, end]


def _draw_move_arrows(ax, path: np.ndarray) -> None:
    """An arrow in the middle of every move shows the direction (staying put draws none)."""
    from matplotlib.patches import FancyArrowPatch

    for (r0, c0), (r1, c1) in zip(path[:-1], path[1:]):
        if (r0, c0) == (r1, c1):
            continue
        mid, step = np.array([c0 + c1, r0 + r1]) / 2, np.array([c1 - c0, r1 - r0])
        tail, head = mid - 0.12 * step, mid + 0.12 * step
        arrow = FancyArrowPatch(
            (float(tail[0]), float(tail[1])),
            (float(head[0]), float(head[1])),
            arrowstyle="-|>",
            mutation_scale=13,
            linewidth=0,
            color=TRAJECTORY_COLOR,
            zorder=6,
        )
        ax.add_patch(arrow)


def _frame(ax, n: int, keys_held: int, title: str | None) -> None:
    """Title (ending with the keys held), limits with row 0 at the top, and no ticks or spines."""
    held = f"keys held: {int(keys_held)}"
    ax.set_title(f"{title}  ({held})" if title else held)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


@functools.cache
def _key_path():
    """The key glyph as one matplotlib Path, centred on (0, 0), in cell units, y down."""
    from matplotlib.patches import Wedge
    from matplotlib.path import Path
    from matplotlib.transforms import Affine2D

    cy, cx, outer, inner = KEY_RING
    bow = Wedge((cx, cy), outer, 0, 360, width=outer - inner).get_path()  # a ring, hole included
    bars = [
        Path.unit_rectangle().transformed(Affine2D().scale(2 * hx, 2 * hy).translate(bx - hx, by - hy))
        for by, bx, hy, hx in KEY_BARS
    ]
    return Path.make_compound_path(bow, *bars).transformed(Affine2D().translate(-0.5, -0.5))


def _cell_transform(r, c, scale):
    from matplotlib.transforms import Affine2D

    return Affine2D().scale(scale).translate(c, r)


def _flip():
    """Markers are drawn with y up; the board has y down."""
    from matplotlib.transforms import Affine2D

    return Affine2D().scale(1, -1)
