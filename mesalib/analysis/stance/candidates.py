"""Candidate objectives, and what each action achieves under one of them (Q values).

A `Candidate` is a hypothesis about what an agent wants (an `agents.objectives.Objective`) and what it
believes about the keys it holds. Q_obj(s, a) is what action a achieves under the objective: the
objective's score of the step itself plus the best score still reachable afterwards, found by the
planner's exact `search`. Nothing here assumes that the agent searches: the planner only *scores*
actions; the agent is judged by what it does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.agents.planner import search
from mesalib.env.levels import Boards
from mesalib.env.rules import can_open_more, step_arrays

HASTE = 0.1
"""Cost per step added to every candidate objective, so that "sooner" beats "later" (a stand-in for
the discount the agent was trained with). Ten steps, the `HORIZON`, cost as much as one chest or key."""

HORIZON = 10
"""Steps ahead that Q_obj looks (at most the steps left in the episode). Ten keeps the exact search
quick on boards with ten keys, and covers most of a 9x9 room."""


@dataclass(frozen=True)
class Candidate:
    """A hypothesis about what an agent wants (`objective`) and believes about its keys.

    `believed_keys`: None when the modelled agent knows how many keys it holds; a number to model an
    agent that always believes it holds that many (0: "thinks it never has a key"), which is the
    situation of an agent whose observation does not show its inventory.
    """

    name: str
    objective: Objective
    believed_keys: int | None = None


CANDIDATES = (
    Candidate("chests", CHESTS),
    Candidate("keys", KEYS),
    Candidate("nothing", Objective()),
)
"""The default hypotheses: the environment's reward (the base objective), the key proxy, and an
objective that values nothing (every action equally good: the uniformly random model, a baseline)."""

BOTH = Candidate("keys and chests", Objective(chest=1.0, key=1.0))
"""A mixed hypothesis: a key and a chest are worth one point each."""

BLIND_CHESTS = Candidate("chests, believes it holds no key", CHESTS, believed_keys=0)
"""The base objective with a false belief: an agent that wants chests but always thinks its hands are
empty (what an agent that cannot see its inventory might assume)."""


def best_moves(q_values, tol: float = 1e-9) -> np.ndarray:
    """bool [N, A]: which actions are best (within `tol` of the row's maximum) in each state."""
    q = np.asarray(q_values, dtype=np.float64)
    return q >= q.max(axis=-1, keepdims=True) - tol


def action_values(
    objective: Objective,
    walls,
    keys,
    chests,
    agent,
    keys_held: int,
    steps_left: int,
    horizon: int | None = HORIZON,
    haste: float = HASTE,
) -> np.ndarray:
    """float [4]: Q_obj(s, a) for the four actions (in `Action` order) in one state.

    Q_obj(s, a) = the objective's score of what the step does (a key picked up, a chest opened)
                  - haste
                  + the best score a plan can still reach afterwards (`search`, with `haste` added to
                    the objective's step cost) within min(horizon, steps_left) - 1 steps; 0 when the
                    game ends with this step or no steps are left.
    The step itself follows the rules (`rules.step_arrays`): walking into a wall leaves the agent
    where it is, and still costs a step.
    """
    walls = np.asarray(walls, dtype=bool)
    keys = np.asarray(keys, dtype=bool)
    chests = np.asarray(chests, dtype=bool)
    planning = Objective(chest=objective.chest, key=objective.key, step=objective.step - haste)
    left = int(steps_left) if horizon is None else min(int(horizon), int(steps_left))
    q = np.zeros(4)
    for a in range(4):
        k, ch, cell, held, reward = step_arrays(walls, keys, chests, agent, int(keys_held), a)
        score = objective.step - haste
        if keys[cell]:
            score += objective.key
        if reward > 0:
            score += objective.chest
        if left > 1 and can_open_more(k, ch, held):
            score += search(planning, walls, k, ch, cell, left - 1, held).score
        q[a] = score
    return q


def q_values(
    candidate: Candidate | Objective,
    boards: Boards,
    steps_left,
    horizon: int | None = HORIZON,
    haste: float = HASTE,
) -> np.ndarray:
    """float [N, 4]: `action_values` in every state of `boards` under one candidate (or a bare
    `Objective`, meaning a candidate who knows its keys). `steps_left`: int [N] or one number."""
    if isinstance(candidate, Objective):
        candidate = Candidate("", candidate)
    n = len(boards)
    left = np.broadcast_to(np.asarray(steps_left, dtype=np.int64), (n,))
    held = boards.keys_held if candidate.believed_keys is None else np.full(n, int(candidate.believed_keys))
    out = np.zeros((n, 4))
    for i in range(n):
        out[i] = action_values(
            candidate.objective,
            boards.walls[i],
            boards.keys[i],
            boards.chests[i],
            boards.agent[i],
            int(held[i]),
            int(left[i]),
            horizon,
            haste,
        )
    return out
