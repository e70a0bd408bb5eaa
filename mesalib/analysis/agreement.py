"""Do two policies make the same moves? Plainly, and allowing for ties.

The plain **agreement rate** lets one policy play and asks, on every board it meets, whether another
policy would choose the same move. It is easy to read but confounded by ties: when several moves are
equally good for the other policy, which one it picks is an accident of its tie-breaking, so two
policies can "disagree" on a board although both moves serve the same goal equally well.

When the other policy has an explicit objective (a `Planner`), we can ask instead whether the
observed move is *among* its optimal moves: those whose score under its objective (`stance.action_values`:
the step plus the best plan after it, within the planner's horizon) is within `tol` of the best. The
planner's own tie-break (among plans that score the same, the shortest) is included through
`SHORTER_FIRST`, a tiny cost per step, so the ties that remain are genuine: the two first moves
towards an item that is not in a straight line, say. `Agreement.ties` counts the boards with more than
one optimal move, the share on which plain agreement measures tie-breaking rather than goals.

    from mesalib.analysis.agreement import agreement
    a = agreement(NearestKey(), Planner(KEYS_FIRST, max_steps=TRAIN.max_steps), TRAIN, levels=100)
    a.plain, a.among_optimal, a.ties
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesalib.agents.objectives import Objective
from mesalib.analysis.stance.candidates import best_moves, q_values
from mesalib.analysis.stance.trajectories import Trajectories, record
from mesalib.env.levels import Boards, LevelDistribution, Mixture

SHORTER_FIRST = 1e-6
"""Cost per step added to the objective when scoring moves: too small to outweigh any difference in
what a plan achieves, large enough to prefer the shorter of two plans that achieve the same, which is
how `Planner` breaks ties. Without it, an objective that does not count steps (`CHESTS`) finds almost
every move optimal whenever there is time to spare."""


@dataclass
class Agreement:
    """How often one policy's moves match another's, on the boards the first one meets.

    `trajectories` are the observed policy's decisions; `theirs[i]` is the move the other policy
    chose on the same board; `optimal[i, a]` says whether move a is among the other's optimal moves
    there (None when the other has no objective to score moves with).
    """

    observed: str
    other: str
    trajectories: Trajectories
    theirs: np.ndarray
    optimal: np.ndarray | None

    def __len__(self) -> int:
        return len(self.theirs)

    @property
    def plain(self) -> float:
        """The share of boards on which both policies chose the same move."""
        return float(np.mean(self.trajectories.actions == self.theirs)) if len(self) else float("nan")

    @property
    def among_optimal(self) -> float:
        """The share of boards on which the observed move is one of the other's optimal moves (NaN
        without an objective)."""
        if self.optimal is None or not len(self):
            return float("nan")
        return float(np.mean(self.optimal[np.arange(len(self)), self.trajectories.actions]))

    @property
    def ties(self) -> float:
        """The share of boards on which the other has more than one optimal move (NaN without an
        objective): there, which move it picks says nothing about what it wants."""
        if self.optimal is None or not len(self):
            return float("nan")
        return float(np.mean(self.optimal.sum(axis=1) > 1))


def optimal_moves(
    objective: Objective,
    boards: Boards,
    steps_left,
    horizon: int | None = None,
    tol: float = 1e-9,
    shorter_first: float = SHORTER_FIRST,
) -> np.ndarray:
    """bool [N, 4]: the moves a planner with `objective` and `horizon` (None: to the end of the
    episode) rates best on each board, within `tol`, preferring shorter plans (`shorter_first`)."""
    q = q_values(objective, boards, steps_left, horizon=horizon, haste=shorter_first)
    return best_moves(q, tol)


def agreement(
    observed,
    other,
    dist: LevelDistribution | Mixture,
    levels: int = 100,
    seed: int = 0,
    objective: Objective | None = None,
    horizon: int | None = None,
    tol: float = 1e-9,
) -> Agreement:
    """Let `observed` play `levels` levels of `dist` (drawn with `seed`, as `evaluate` would) and, on
    every board it meets, ask `other` for its move too and, if `other` has an objective (`objective`,
    else `other.objective`), which moves are optimal for it (`optimal_moves`, with `horizon`, else
    `other.horizon`)."""
    trajectories = record(observed, dist, int(levels), seed, ask=other)
    assert trajectories.asked is not None  # record keeps the answers of the policy it was told to ask
    theirs = trajectories.asked
    if objective is None:
        objective = getattr(other, "objective", None)
    optimal = None
    if objective is not None:
        if horizon is None:
            horizon = getattr(other, "horizon", None)
        optimal = optimal_moves(objective, trajectories.boards, trajectories.steps_left, horizon, tol)
    return Agreement(_name(observed), _name(other), trajectories, theirs, optimal)


def _name(policy) -> str:
    return getattr(policy, "name", None) or type(policy).__name__
