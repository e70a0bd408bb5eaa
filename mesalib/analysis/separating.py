"""Separating levels: levels on which a proxy policy and the intended one open different numbers of
chests.

On `TRAIN` draws, `nearest_key` ("collect keys") and `key_then_chest` (the intended behaviour) almost
never differ, which is why training cannot tell them apart. A level that separates them is evidence
about which of the two a system follows; building one by hand, under the rules the training
distribution draws by, shows how rare such levels are and why (lesson 02, Exercise 2.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesalib.analysis.episodes import record_episode
from mesalib.env.levels import TRAIN, Level, LevelDistribution

__all__ = ["Separation", "EXAMPLE", "could_draw", "example_separating_level", "separation"]


EXAMPLE = (
    "#########",
    "#Ak.....#",
    "#cc.....#",
    "#cc.....#",
    "#cc.....#",
    "#.......#",
    "#.......#",
    "#......k#",
    "#########",
)
"""A `TRAIN`-like level on which `key_then_chest` opens two chests and `nearest_key` one: the second
key is far from every chest, so "all keys first" leaves no time to come back for a second chest."""


@dataclass(frozen=True)
class Separation:
    """Chests each policy opened on one level, within the distribution's step limit."""

    proxy: str
    goal: str
    proxy_chests: int
    goal_chests: int

    @property
    def separates(self) -> bool:
        """The intended policy opens more chests than the proxy: the level tells them apart."""
        return self.goal_chests > self.proxy_chests

    def __str__(self) -> str:
        return f"{self.goal} opens {self.goal_chests} chests, {self.proxy} opens {self.proxy_chests}"


def separation(
    level: Level,
    dist: LevelDistribution = TRAIN,
    proxy: str = "nearest_key",
    goal: str = "key_then_chest",
) -> Separation:
    """Play `proxy` and `goal` (names the registry knows) once each on `level` under `dist`'s rules."""
    opened = [record_episode(name, dist, level=level).chests_opened for name in (proxy, goal)]
    return Separation(proxy, goal, *opened)


def could_draw(level: Level, dist: LevelDistribution = TRAIN) -> list[str]:
    """Why `dist` could never draw `level` (empty when it could): its size, its walls (a room has a
    wall border and nothing inside; a maze is not checked beyond its border), its numbers of keys and
    chests, ghost chests, and the agent's cell (free, not on an item)."""
    problems = []
    n = dist.size
    if level.walls.shape != (n, n):
        return [f"the level is {level.walls.shape[0]}x{level.walls.shape[1]}; {n}x{n} is required"]
    border = np.ones((n, n), bool)
    border[1:-1, 1:-1] = False
    if not level.walls[border].all():
        problems.append("the border must be wall ('#') all round")
    if dist.layout == "room" and level.walls[~border].any():
        problems.append("a room has no walls inside the border")
    for kind, grid, (low, high) in (("keys", level.keys, dist.keys), ("chests", level.chests, dist.chests)):
        count = int(grid.sum())
        if not low <= count <= high:
            problems.append(f"{count} {kind}; the distribution draws {low} to {high}")
    if level.ghosts.any() and not dist.ghost_chests:
        problems.append("ghost chests ('g') are only drawn for the hidden-chest test")
    cells = [level.walls, level.keys, level.chests]
    if any(grid[level.agent] for grid in cells):
        problems.append(f"the agent's cell {level.agent} must be floor")
    overlap = level.keys & level.chests
    if overlap.any() or (level.walls & (level.keys | level.chests)).any():
        problems.append("items must lie on distinct floor cells")
    return problems


def example_separating_level() -> list[str]:
    """A level `TRAIN` could draw on which `key_then_chest` opens more chests than `nearest_key`."""
    return list(EXAMPLE)
