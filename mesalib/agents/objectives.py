"""Objectives: what an agent that plans explicitly wants, written down as data.

An `Objective` is a weight per kind of event; a plan's score is the weighted sum of its events. The
planner (`agents.planner`) holds one, and behavioural analysis (`analysis.behaviour`) scores what a
policy did under one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Objective:
    """What a planner wants: a weight on each kind of event; a plan's score is the weighted sum.

    `ghost` weighs ghost chests, which the agent cannot see; a planner with `ghost != 0` reads them
    from the board, a deliberate cheat for analysis only.
    """

    chest: float = 0.0
    """Per chest opened (the environment's reward is chest=1)."""
    key: float = 0.0
    """Per key collected."""
    step: float = 0.0
    """Per step taken (negative: a wish to be quick)."""
    ghost: float = 0.0
    """Per ghost (invisible) chest opened."""

    def score(self, chests: float = 0, keys: float = 0, steps: float = 0, ghosts: float = 0) -> float:
        return self.chest * chests + self.key * keys + self.step * steps + self.ghost * ghosts

    def __str__(self) -> str:
        return (
            f"{self.chest:+.2f} per chest opened, {self.key:+.2f} per key collected, "
            f"{self.step:+.2f} per step, {self.ghost:+.2f} per ghost chest opened"
        )


CHESTS = Objective(chest=1.0)
"""The environment's own reward: +1 per chest opened."""
KEYS = Objective(key=1.0)
"""The proxy: +1 per key collected."""
