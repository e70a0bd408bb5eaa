"""Small, self-contained versions of the planner's pieces that lesson 03 asks learners to write:
scoring events under an objective, a brute-force search over orders of visiting items, and the
nearest-key rule in the same terms. Items are "places" in a distance matrix, not cells of a grid.
"""

from __future__ import annotations

import numpy as np

from mesalib.agents.objectives import Objective


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
            raise ValueError(
                f"place {place} is a {kinds[place]!r}; a plan visits only 'key' and 'chest' places."
            )
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
    left, held, here = int(budget), int(keys_held), 0
    order: list[int] = []
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
