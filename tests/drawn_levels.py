"""Levels drawn as text, for tests: the inverse of `mesalib.env.pictures.text`."""

from __future__ import annotations

import numpy as np

from mesalib.env.levels import Level


def make_level(rows):
    """A level from text: # wall, k key, c chest, g ghost chest, A agent, . floor."""
    grid = np.array([list(r) for r in rows])
    agent = np.argwhere(grid == "A")
    return Level(
        walls=grid == "#",
        keys=grid == "k",
        chests=grid == "c",
        ghosts=grid == "g",
        agent=tuple(int(v) for v in agent[0]) if len(agent) else (1, 1),
    )
