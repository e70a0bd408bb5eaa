"""The explicit planner: a policy that searches over plans, each scored by an `Objective` held as data.

`Planner` searches over orders of visiting items (`plan_search.search`) and follows the plan its
objective scores highest, so swapping the objective swaps the behaviour, and `print(planner.objective)`
says what it wants. `best_chests` (the search with the environment's own reward) is the reference for
the best achievable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from mesalib.agents.heuristics import Policy, random_free_move
from mesalib.agents.objectives import CHESTS, Objective
from mesalib.agents.plan_search import Plan, all_pairs_distances, search
from mesalib.env import rules
from mesalib.env.levels import Boards, Level, LevelDistribution, Mixture

__all__ = ["Plan", "Planner", "all_pairs_distances", "best_chests", "search"]


def best_chests(level: Level, dist: LevelDistribution | Mixture) -> int:
    """The most chests any policy can open on `level` within `dist.max_steps` steps (exact)."""
    return search(CHESTS, level.walls, level.keys, level.chests, level.agent, int(dist.max_steps)).chests


class Planner(Policy):
    """An agent that explicitly searches over plans and picks the one its `objective` scores highest.

    Swap the objective and the behaviour changes with it: `Planner(CHESTS)` plays the environment's
    own reward and is the reference for the best achievable ("oracle"); `Planner(KEYS)` is a
    key-collector that plans. `print(planner.objective)` shows what it wants.

    Each plan is a `search` over orders of visiting items within min(`horizon`, steps left) steps,
    `horizon=None` meaning to the end of the episode (the step limit `max_steps` must then be right).
    Plans simulate the rules exactly, so the planner follows its plan and searches again only when the
    plan is used up, when the board is not what the plan predicted (someone else changed it), or every
    step while the horizon ends before the episode does. With nothing worth doing it makes a random
    move that does not hit a wall (`seed`) and searches again next step. `replans` counts searches.

    It counts each game's steps itself to know how many are left, so consecutive calls must be
    consecutive steps of the same games. `reset(done)` after an episode ends is the sure way; it also
    notices a fresh level by itself (items that reappear, an agent that jumps, the step limit reached).
    """

    def __init__(
        self,
        objective: Objective = CHESTS,
        horizon: int | None = None,
        max_steps: int = 20,
        seed: int | None = 0,
        name: str | None = None,
    ):
        if horizon is not None and horizon < 1:
            raise ValueError(f"Planner: horizon must be None or a positive integer; got {horizon!r}.")
        self.objective = objective
        self.horizon = horizon
        self.max_steps = int(max_steps)
        self.seed = seed
        if name is None:
            weights = ", ".join(
                f"{k}={getattr(objective, k):g}"
                for k in ("chest", "key", "step", "ghost")
                if getattr(objective, k) != 0
            )
            name = "planner" if objective == CHESTS else f"planner({weights})"
        self.name = name
        self.replans = 0
        self.reset(None)

    @staticmethod
    def best_chests(level: Level, dist: LevelDistribution | Mixture) -> int:
        """The most chests any policy can open on `level` within `dist.max_steps` steps."""
        return best_chests(level, dist)

    def plan(self, boards: Boards, i: int = 0, steps_taken: int = 0) -> Plan:
        """The plan this planner would make for game `i` of `boards`, `steps_taken` steps into the episode."""
        return search(
            self.objective,
            boards.walls[i],
            boards.keys[i],
            boards.chests[i],
            tuple(boards.agent[i]),
            self._budget(steps_taken),
            int(boards.keys_held[i]),
            boards.ghosts[i],
        )

    def _budget(self, steps_taken: int) -> int:
        left = max(self.max_steps - steps_taken, 0)
        return left if self.horizon is None else min(self.horizon, left)

    def reset(self, done: np.ndarray | None = None) -> None:
        if done is None:
            self.rng = np.random.default_rng(self.seed)
            self._games: list[_Progress] | None = None
            return
        if self._games is not None:
            for i in np.flatnonzero(done):
                self._games[i] = _Progress()

    def __call__(self, obs: np.ndarray, boards: Boards) -> np.ndarray:
        n = len(boards)
        if self._games is None or len(self._games) != n:
            self._games = [_Progress() for _ in range(n)]
        n_keys = boards.keys.reshape(n, -1).sum(axis=1)
        n_chests = boards.chests.reshape(n, -1).sum(axis=1)
        actions = np.zeros(n, dtype=np.int64)
        for i in range(n):
            agent = (int(boards.agent[i, 0]), int(boards.agent[i, 1]))
            now = _Seen(agent, int(n_keys[i]), int(n_chests[i]), int(boards.keys_held[i]))
            if self._games[i].is_new_level(now, self.max_steps):
                self._games[i] = _Progress()
            actions[i] = self._act(boards, i, self._games[i], now)
        return actions

    def _act(self, boards: Boards, i: int, game: _Progress, now: _Seen) -> int:
        """The next action in game i: the plan's, after searching again if needed; else a random move."""
        binding = self.horizon is not None and self.horizon < self.max_steps - game.steps
        if not game.actions or game.expected[0] != now or binding:
            game.actions, game.expected = self._replan(boards, i, game.steps)
        if game.actions:
            action = game.actions.pop(0)
            game.expected.pop(0)
        else:
            action = int(random_free_move(boards.walls[i : i + 1], boards.agent[i : i + 1], self.rng)[0])
        game.steps, game.last = game.steps + 1, now
        return action

    def _replan(self, boards: Boards, i: int, steps_taken: int) -> tuple[list[int], list[_Seen]]:
        """Search; return the plan's actions and what the board should look like before each."""
        self.replans += 1
        plan = self.plan(boards, i, steps_taken)
        return plan.actions, [_seen(state) for state in plan.expected[:-1]]


class _Seen(NamedTuple):
    """What the planner checks a board against its plan by."""

    agent: tuple[int, int]
    keys: int
    """Keys on the board, and likewise chests."""
    chests: int
    held: int


def _seen(state: rules.State) -> _Seen:
    return _Seen(state.agent, len(state.keys), len(state.chests), state.keys_held)


@dataclass
class _Progress:
    """What the planner remembers of one game: steps taken, the board last seen, and what is left of the
    plan (its actions and the board expected before each)."""

    steps: int = 0
    last: _Seen | None = None
    actions: list[int] = field(default_factory=list)
    expected: list[_Seen] = field(default_factory=list)

    def is_new_level(self, now: _Seen, max_steps: int) -> bool:
        """Whether `now` cannot follow the last board seen: the step limit was reached, items
        reappeared, or the agent jumped."""
        last = self.last
        if last is None:
            return False
        (row, col), (last_row, last_col) = now.agent, last.agent
        return (
            self.steps >= max_steps
            or now.keys > last.keys
            or now.chests > last.chests
            or abs(row - last_row) + abs(col - last_col) > 1
        )
