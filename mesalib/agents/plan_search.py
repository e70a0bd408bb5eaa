"""Search over plans on one board: which items to visit, in which order, to score best under an
objective (`search`, which returns a `Plan`).

The search simulates the game with the rules themselves: `rules.arrive` decides what happens on each
item a plan steps on, `rules.can_still_open` when the game ends, and the plan found is played with
`rules.step` to record what it does. `Planner` (in `planner.py`) is the policy that follows such plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from mesalib.agents.heuristics import UNREACHABLE, distance_map
from mesalib.agents.objectives import Objective
from mesalib.env import rules
from mesalib.env.levels import Level, LevelDistribution

_KEY, _CHEST, _GHOST = 0, 1, 2  # the kinds of item, also indices into per-kind tables
_EPS = 1e-9


@dataclass
class Plan:
    """The result of a search: the items to visit in order, and what the planner expects to happen."""

    score: float
    """The objective's score of the plan."""
    steps: int
    """Steps the plan takes (shortest paths between the items)."""
    targets: list[tuple[int, int]] = field(default_factory=list)
    """The cells (row, col) to visit, in order."""
    actions: list[int] = field(default_factory=list)
    """The moves that carry the plan out."""
    chests: int = 0
    """Chests it opens (items stepped on in passing included), and likewise keys and ghost chests."""
    keys: int = 0
    ghosts: int = 0
    expected: list[rules.State] = field(default_factory=list, repr=False, compare=False)
    """The states the game passes through when the plan is carried out: before each action, then after
    the last (left out when a plan is printed)."""


_PAIRS: dict[bytes, np.ndarray] = {}
_PAIRS_MAX = 256  # tables kept (one per wall layout; a 9x9 table is 13 kB)


def all_pairs_distances(walls: np.ndarray) -> np.ndarray:
    """int [H*W, H*W]: steps between any two cells of one level (flat indices), `UNREACHABLE` for walls.

    One `distance_map` over a batch with one free cell as the target in each map. Cached by the walls,
    so all "room" levels of one size share one table.
    """
    walls = np.asarray(walls, dtype=bool)
    key = walls.tobytes() + bytes(str(walls.shape), "ascii")
    table = _PAIRS.get(key)
    if table is None:
        h, w = walls.shape
        free = np.flatnonzero(~walls.ravel())
        targets = np.zeros((len(free), h * w), dtype=bool)
        targets[np.arange(len(free)), free] = True
        maps = distance_map(np.broadcast_to(walls, (len(free), h, w)), targets.reshape(-1, h, w))
        table = np.full((h * w, h * w), UNREACHABLE, dtype=np.int16)
        table[free] = maps.reshape(len(free), h * w)
        if len(_PAIRS) >= _PAIRS_MAX:
            _PAIRS.pop(next(iter(_PAIRS)))
        _PAIRS[key] = table
    return table


def search(
    objective: Objective,
    walls: np.ndarray,
    keys: np.ndarray,
    chests: np.ndarray,
    agent: tuple[int, int],
    budget: int,
    keys_held: int = 0,
    ghosts: np.ndarray | None = None,
) -> Plan:
    """The best plan for one board: which items to visit, in which order, within `budget` steps.

    A plan is a sequence of target items (keys, chests, and ghost chests if the objective rewards
    them). Each leg walks a shortest path to the next target, choosing among shortest paths one that
    steps on as few other items as possible (then the first in `Action` order). The search simulates
    the rules exactly along those paths, items stepped on in passing and the end of the game included,
    so following the plan produces exactly the events it predicts, and its score is the objective's
    score of those events plus `objective.step` times the plan's steps.

    Depth-first search with branch and bound: a branch is cut when an optimistic bound on what it could
    still gain cannot beat the best plan found, when it reaches the same target with the same items
    used in no fewer steps than an earlier branch, or when its next target cannot help (a chest or ghost
    without a key in hand, a kind the objective does not reward, a key beyond the chests left to open
    when keys themselves are not rewarded). Among plans with the same score the shortest wins, then the
    first found. Plans end at the last target: the steps after it are not scored.

    With `CHESTS` the best plan opens the most chests any sequence of actions can (the brute-force
    tests check this); with other objectives the legs' fixed choice of path can make it miss a plan
    that needs a detour (around a chest it must not open, say).
    """
    walls = np.asarray(walls, dtype=bool)
    budget, keys_held = int(budget), int(keys_held)
    use_ghosts = objective.ghost != 0 and ghosts is not None
    items = _Items(walls, (keys, chests, ghosts if use_ghosts else None), agent, budget)
    keys_on_board, chests_on_board = int(np.count_nonzero(keys)), int(np.count_nonzero(chests))
    tree = _Search(objective, items, use_ghosts, keys_on_board, chests_on_board)
    if rules.can_still_open(chests_on_board, keys_held, keys_on_board):  # else the game is already over
        left = [items.kinds.count(kind) for kind in (_KEY, _CHEST, _GHOST)]
        tree.visit(-1, 0, _Branch(0, 0.0, keys_held, *left))
    actions = items.actions(tree.best_targets)[: tree.best_steps]  # the game may end before the last target
    no_ghosts = np.zeros_like(walls)
    level = Level(walls, np.asarray(keys), np.asarray(chests), no_ghosts if ghosts is None else ghosts, agent)
    expected = _replay(rules.State.start(level, keys_held), actions)
    end = expected[-1]
    return Plan(
        score=tree.best_score,
        steps=tree.best_steps,
        targets=[divmod(items.cells[j], items.width) for j in tree.best_targets],
        actions=actions,
        chests=end.chests_opened,
        keys=end.keys_collected,
        ghosts=end.ghost_chests_opened,
        expected=expected,
    )


_NO_PENALTIES = LevelDistribution(view=None)
"""The rules' settings for replaying plans: no penalties (the objective scores a plan, not the reward)."""


def _replay(state: rules.State, actions: list[int]) -> list[rules.State]:
    """The states a game passes through when `actions` are played by the rules, from `state` to the
    last one: the state before each action, then the state after the last action played (the game
    may end before all are played)."""
    states = [state]
    for action in actions:
        state, _, terminated, _ = rules.step(state, action, _NO_PENALTIES)
        states.append(state)
        if terminated:
            break
    return states


class _Items:
    """The items a plan could reach within the budget, numbered 0..n-1, and the legs between them.

    Cells are flat indices (row * width + col). A leg is the walk from a cell to item j along a
    shortest path that steps on as few other items as possible; legs are made when first needed.
    """

    def __init__(self, walls: np.ndarray, grids: tuple, agent: tuple[int, int], budget: int):
        table = all_pairs_distances(walls)
        self.width, self.budget = walls.shape[1], budget
        self.start = int(agent[0]) * self.width + int(agent[1])
        self.cells: list[int] = []
        self.kinds: list[int] = []
        for kind, grid in zip((_KEY, _CHEST, _GHOST), grids):  # only items within reach can matter
            if grid is not None:
                for cell in np.flatnonzero(np.asarray(grid).ravel()).tolist():
                    if table[self.start, cell] <= budget:
                        self.cells.append(cell)
                        self.kinds.append(kind)
        self.index = {cell: i for i, cell in enumerate(self.cells)}
        self.contents = [(kind == _KEY, kind == _CHEST, kind == _GHOST) for kind in self.kinds]
        """What lies on each item's cell, as `rules.arrive` reads it: (key, chest, ghost chest)."""
        self.between = table[np.ix_(self.cells, self.cells)].tolist()
        self.from_start = table[self.start, self.cells].tolist()
        self._table = table
        self._free = np.flatnonzero(~walls.ravel()).tolist()
        self._offsets = [int(dr) * self.width + int(dc) for dr, dc in rules.DELTAS]
        self._routes: dict[int, dict[int, int]] = {}
        self._legs: dict[tuple[int, int], tuple[list[int], list[tuple[int, int]]]] = {}

    def cell(self, at: int) -> int:
        """The cell of item `at`, or the start for -1."""
        return self.start if at < 0 else self.cells[at]

    def route(self, j: int) -> dict[int, int]:
        """Next action from each cell on a shortest path to item j that steps on the fewest other items."""
        if j not in self._routes:
            goal = self.cells[j]
            to_goal = self._table[goal].tolist()
            fewest, step = {goal: 0}, {}
            near = sorted((c for c in self._free if 0 < to_goal[c] <= self.budget), key=to_goal.__getitem__)
            for cell in near:
                for action, offset in enumerate(self._offsets):
                    nb = cell + offset
                    if to_goal[nb] == to_goal[cell] - 1:
                        cost = fewest[nb] + (nb != goal and nb in self.index)
                        if cell not in fewest or cost < fewest[cell]:
                            fewest[cell], step[cell] = cost, action
            self._routes[j] = step
        return self._routes[j]

    def leg(self, source: int, j: int) -> tuple[list[int], list[tuple[int, int]]]:
        """(actions, [(steps into the leg, item stepped on in passing), ...]) from cell `source` to item j."""
        if (source, j) not in self._legs:
            step, goal = self.route(j), self.cells[j]
            actions, passed, here = [], [], source
            while here != goal:
                actions.append(step[here])
                here += self._offsets[step[here]]
                if here != goal and here in self.index:
                    passed.append((len(actions), self.index[here]))
            self._legs[(source, j)] = (actions, passed)
        return self._legs[(source, j)]

    def actions(self, targets: list[int]) -> list[int]:
        """The moves that visit the items `targets` in order, from the start."""
        actions, source = [], self.start
        for j in targets:
            actions += self.leg(source, j)[0]
            source = self.cells[j]
        return actions


class _Branch(NamedTuple):
    """What the search knows at one point of a plan: the items used, the score, and what the rules
    need to know about the game now."""

    used: int
    """Bit i set: item i was picked up or opened."""
    score: float
    held: int
    keys_left: int
    """Items within reach not yet used (and the only ones that can be used: `search` keeps only
    these), so they bound what the branch can still gain."""
    chests_left: int
    ghosts_left: int


class _Search:
    """Depth-first branch and bound over orders of visiting items (see `search`).

    The best plan so far is `best_score`, `best_steps` and `best_targets`; it starts as the empty plan.
    """

    def __init__(
        self, objective: Objective, items: _Items, use_ghosts: bool, keys_on_board: int, chests_on_board: int
    ):
        self.items, self.budget = items, items.budget
        self.step_weight = objective.step
        self.gain = (objective.key, objective.chest, objective.ghost if use_ghosts else 0.0)  # per kind
        self.item_gain = [self.gain[kind] for kind in items.kinds]
        self.optimistic_gain = tuple(max(w, 0.0) for w in self.gain)
        self.wanted = (any(w > 0 for w in self.gain), self.gain[_CHEST] > 0, self.gain[_GHOST] > 0)
        # Keys and chests out of reach are never used, but they still count for the end of the game.
        self.keys_out_of_reach = keys_on_board - items.kinds.count(_KEY)
        self.chests_out_of_reach = chests_on_board - items.kinds.count(_CHEST)
        self.use_memo = objective.step <= 0  # with a reward per step, a longer way there can be better
        self.seen: dict[tuple[int, int], int] = {}  # (item, items used) -> fewest steps to get there
        self.most_events = _most_events(items)
        self.best_score, self.best_steps = 0.0, 0
        self.best_targets: list[int] = []
        self.sequence: list[int] = []  # the targets of the branch being searched

    def visit(self, at: int, steps: int, branch: _Branch) -> None:
        """Search on from item `at` (-1: the start), reached after `steps` steps."""
        self._consider(branch.score, steps)
        bound = self._bound(steps, branch)
        if bound < self.best_score - _EPS or (bound < self.best_score + _EPS and steps >= self.best_steps):
            return
        for j in self._next_targets(at, steps, branch):
            self._go(at, steps, branch, j)

    def _go(self, at: int, steps: int, branch: _Branch, j: int) -> None:
        """Walk the leg from item `at` to item j, the rules applied to each unused item on the way, and
        search on from j. The walk stops where the game ends."""
        items = self.items
        actions, passed = items.leg(items.start if at < 0 else items.cells[at], j)
        ws, length = self.step_weight, len(actions)
        now, score = branch, branch.score + ws * length  # the leg's steps are counted first
        for into, item in passed:
            stepped_on = None if branch.used >> item & 1 else self._arrive(now, item, score)
            if stepped_on is not None:
                now, score = stepped_on, stepped_on.score
                if self._game_over(now):  # the plan ends here, before j: score and steps up to here
                    self.sequence.append(j)
                    self._consider(score - ws * (length - into), steps + into)
                    self.sequence.pop()
                    return
        after = self._arrive(now, j, score)
        if after is None:
            return  # arriving on j does nothing: a chest, and the keys were used on the way
        steps += length
        if self.use_memo:
            if self.seen.get((j, after.used), self.budget + 1) <= steps:
                return
            self.seen[(j, after.used)] = steps
        self.sequence.append(j)
        if self._game_over(after):
            self._consider(after.score, steps)
        else:
            self.visit(j, steps, after)
        self.sequence.pop()

    def _arrive(self, branch: _Branch, item: int, score: float) -> _Branch | None:
        """The branch after the agent arrives on unused `item` (`rules.arrive` says what happens), its
        score `score` plus what that is worth; None if nothing happens."""
        used, _, held, keys_left, chests_left, ghosts_left = branch
        key_there, chest_there, ghost_there = self.items.contents[item]
        held, key, chest, ghost = rules.arrive(held, key_there, chest_there, ghost_there)
        if not (key or chest or ghost):
            return None
        gain = self.item_gain[item]
        return _Branch(
            used | 1 << item, score + gain, held, keys_left - key, chests_left - chest, ghosts_left - ghost
        )

    def _game_over(self, branch: _Branch) -> bool:
        keys_on_board = branch.keys_left + self.keys_out_of_reach
        chests_on_board = branch.chests_left + self.chests_out_of_reach
        return not rules.can_still_open(chests_on_board, branch.held, keys_on_board)

    def _next_targets(self, at: int, steps: int, branch: _Branch) -> list[int]:
        """The items worth walking to next: unused, rewarded, within the steps left, and usable."""
        items, left = self.items, self.budget - steps
        distance = items.from_start if at < 0 else items.between[at]
        wk, wc, wg = self.gain
        key_helps = (
            wk > 0
            or (wc > 0 and branch.held < branch.chests_left)
            or (wg > 0 and branch.held == 0 and branch.ghosts_left > 0)
        )
        return [
            j
            for j, kind in enumerate(items.kinds)
            if not branch.used >> j & 1
            and self.wanted[kind]
            and distance[j] <= left
            and (key_helps if kind == _KEY else branch.held > 0)
        ]

    def _bound(self, steps: int, branch: _Branch) -> float:
        """An optimistic score for anything the branch could still become."""
        left = self.budget - steps
        m = self.most_events[left]
        pk, pc, pg = self.optimistic_gain
        _, score, held, keys_left, chests_left, ghosts_left = branch
        return (
            score
            + pk * min(keys_left, m)
            + pc * min(chests_left, held + keys_left, m)
            + (pg * min(ghosts_left, m) if held + keys_left > 0 else 0.0)
            + max(self.step_weight, 0.0) * left
        )

    def _consider(self, score: float, steps: int) -> None:
        """Keep the current plan if it beats the best: a higher score, or as high in fewer steps."""
        if score > self.best_score + _EPS or (score > self.best_score - _EPS and steps < self.best_steps):
            self.best_score, self.best_steps, self.best_targets = score, steps, self.sequence.copy()


def _most_events(items: _Items) -> list[int]:
    """For each number of steps left, an optimistic count of further events: consecutive events happen
    on different item cells, so each costs at least that item's cheapest way in; add up the cheapest."""
    n = len(items.cells)
    entry = sorted(
        min([items.from_start[j]] + [items.between[i][j] for i in range(n) if i != j]) for j in range(n)
    )
    most = []
    for left in range(items.budget + 1):
        total, m = 0, 0
        while m < n and total + entry[m] <= left:
            total, m = total + entry[m], m + 1
        most.append(m)
    return most
