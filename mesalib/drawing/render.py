"""Pictures of a level: an RGB array (NumPy only), a matplotlib figure, and plain text.

Three views of one board, for three uses:

- `rgb_array` (from `env.pictures`) backs Gymnasium's ``render_mode="rgb_array"`` and videos. It needs only
  NumPy, so the core environment stays light: matplotlib is imported only inside `draw`.
- `draw` (from `vector`) makes the figures of the lessons: vector shapes that stay sharp at any size, a
  legend, and an optional trajectory.
- `text` (from `env.pictures`) prints a board in a terminal or a doctest, one character per cell
  (see `LEGEND`).

All three use the same colours and shapes (`env.sprites`), so a learner who can read one picture can read
the others.
"""

from __future__ import annotations

from mesalib.drawing.vector import draw
from mesalib.env.pictures import LEGEND, rgb_array, text
from mesalib.env.sprites import (
    AGENT_COLOR,
    CHEST_COLOR,
    FLOOR_COLOR,
    GHOST_COLOR,
    GRID_COLOR,
    KEY_COLOR,
    LATCH_COLOR,
    OUTLINE_COLOR,
    TRAJECTORY_COLOR,
    WALL_COLOR,
    WALL_EDGE_COLOR,
)

__all__ = [
    "AGENT_COLOR",
    "CHEST_COLOR",
    "FLOOR_COLOR",
    "GHOST_COLOR",
    "GRID_COLOR",
    "KEY_COLOR",
    "LATCH_COLOR",
    "LEGEND",
    "OUTLINE_COLOR",
    "TRAJECTORY_COLOR",
    "WALL_COLOR",
    "WALL_EDGE_COLOR",
    "draw",
    "rgb_array",
    "text",
]
