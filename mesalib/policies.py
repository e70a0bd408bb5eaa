"""Policies that play Chests and Keys: hand-written heuristics and a planner with an explicit objective.

The protocol, shared with the neural agents in `ppo.py`: a policy is a callable object

    policy(obs, boards) -> actions        obs: uint8 [B, *observation_shape], boards: `levels.Boards`
                                          actions: int64 [B], values in `rules.Action`

Heuristics and the planner read `boards` and ignore `obs`; neural agents read `obs`. Every policy has
a `name` and a `reset(done)` method: `reset(mask)` forgets the memory of the games whose entry is True
(call it after a step in which those games ended), and `reset(None)` returns the policy to its initial
state, random generator included, so that an evaluation repeated with the same seeds repeats exactly.
Stochastic policies own a seeded `numpy.random.Generator`.

The heuristics, from least to most competent:
- `RandomPolicy`: uniform random moves.
- `WallFollower`: keeps its left hand on a wall; goes straight for a key it can see (within a few steps).
- `NearestKey`: walks to the nearest key; once no key is left on the board, to the nearest chest.
- `KeyThenChest`: the intended behaviour: to the nearest chest when holding a key, else the nearest key.

`Planner` is different in kind: it searches over plans and scores each with an `Objective` it holds as
data, so swapping the objective swaps the behaviour, and `print(planner.objective)` says what it wants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .levels import Boards, Level, LevelDistribution
from .rules import MOVES, Action, Game

UNREACHABLE = 10_000
"""The distance `distance_map` gives to walls and to cells from which no target can be reached."""

_DELTAS = np.array([MOVES[a] for a in Action])  # row i is the (d_row, d_col) of action i


# ---------------------------------------------------------------------------------------------------
# Distances and greedy steps


def distance_map(walls: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Steps from every cell to the nearest target, walking through free cells only.

    walls, targets: bool arrays of shape [B, H, W]. Returns int [B, H, W]: 0 on targets, the number of
    steps to the nearest target elsewhere, and `UNREACHABLE` on walls and on cells that cannot reach
    any target (for example when there is no target at all).

    A breadth-first search from all targets at once, for the whole batch: start with 0 on the targets
    and `UNREACHABLE` everywhere else, then repeatedly let every free cell take one more than the
    smallest of its four neighbours, until nothing changes.

    >>> walls = np.zeros((1, 1, 4), bool); walls[0, 0, 1] = True
    >>> distance_map(walls, np.array([[[False, False, False, True]]]))
    array([[[10000, 10000,     1,     0]]])
    """
    walls = np.asarray(walls, dtype=bool)
    dist = np.where(np.asarray(targets, dtype=bool) & ~walls, 0, UNREACHABLE)
    while True:
        p = np.pad(dist, ((0, 0), (1, 1), (1, 1)), constant_values=UNREACHABLE)
        nearest = np.minimum.reduce([p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2], p[:, 1:-1, 2:]])
        new = np.where(walls, UNREACHABLE, np.minimum(dist, nearest + 1))
        if np.array_equal(new, dist):
            return dist
        dist = new


def _neighbours(agent: np.ndarray) -> np.ndarray:
    """The cell each action leads to, [B, 4, 2], actions in `Action` order."""
    return np.asarray(agent)[:, None, :] + _DELTAS[None]


def _free_moves(walls: np.ndarray, agent: np.ndarray) -> np.ndarray:
    """bool [B, 4]: which actions do not walk into a wall."""
    nb = _neighbours(agent)
    return ~walls[np.arange(len(nb))[:, None], nb[..., 0], nb[..., 1]]


def random_free_move(walls: np.ndarray, agent: np.ndarray, rng: np.random.Generator | None = None):
    """A move that does not bump into a wall: random with `rng`, else the first in `Action` order."""
    free = _free_moves(walls, agent)
    if rng is None:
        return free.argmax(axis=1)
    return np.where(free, rng.random(free.shape), -1.0).argmax(axis=1)


def greedy_step(walls: np.ndarray, dist_map: np.ndarray, agent: np.ndarray,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """The move that brings each agent closer to its nearest target: int64 [B].

    walls: bool [B, H, W]; dist_map: int [B, H, W] from `distance_map`; agent: int [B, 2] (row, col).
    Among equally good moves the first in `Action` order (UP, RIGHT, DOWN, LEFT) wins, so the result is
    deterministic. Where no target can be reached, a move that does not bump into a wall: random if
    `rng` is given, otherwise the first such move in `Action` order.
    """
    walls = np.asarray(walls, dtype=bool)
    nb = _neighbours(agent)
    rows = np.arange(len(nb))[:, None]
    ahead = np.where(walls[rows, nb[..., 0], nb[..., 1]], UNREACHABLE, dist_map[rows, nb[..., 0], nb[..., 1]])
    actions = ahead.argmin(axis=1)  # argmin returns the first minimum: ties go to Action order
    stuck = ahead.min(axis=1) >= UNREACHABLE
    if stuck.any():
        actions[stuck] = random_free_move(walls[stuck], np.asarray(agent)[stuck], rng)
    return actions.astype(np.int64)


# ---------------------------------------------------------------------------------------------------
# Heuristics


class Policy:
    """Base class: a `name`, a no-op `reset`, and `__call__(obs, boards) -> actions [B]` to override."""

    name = "policy"

    def __call__(self, obs: np.ndarray, boards: Boards) -> np.ndarray:
        raise NotImplementedError

    def reset(self, done: np.ndarray | None = None) -> None:
        """Forget the games where `done` is True; with None, go back to the initial state."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class RandomPolicy(Policy):
    """Uniformly random actions (walls included): the floor every other policy should beat."""

    name = "random"

    def __init__(self, seed: int | None = 0):
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs, boards):
        return self.rng.integers(0, 4, size=len(boards), dtype=np.int64)

    def reset(self, done=None):
        if done is None:
            self.rng = np.random.default_rng(self.seed)


class NearestKey(Policy):
    """Walk to the nearest key. When no key is left on the board, walk to the nearest chest.

    This is "collect every key, then the chests": on `TRAIN` (few keys, many chests) it opens chests
    in passing and scores almost as well as `KeyThenChest`; on `TEST` (many keys) it spends its steps
    on keys. Deterministic.
    """

    name = "nearest_key"

    def __call__(self, obs, boards):
        keys_left = boards.keys.any(axis=(1, 2))
        targets = np.where(keys_left[:, None, None], boards.keys, boards.chests)
        return greedy_step(boards.walls, distance_map(boards.walls, targets), boards.agent)


class KeyThenChest(Policy):
    """The intended behaviour: holding a key, walk to the nearest chest; otherwise to the nearest key.

    Greedy, not optimal (the planner can do better), but it never collects a key it does not need
    before opening a chest. Deterministic.
    """

    name = "key_then_chest"

    def __call__(self, obs, boards):
        holding = np.asarray(boards.keys_held) > 0
        targets = np.where(holding[:, None, None], boards.chests, boards.keys)
        return greedy_step(boards.walls, distance_map(boards.walls, targets), boards.agent)


class WallFollower(Policy):
    """Follow the wall with the left hand; head straight for a key once one is in view.

    The kind of simple heuristic discussed under Barnett's 2019 post: it collects keys without any
    search over plans. The rules, applied every step:

    - In view: a key is in view when it is at most `sight` steps away along free cells (walls block
      the view, so in a maze the agent does not "see" through walls). Then step towards it.
    - Otherwise, when not yet touching a wall (at the start, and after fetching a key), walk straight
      on. On reaching a wall, turn right so the wall is on the left, and start following it.
    - Following: turn left if the left cell is free, else go straight, else turn right, else turn back.

    Chests get opened only in passing. The starting heading is random (`seed`), and the heading is
    the memory that `reset(done)` forgets.
    """

    name = "wall_follower"

    def __init__(self, seed: int | None = 0, sight: int = 3):
        self.seed = seed
        self.sight = sight
        self.reset(None)

    def reset(self, done=None):
        if done is None:
            self.rng = np.random.default_rng(self.seed)
            self.heading = None  # int [B], sized on the first call
            self.attached = None
            return
        if self.heading is not None:
            done = np.asarray(done, dtype=bool)
            self.heading[done] = self.rng.integers(0, 4, size=int(done.sum()))
            self.attached[done] = False

    def __call__(self, obs, boards):
        n = len(boards)
        if self.heading is None or len(self.heading) != n:
            self.heading = self.rng.integers(0, 4, size=n)
            self.attached = np.zeros(n, dtype=bool)
        rows = np.arange(n)
        free = _free_moves(boards.walls, boards.agent)  # [B, 4]
        heading = self.heading
        # Reaching a wall: turn right, so that the wall is on the left.
        hit = ~self.attached & ~free[rows, heading]
        self.attached |= hit
        heading = np.where(hit, (heading + 1) % 4, heading)
        # Left hand on the wall: try left, straight, right, back (turns of -1, 0, +1, +2).
        order = (heading[:, None] + np.array([3, 0, 1, 2])) % 4
        first_free = free[rows[:, None], order].argmax(axis=1)
        actions = np.where(self.attached, order[rows, first_free], heading)
        # A key in view overrides the wall.
        if boards.keys.any():
            dist = distance_map(boards.walls, boards.keys)
            seen = dist[rows, boards.agent[:, 0], boards.agent[:, 1]] <= self.sight
            if seen.any():
                toward = greedy_step(boards.walls, dist, boards.agent)
                actions = np.where(seen, toward, actions)
                self.attached &= ~seen
        self.heading = actions.astype(np.int64)
        return self.heading.copy()


# ---------------------------------------------------------------------------------------------------
# Objectives and the planner


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
        return (f"{self.chest:+.2f} per chest opened, {self.key:+.2f} per key collected, "
                f"{self.step:+.2f} per step, {self.ghost:+.2f} per ghost chest opened")


CHESTS = Objective(chest=1.0)
"""The environment's own reward: +1 per chest opened."""
KEYS = Objective(key=1.0)
"""The proxy: +1 per key collected."""

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


def search(objective: Objective, walls: np.ndarray, keys: np.ndarray, chests: np.ndarray,
           agent: tuple[int, int], budget: int, keys_held: int = 0,
           ghosts: np.ndarray | None = None) -> Plan:
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
        bound = (score + pk * min(rk, m) + pc * min(rc, held + rk, m)
                 + (pg * min(rg, m) if held + rk > 0 else 0.0) + max(ws, 0.0) * left)
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
        visit(-1, 0, 0, 0.0, int(keys_held), total_keys, total_chests,
              kinds.count(_KEY), kinds.count(_CHEST), kinds.count(_GHOST))
    actions, source = [], start
    for j in best[2]:
        actions += leg(source, j)[0]
        source = cells[j]
    actions = actions[:best[1]]  # the game may end on the way to the last target
    _, found = _simulate(actions, start, width, keys, chests, ghosts, keys_held)
    return Plan(score=best[0], steps=best[1], targets=[divmod(cells[j], width) for j in best[2]],
                actions=actions, **found)


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

    def __init__(self, objective: Objective = CHESTS, horizon: int | None = None, max_steps: int = 20,
                 seed: int | None = 0, name: str | None = None):
        if horizon is not None and horizon < 1:
            raise ValueError(f"Planner: horizon must be None or a positive integer; got {horizon!r}.")
        self.objective = objective
        self.horizon = horizon
        self.max_steps = int(max_steps)
        self.seed = seed
        if name is None:
            weights = ", ".join(f"{k}={getattr(objective, k):g}" for k in ("chest", "key", "step", "ghost")
                                if getattr(objective, k) != 0)
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
        return search(self.objective, boards.walls[i], boards.keys[i], boards.chests[i],
                      tuple(boards.agent[i]), self._budget(steps_taken), int(boards.keys_held[i]),
                      boards.ghosts[i])

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
            if last is not None and (game["t"] >= self.max_steps or now[1] > last[1] or now[2] > last[2]
                                     or abs(r - last[0] // width) + abs(c - last[0] % width) > 1):
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
                actions[i] = random_free_move(boards.walls[i:i + 1], boards.agent[i:i + 1], self.rng)[0]
                game["actions"] = None
            game["t"], game["last"] = t + 1, now
        return actions

    def _replan(self, boards, i, t, now):
        """Search; return the plan's actions and the (cell, keys, chests, held) expected before each."""
        self.replans += 1
        plan = self.plan(boards, i, t)
        expected, _ = _simulate(plan.actions, now[0], boards.walls.shape[2], boards.keys[i],
                                boards.chests[i], boards.ghosts[i], now[3])
        return plan.actions, expected


def act_single(policy, game: Game) -> int:
    """One action for a single `rules.Game` (for the Gymnasium env: `env.unwrapped.game`)."""
    return int(policy(game.observe()[None], game.boards())[0])


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


# --- lesson 03 exercise references ---
# Small, self-contained versions of the planner's pieces that lesson 03 asks learners to write:
# scoring events under an objective, a brute-force search over orders of visiting items, and the
# nearest-key rule in the same terms. Items are "places" in a distance matrix, not cells of a grid.


def score_events(counts, weights) -> np.ndarray:
    """The scores of plans from what happens in them, as `Objective.score` computes one.

    counts: [N, 3] numbers, one row per plan: (chests opened, keys collected, steps taken).
    weights: 3 numbers, (per chest, per key, per step), the fields of an `Objective` in that order.
    Returns float [N]: weights[0] * chests + weights[1] * keys + weights[2] * steps for each row.

    >>> score_events([[2, 3, 10]], [1.0, 0.0, -0.1])
    array([1.])
    """
    counts = np.asarray(counts, dtype=float).reshape(-1, 3)
    objective = Objective(chest=float(weights[0]), key=float(weights[1]), step=float(weights[2]))
    return np.array([objective.score(chests=c, keys=k, steps=s) for c, k, s in counts], dtype=float)


def _walk(order, distances, kinds, keys_held) -> tuple[int, int, int] | None:
    """(chests opened, keys collected, steps) of visiting places `order` from place 0; None if the
    order opens a chest without a key in hand."""
    held, chests, keys, steps, here = int(keys_held), 0, 0, 0, 0
    for place in order:
        steps += int(distances[here][place])
        if kinds[place] == "key":
            held, keys = held + 1, keys + 1
        elif kinds[place] == "chest":
            if held == 0:
                return None
            held, chests = held - 1, chests + 1
        else:
            raise ValueError(f"place {place} is a {kinds[place]!r}; a plan visits only 'key' and 'chest' places.")
        here = place
    return chests, keys, steps


def best_visit_order(distances, kinds, budget, weights, keys_held=0) -> tuple[float, list[int]]:
    """Brute-force search: the order of visiting items that an objective scores highest.

    distances: int [n + 1, n + 1], the steps of a shortest path between any two places; place 0 is
    where the agent starts, places 1..n are items. kinds: n + 1 strings, kinds[0] == "start", the
    others "key" or "chest". budget: the most steps a plan may take. weights: (per chest, per key,
    per step) as in `score_events`. keys_held: keys in hand at the start.

    A plan is a sequence of distinct items (possibly empty). Walking it from place 0 costs the sum of
    the distances of its legs, which must not exceed `budget`. Visiting a key picks it up; a chest
    may be visited only while holding a key, and uses that key up. The score is `score_events` of the
    plan's (chests opened, keys collected, steps). Unlike `search`, nothing happens to items passed
    on the way, and the game never ends early.

    Returns (best score, best plan as a list of places). Ties: the higher score (within 1e-9) wins,
    then the fewer steps, then the plan found first when plans are tried shortest first and, within
    one length, in the order of `itertools.permutations(range(1, n + 1), length)`.

    >>> d = [[0, 1, 2], [1, 0, 1], [2, 1, 0]]
    >>> best_visit_order(d, ["start", "key", "chest"], budget=2, weights=[1.0, 0.0, 0.0])
    (1.0, [1, 2])
    """
    from itertools import permutations

    distances = np.asarray(distances).tolist()
    kinds = list(kinds)
    n = len(kinds) - 1
    best_score, best_steps, best_order = 0.0, 0, []  # the empty plan
    for length in range(1, n + 1):
        for order in permutations(range(1, n + 1), length):
            events = _walk(order, distances, kinds, keys_held)
            if events is None or events[2] > budget:
                continue
            score = float(score_events([events], weights)[0])
            if score > best_score + 1e-9 or (score > best_score - 1e-9 and events[2] < best_steps):
                best_score, best_steps, best_order = score, events[2], list(order)
    return best_score, best_order


def nearest_key_order(distances, kinds, budget, keys_held=0) -> list[int]:
    """The order in which the `NearestKey` rule visits items, in the terms of `best_visit_order`.

    Repeatedly go to the nearest item not yet visited: a key while any key is left, otherwise a chest
    (and only while holding a key). Nearest means fewest steps from where the agent stands now; ties
    go to the lower place number. Stop when there is no such item or the nearest one is further away
    than the steps left of `budget`. No objective and no search: one rule applied again and again.

    >>> d = [[0, 1, 2], [1, 0, 1], [2, 1, 0]]
    >>> nearest_key_order(d, ["start", "chest", "key"], budget=5)
    [2, 1]
    """
    distances = np.asarray(distances).tolist()
    kinds = list(kinds)
    left, held, here, order = int(budget), int(keys_held), 0, []
    unvisited = set(range(1, len(kinds)))
    while True:
        keys = [p for p in unvisited if kinds[p] == "key"]
        targets = keys if keys else ([p for p in unvisited if kinds[p] == "chest"] if held > 0 else [])
        if not targets:
            return order
        nearest = min(targets, key=lambda p: (distances[here][p], p))
        if distances[here][nearest] > left:
            return order
        left -= distances[here][nearest]
        held += 1 if kinds[nearest] == "key" else -1
        unvisited.discard(nearest)
        order.append(nearest)
        here = nearest
