"""Every agent the course can name: heuristics and the planner by name, shipped checkpoints by name,
and checkpoint files by path. The command line, the plots and the analysis all resolve names here."""

from __future__ import annotations

from mesalib.agents.heuristics import DoNothing, KeyThenChest, NearestKey, RandomPolicy, WallFollower
from mesalib.agents.objectives import CHESTS
from mesalib.agents.planner import Planner
from mesalib.agents.selected_planner import selected_planner
from mesalib.env.levels import TRAIN, LevelDistribution, Mixture


def _planner_factory(seed: int = 0, dist: LevelDistribution | Mixture | None = None) -> Planner:
    return Planner(CHESTS, max_steps=20 if dist is None else int(dist.max_steps), seed=seed)


POLICIES = {
    "do_nothing": lambda seed=0, dist=None: DoNothing(),
    "random": lambda seed=0, dist=None: RandomPolicy(seed),
    "nearest_key": lambda seed=0, dist=None: NearestKey(),
    "key_then_chest": lambda seed=0, dist=None: KeyThenChest(),
    "wall_follower": lambda seed=0, dist=None: WallFollower(seed),
    "planner": _planner_factory,
    "selected_planner": selected_planner,
}
"""name -> factory(seed=0, dist=None) for the command line; `dist` tells the planner the step limit."""


def resolve(agent, dist: LevelDistribution | Mixture | None = None, seed: int = 0):
    """A policy from what a learner or the command line names: a policy object (returned as it is), a
    heuristic or planner name (`POLICIES`), a shipped checkpoint's name, or the path of a checkpoint file.

    `dist` tells the planner the step limit; `seed` seeds stochastic policies and sampling agents.
    """
    if not isinstance(agent, str):
        if not callable(agent):
            raise TypeError(
                f"A policy must be callable as policy(obs, boards) -> actions, or a name; got {agent!r}."
            )
        return agent
    from mesalib.agents import checkpoints

    if agent in POLICIES:
        return POLICIES[agent](seed=seed, dist=dist)
    if agent in checkpoints.RECIPES or agent.endswith(".pt") or "/" in agent:
        return checkpoints.load(agent, seed=seed)
    raise ValueError(
        f"unknown agent {agent!r}: use a policy ({', '.join(POLICIES)}), a shipped checkpoint "
        f"({', '.join(checkpoints.names())}) or the path of a .pt file."
    )


def training_distribution(
    policy, default: LevelDistribution | Mixture = TRAIN
) -> LevelDistribution | Mixture:
    """The levels a trained agent learned on (read from its checkpoint's config), else `default`.

    Analyses use it so that an agent is shown observations of the kind it was trained on (the same view
    and inventory planes), whatever item counts they then ask for.
    """
    ppo_config = getattr(policy, "ppo_config", None)
    if ppo_config is None or not getattr(policy, "config", None):
        return default
    return ppo_config().dist
