"""Policy fields: a policy's preferred moves at every cell it could stand on, drawn over the level.

The probabilities come from `analysis.choices.field_probabilities` (a torch agent's softmax, 1/4 each
for a random policy, probability 1 on the chosen move for any other); this module only draws them.
"""

from __future__ import annotations

import numpy as np

from mesalib.agents.registry import resolve
from mesalib.analysis.choices import field_probabilities
from mesalib.analysis.episodes import policy_name
from mesalib.drawing import render
from mesalib.drawing.style import ARROW_COLOR
from mesalib.drawing.vector import legend_beside
from mesalib.env.levels import TRAIN, Level
from mesalib.env.rules import DELTAS

ARROW_XY = DELTAS[:, ::-1].astype(float)
"""(dx, dy) of each action's arrow on a drawing whose y axis points down: the move table's columns swapped."""


def policy_field(
    policy,
    level: Level,
    keys_held: int = 0,
    ax=None,
    dist=None,
    title: str | None = None,
    min_probability: float = 0.03,
):
    """Draw the policy's preferred direction at every cell it could stand on, over the level.

    At each cell of `analysis.choices.field_cells`, one arrow per action from the cell's centre, as long
    as its probability (an arrow reaching the cell's edge is probability 1); arrows below
    `min_probability` are left out. "Go to the key" shows up as arrows converging on the keys. The
    agent's disc marks the level's start cell. `policy` may be a name `agents.registry.resolve` knows.
    Returns the Axes.
    """
    import matplotlib.pyplot as plt

    policy = resolve(policy, dist or TRAIN)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.8, 4.6), layout="constrained")
    cells, probs = field_probabilities(policy, level, keys_held, dist)
    render.draw(ax, level, keys_held, title=title or f"policy field: {policy_name(policy)}")
    _draw_arrows(ax, cells, probs, min_probability)
    ax.plot(
        cells[:, 1], cells[:, 0], linestyle="none", marker="o", markersize=2.2, color=ARROW_COLOR, zorder=7
    )
    _add_arrow_to_legend(ax)
    return ax


def _draw_arrows(ax, cells: np.ndarray, probs: np.ndarray, min_probability: float) -> None:
    """One arrow per cell and action with probability at least `min_probability`, as long as 0.46 *
    the probability (in cells)."""
    show = probs >= min_probability
    if not show.any():
        return
    idx, act = np.nonzero(show)
    length = 0.46 * probs[idx, act]
    ax.quiver(
        cells[idx, 1],
        cells[idx, 0],
        ARROW_XY[act, 0] * length,
        ARROW_XY[act, 1] * length,
        angles="xy",
        scale_units="xy",
        scale=1,
        pivot="tail",
        color=ARROW_COLOR,
        width=0.0085,
        headwidth=3.6,
        headlength=3.6,
        headaxislength=3.2,
        zorder=7,
    )


def _add_arrow_to_legend(ax) -> None:
    """The board's legend (from `render.draw`), with an entry for the arrows, to the right of the board."""
    from matplotlib.lines import Line2D

    legend = ax.get_legend()
    handles = list(legend.legend_handles) if legend is not None else []
    for h, t in zip(handles, legend.get_texts() if legend is not None else []):
        h.set_label(t.get_text())
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker=r"$\rightarrow$",
            markersize=14,
            color=ARROW_COLOR,
            label="preferred move\n(length ∝ probability)",
        )
    )
    legend_beside(ax, handles)
