"""How a level looks in every picture: the colours and shapes of its sprites (walls, keys, chests, agent).

`env.pictures` (the NumPy image and text), `drawing.vector` (the matplotlib drawing) and the widgets
all read them from here, so a learner who can read one picture can read the others. The items take
their colours from the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), chosen to stay
distinguishable under the common colour-vision deficiencies; the shapes differ too, so nothing relies
on colour alone. NumPy only: the environment's ``render_mode="rgb_array"`` imports this.
"""

from __future__ import annotations

import numpy as np

# Walls and floor are neutral; every item colour is from the Okabe-Ito palette.
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

# Sprite geometry in cell units: (0, 0) is a cell's top-left corner and (1, 1) its bottom-right;
# y grows downwards. Boxes are (centre_y, centre_x, half_height, half_width).
KEY_RING = (0.5, 0.28, 0.21, 0.09)
"""The key's bow, a ring: centre_y, centre_x, outer radius, inner radius."""
KEY_BARS = ((0.5, 0.62, 0.065, 0.22), (0.62, 0.77, 0.12, 0.055), (0.6, 0.62, 0.1, 0.045))
"""The key's shaft and its two teeth, as boxes."""
CHEST_BODY = (0.56, 0.5, 0.27, 0.37)
CHEST_LID_Y = 0.45
"""The line between the chest's lid and its box."""
CHEST_LATCH = (0.5, 0.5, 0.08, 0.07)
CHEST_ROUNDING = 0.08
"""The radius of the chest's rounded corners."""
AGENT_RADIUS = 0.33
PIP_SCALE = 0.8
"""Held keys, drawn on the top wall row, are a little smaller than keys on the floor."""


def rgb(color: str) -> np.ndarray:
    """A "#RRGGBB" colour as three floats in 0..255."""
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def lighter(color: str) -> str:
    """Halfway to white: the agent's highlight, which makes its disc read as a ball."""
    return "#" + "".join(f"{int(v):02X}" for v in (rgb(color) + 255) // 2)
