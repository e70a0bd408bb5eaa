"""A number in every cell of a grid, drawn so that a learner can read it: heat maps of a measurement
(lesson 06) and value maps over a level (lesson 09).

Colour shows the pattern, the number the exact value. Both figures are at most 9 inches wide, so the
inline backend shows them at their true size and `style.CELL_NUMBER_PT` stays legible
(`style.small_texts` finds any text that is not).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from mesalib.drawing import render
from mesalib.drawing.style import CELL_NUMBER_PT, OKABE_ITO
from mesalib.drawing.vector import legend_handles
from mesalib.env.levels import Level

PEAK_COLOR = OKABE_ITO["vermillion"]
"""The frame around a local maximum of a value map."""


def heatmaps(
    grids: dict[str, np.ndarray],
    *,
    label: str,
    xlabel: str,
    ylabel: str,
    cmap: str = "PuOr_r",
    limits: tuple[float, float] = (-1.0, 1.0),
    fmt: str = "{:+.1f}",
    columns: int = 3,
) -> Figure:
    """One heat map per entry of `grids` (title -> float [rows, cols], NaN where there is nothing), in
    rows of `columns` panels, the number `fmt` gives in every cell, and one colour bar (`label`).

    Row 0 is at the bottom and the ticks count from 1, as for distances. Text on the darkest colours
    is white. Returns the Figure (9 inches wide: it is shown at its true size).
    """
    import matplotlib.pyplot as plt

    rows = -(-len(grids) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(9, 3.2 * rows), layout="constrained", squeeze=False)
    low, high = limits
    image = None
    for ax, (title, grid) in zip(axes.flat, grids.items()):
        grid = np.asarray(grid, dtype=float)
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=low, vmax=high, origin="lower")
        dark = np.abs(grid - (low + high) / 2) > 0.3 * (high - low)
        for (i, j), v in np.ndenumerate(grid):
            if not np.isnan(v):
                color = "white" if dark[i, j] else "black"
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=CELL_NUMBER_PT, color=color)
        ax.set_xticks(range(grid.shape[1]), [str(k) for k in range(1, grid.shape[1] + 1)])
        ax.set_yticks(range(grid.shape[0]), [str(k) for k in range(1, grid.shape[0] + 1)])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize="medium")
    for ax in axes.flat[len(grids) :]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label=label)
    return fig


def value_maps(
    maps: dict[str, np.ndarray],
    level: Level,
    *,
    peaks: dict[str, np.ndarray] | None = None,
    label: str = "learned value V",
    cmap: str = "cividis",
    fmt: str = "{:.2f}",
) -> Figure:
    """The level once per entry of `maps` (title -> float [size, size], NaN on walls), side by side,
    each cell tinted by its value and labelled with it; `peaks` (title -> bool [size, size]) frames
    cells, the local maxima. One colour scale for all maps, one legend and one colour bar below.

    The number sits in the cell's bottom strip, white with a dark outline, so it stays readable over
    the floor, the tint and the items. Returns the Figure (9 inches wide).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, len(maps), figsize=(9, 5.6), layout="constrained", squeeze=False)
    low = min(float(np.nanmin(v)) for v in maps.values())
    high = max(float(np.nanmax(v)) for v in maps.values())
    image = None
    for ax, (title, values) in zip(axes.flat, maps.items()):
        render.draw(ax, level, title=title)
        ax.get_legend().remove()
        image = ax.imshow(values, cmap=cmap, vmin=low, vmax=high, alpha=0.75, zorder=0.5)
        _cell_numbers(ax, values, fmt)
        if peaks is not None and title in peaks:
            _frame_cells(ax, peaks[title])
    handles = legend_handles()
    if peaks is not None:
        # A swatch of the legend's own size: a frame as large as a cell would cover its label.
        frame = Line2D([], [], linestyle="none", marker="s", markersize=11, markerfacecolor="none")
        frame.set(markeredgecolor=PEAK_COLOR, markeredgewidth=2.0, label="local maximum")
        handles.append(frame)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    if image is not None:
        fig.colorbar(image, ax=axes, location="bottom", shrink=0.6, aspect=40, label=label)
    return fig


def _cell_numbers(ax, values: np.ndarray, fmt: str) -> None:
    """The value of every non-NaN cell, in the cell's bottom strip, white with a dark outline."""
    from matplotlib import patheffects

    outline = [patheffects.withStroke(linewidth=2.2, foreground="black")]
    for r, c in np.argwhere(~np.isnan(values)):
        ax.text(
            c,
            r + 0.3,
            fmt.format(values[r, c]),
            ha="center",
            va="center",
            fontsize=CELL_NUMBER_PT,
            color="white",
            zorder=10,
            path_effects=outline,
        )


def _frame_cells(ax, cells: np.ndarray) -> None:
    """A square frame just inside each True cell of `cells`."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    frames = [Rectangle((c - 0.44, r - 0.44), 0.88, 0.88) for r, c in np.argwhere(cells)]
    ax.add_collection(
        PatchCollection(frames, facecolor="none", edgecolor=PEAK_COLOR, linewidth=2.4, zorder=9)
    )
