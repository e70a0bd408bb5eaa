"""The explicit planner: search over plans, each scored by an `Objective` held as data.

`Planner` searches over orders of visiting items and picks the plan its objective scores highest, so
swapping the objective swaps the behaviour, and `print(planner.objective)` says what it wants.
`best_chests` (the planner with the environment's own reward) is the reference for the best achievable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mesalib.agents.heuristics import _DELTAS, UNREACHABLE, Policy, distance_map, random_free_move
from mesalib.agents.objectives import CHESTS, Objective
from mesalib.env.levels import Boards, Level, LevelDistribution

_KEY, _CHEST, _GHOST = 0, 1, 2
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
    width = walls.shape[1]
    budget = int(budget)
    table = all_pairs_distances(walls)
    start = int(agent[0]) * width + int(agent[1])
    wk, wc, ws = objective.key, objective.chest, objective.step
    use_ghosts = objective.ghost != 0 and ghosts is not None
    wg = objective.ghost if use_ghosts else 0.0
    # Items the plan could reach at all: the only ones that can matter within the budget.
    cells: list[int] = []
    kinds: list[int] = []
    for kind, grid in ((_KEY, keys), (_CHEST, chests), (_GHOST, ghosts if use_ghosts else None)):
        if grid is not None:
            for cell in np.flatnonzero(np.asarray(grid).ravel()).tolist():
                if table[start, cell] <= budget:
                    cells.append(cell)
                    kinds.append(kind)
    n = len(cells)
    item_at = {cell: i for i, cell in enumerate(cells)}
    rewarded = {_KEY: wk > 0 or wc > 0 or wg > 0, _CHEST: wc > 0, _GHOST: wg > 0}
    targetable = [rewarded[k] for k in kinds]
    dist = table[np.ix_(cells, cells)].tolist()
    from_start = table[start, cells].tolist()
    offsets = [int(dr) * width + int(dc) for dr, dc in _DELTAS]
    free = np.flatnonzero(~walls.ravel()).tolist()

    # Optimistic count of further events with `left` steps: consecutive events happen on different
    # item cells, so each costs at least that item's cheapest way in; add up the cheapest ones.
    entry = sorted(min([from_start[j]] + [dist[i][j] for i in range(n) if i != j]) for j in range(n))
    most_events = []
    for left in range(budget + 1):
        total, m = 0, 0
        while m < n and total + entry[m] <= left:
            total, m = total + entry[m], m + 1
        most_events.append(m)

    routes: dict[int, dict[int, int]] = {}  # target -> {cell: next action}
    legs: dict[tuple[int, int], tuple[list[int], list[tuple[int, int]]]] = {}

    def route(j):
        """Next action from each cell on a shortest path to item j that steps on the fewest other items."""
        if j not in routes:
            goal = cells[j]
            to_goal = table[goal].tolist()
            fewest, step = {goal: 0}, {}
            for cell in sorted((c for c in free if 0 < to_goal[c] <= budget), key=to_goal.__getitem__):
                for a, off in enumerate(offsets):
                    nb = cell + off
                    if to_goal[nb] == to_goal[cell] - 1:
                        cost = fewest[nb] + (nb != goal and nb in item_at)
                        if cell not in fewest or cost < fewest[cell]:
                            fewest[cell], step[cell] = cost, a
            routes[j] = step
        return routes[j]

    def leg(source, j):
        """(actions, [(steps into the leg, item stepped on in passing), ...]) from cell `source` to item j."""
        if (source, j) not in legs:
            step, goal = route(j), cells[j]
            actions, passed, here = [], [], source
            while here != goal:
                actions.append(step[here])
                here += offsets[step[here]]
                if here != goal and here in item_at:
                    passed.append((len(actions), item_at[here]))
            legs[(source, j)] = (actions, passed)
        return legs[(source, j)]

    pk, pc, pg = max(wk, 0.0), max(wc, 0.0), max(wg, 0.0)
    best: list = [0.0, 0, []]  # score, steps, targets: the empty plan to start with
    seen: dict[tuple[int, int], int] = {}
    use_memo = ws <= 0
    sequence: list[int] = []

    def consider(score, steps):
        if score > best[0] + _EPS or (score > best[0] - _EPS and steps < best[1]):
            best[0], best[1], best[2] = score, steps, sequence.copy()

    def visit(here, mask, steps, score, held, keys_board, chests_board, rk, rc, rg):
        # here: item index (-1: the start); rk, rc, rg: reachable keys, chests, ghosts not yet used;
        # keys_board, chests_board: everything on the board (they decide when the game ends).
        consider(score, steps)
        left = budget - steps
        m = most_events[left]
        bound = (
            score
            + pk * min(rk, m)
            + pc * min(rc, held + rk, m)
            + (pg * min(rg, m) if held + rk > 0 else 0.0)
            + max(ws, 0.0) * left
        )
        if bound < best[0] - _EPS or (bound < best[0] + _EPS and steps >= best[1]):
            return
        row, source = (from_start, start) if here < 0 else (dist[here], cells[here])
        for j in range(n):
            if mask >> j & 1 or not targetable[j] or row[j] > left:
                continue
            if kinds[j] == _KEY:
                if not (wk > 0 or (wc > 0 and held < rc) or (wg > 0 and held == 0 and rg > 0)):
                    continue
            elif held == 0:
                continue
            actions, passed = leg(source, j)
            s = [mask, score + ws * len(actions), held, keys_board, chests_board, rk, rc, rg]
            over = False
            for at, p in passed:  # the rules, for the items stepped on in passing
                if not mask >> p & 1 and _event(s, p, kinds[p], wk, wc, wg):
                    if s[4] == 0 or (s[2] == 0 and s[3] == 0):  # the game ends here
                        sequence.append(j)
                        consider(s[1] - ws * (len(actions) - at), steps + at)
                        sequence.pop()
                        over = True
                        break
            if over or not _event(s, j, kinds[j], wk, wc, wg):
                continue  # the game ended on the way, or the target was a chest and no key was left
            new_mask, new_steps = s[0], steps + len(actions)
            if use_memo:
                if seen.get((j, new_mask), budget + 1) <= new_steps:
                    continue
                seen[(j, new_mask)] = new_steps
            sequence.append(j)
            if s[4] == 0 or (s[2] == 0 and s[3] == 0):
                consider(s[1], new_steps)
            else:
                visit(j, new_mask, new_steps, *s[1:])
            sequence.pop()

    total_keys, total_chests = int(np.count_nonzero(keys)), int(np.count_nonzero(chests))
    if total_chests > 0 and (keys_held > 0 or total_keys > 0):  # else the game is already over
        visit(
            -1,
            0,
            0,
            0.0,
            int(keys_held),
            total_keys,
            total_chests,
            kinds.count(_KEY),
            kinds.count(_CHEST),
            kinds.count(_GHOST),
        )
    actions, source = [], start
    for j in best[2]:
        actions += leg(source, j)[0]
        source = cells[j]
    actions = actions[: best[1]]  # the game may end on the way to the last target
    _, found = _simulate(actions, start, width, keys, chests, ghosts, keys_held)
    return Plan(
        score=best[0],
        steps=best[1],
        targets=[divmod(cells[j], width) for j in best[2]],
        actions=actions,
        **found,
    )


def _event(s, item, kind, wk, wc, wg) -> bool:
    """Apply stepping onto an unused `item` to the search state s = [mask, score, held, keys on board,
    chests on board, reachable keys, chests, ghosts left]; return whether anything happened."""
    if kind == _KEY:
        s[0] |= 1 << item
        s[1] += wk
        s[2] += 1
        s[3] -= 1
        s[5] -= 1
        return True
    if s[2] == 0:
        return False
    s[0] |= 1 << item
    if kind == _CHEST:
        s[1] += wc
        s[2] -= 1
        s[4] -= 1
        s[6] -= 1
    else:
        s[1] += wg
        s[7] -= 1
    return True


def _simulate(actions, start, width, keys, chests, ghosts, held):
    """Play `actions` (which never bump into walls) by the rules from flat cell `start`.

    Returns the state (cell, keys on board, chests on board, held) before each action and the counts
    of events {"keys", "chests", "ghosts"}; stops where the game would end.
    """
    keys = set(np.flatnonzero(np.asarray(keys).ravel()).tolist())
    chests = set(np.flatnonzero(np.asarray(chests).ravel()).tolist())
    ghosts = set() if ghosts is None else set(np.flatnonzero(np.asarray(ghosts).ravel()).tolist())
    counts = {"keys": 0, "chests": 0, "ghosts": 0}
    states, here, held = [], start, int(held)
    for a in actions:
        states.append((here, len(keys), len(chests), held))
        here += int(_DELTAS[a][0]) * width + int(_DELTAS[a][1])
        if here in keys:
            keys.discard(here)
            held += 1
            counts["keys"] += 1
        if here in chests and held > 0:
            chests.discard(here)
            held -= 1
            counts["chests"] += 1
        if here in ghosts and held > 0:
            ghosts.discard(here)
            counts["ghosts"] += 1
        if not chests or (held == 0 and not keys):
            break
    return states, counts


def best_chests(level: Level, dist: LevelDistribution) -> int:
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
    def best_chests(level: Level, dist: LevelDistribution) -> int:
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

    def reset(self, done=None):
        if done is None:
            self.rng = np.random.default_rng(self.seed)
            self._games: list[dict] | None = None
            return
        if self._games is not None:
            for i in np.flatnonzero(done):
                self._games[i] = {}

    def __call__(self, obs, boards):
        n = len(boards)
        if self._games is None or len(self._games) != n:
            self._games = [{} for _ in range(n)]
        width = boards.walls.shape[2]
        n_keys = boards.keys.reshape(n, -1).sum(axis=1)
        n_chests = boards.chests.reshape(n, -1).sum(axis=1)
        actions = np.zeros(n, dtype=np.int64)
        for i in range(n):
            r, c = int(boards.agent[i, 0]), int(boards.agent[i, 1])
            now = (r * width + c, int(n_keys[i]), int(n_chests[i]), int(boards.keys_held[i]))
            game = self._games[i]
            last = game.get("last")
            if last is not None and (
                game["t"] >= self.max_steps
                or now[1] > last[1]
                or now[2] > last[2]
                or abs(r - last[0] // width) + abs(c - last[0] % width) > 1
            ):
                game = self._games[i] = {}  # a new level
            t = game.get("t", 0)
            todo, expected = game.get("actions"), game.get("expected")
            binding = self.horizon is not None and self.horizon < self.max_steps - t
            if not todo or expected[0] != now or binding:
                todo, expected = self._replan(boards, i, t, now)
            if todo:
                actions[i] = todo[0]
                game["actions"], game["expected"] = todo[1:], expected[1:]
            else:
                actions[i] = random_free_move(boards.walls[i : i + 1], boards.agent[i : i + 1], self.rng)[0]
                game["actions"] = None
            game["t"], game["last"] = t + 1, now
        return actions

    def _replan(self, boards, i, t, now):
        """Search; return the plan's actions and the (cell, keys, chests, held) expected before each."""
        self.replans += 1
        plan = self.plan(boards, i, t)
        expected, _ = _simulate(
            plan.actions,
            now[0],
            boards.walls.shape[2],
            boards.keys[i],
            boards.chests[i],
            boards.ghosts[i],
            now[3],
        )
        return plan.actions, expected
