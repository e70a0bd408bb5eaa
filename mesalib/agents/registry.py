"""Every agent the course can name: heuristics and the planner by name, shipped checkpoints by name,
and checkpoint files by path. The command line, the plots and the analysis all resolve names here."""

from __future__ import annotations

from mesalib.agents.heuristics import KeyThenChest, NearestKey, RandomPolicy, WallFollower
from mesalib.agents.objectives import CHESTS
from mesalib.agents.planner import Planner
from mesalib.env.levels import LevelDistribution


def _planner_factory(seed: int = 0, dist: LevelDistribution | None = None) -> Planner:
    return Planner(CHESTS, max_steps=20 if dist is None else int(dist.max_steps), seed=seed)


POLICIES = {
    "random": lambda seed=0, dist=None: RandomPolicy(seed),
    "nearest_key": lambda seed=0, dist=None: NearestKey(),
    "key_then_chest": lambda seed=0, dist=None: KeyThenChest(),
    "wall_follower": lambda seed=0, dist=None: WallFollower(seed),
    "planner": _planner_factory,
}
"""name -> factory(seed=0, dist=None) for the command line; `dist` tells the planner the step limit."""
