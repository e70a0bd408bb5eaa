"""Checks for lesson 03 (search and explicit objectives).

The references are the library's small versions of the planner's pieces (the end of `policies.py`):
scoring events under an objective, a brute-force search over orders of visiting items, and the
nearest-key rule written in the same terms.
"""

from __future__ import annotations

import numpy as np

from mesalib.agents.visit_orders import best_visit_order as _reference_best_visit_order
from mesalib.agents.visit_orders import nearest_key_order as _reference_nearest_key_order
from mesalib.agents.visit_orders import score_events as _reference_score_events
from mesalib.teaching.checks import Case, Exercise, close_number, same_array

# Weights are multiples of powers of two, so sums of them are exact in floating point and plans
# with equal scores really tie.
_CHEST_WEIGHTS = (0.5, 1.0, 1.0, 2.0)
_KEY_WEIGHTS = (0.0, 0.0, 0.5, 1.0)
_STEP_WEIGHTS = (0.0, -0.015625, -0.0625, -0.125)


# --------------------------------------------------------------------------------------------------
# Exercise 3.1: score_events


def _score_fixed() -> list[Case]:
    return [
        Case(
            {"counts": np.array([[2, 3, 10]]), "weights": [1.0, 0.0, 0.0]},
            "the environment's reward: only chests count",
        ),
        Case({"counts": np.array([[2, 3, 10]]), "weights": [0.0, 1.0, 0.0]}, "a key collector"),
        Case(
            {"counts": np.array([[2, 3, 10]]), "weights": [1.0, 0.0, -0.1]},
            "chests, and a cost for every step (a negative step weight)",
        ),
        Case(
            {"counts": np.array([[1, 1, 4], [1, 1, 8], [0, 2, 3]]), "weights": [1.0, 0.5, -0.25]},
            "three plans at once: one score per row",
        ),
        Case(
            {"counts": np.array([[0, 0, 0], [0, 0, 5]]), "weights": [2.0, 1.0, -1.0]},
            "the empty plan scores 0; steps alone score below it",
        ),
    ]


def _score_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        plans = int(rng.integers(1, 6))
        counts = np.stack(
            [rng.integers(0, 6, plans), rng.integers(0, 8, plans), rng.integers(0, 21, plans)], axis=1
        )
        weights = [
            float(rng.choice([0.0, 0.5, 1.0, 2.0])),
            float(rng.choice([0.0, 0.1, 0.5, 1.0])),
            float(rng.choice([0.0, -0.01, -0.05, -0.25, 0.1])),
        ]
        cases.append(Case({"counts": counts, "weights": weights}, f"random #{i + 1}"))
    return cases


score_events = Exercise(
    lesson="03",
    name="score_events",
    points=1,
    reference=_reference_score_events,
    fixed_cases=_score_fixed,
    random_cases=_score_random,
    nudge=(
        "A plan's score is a weighted sum of what it achieves. Which count goes with which weight, and "
        "what does a weight's sign already say?"
    ),
    hint="Row i of counts is (chests, keys, steps) of plan i; weights are (per chest, per key, per step) in "
    "that order. Add weight times count for each column, keeping the weights' signs as given "
    "(a negative step weight already means 'steps cost'). Return one score per row.",
)


# --------------------------------------------------------------------------------------------------
# Exercise 3.2: best_visit_order and Exercise 3.3: nearest_key_order share their boards


def _places(rng: np.random.Generator, n_keys: int, n_chests: int, size: int = 7):
    """Random distinct cells of an open size x size room: the start, then items in random order.
    Returns (distances int [n+1, n+1] of walking steps, kinds)."""
    cells = rng.choice(size * size, size=1 + n_keys + n_chests, replace=False)
    rc = np.stack(np.divmod(cells, size), axis=1)
    kinds = ["start"] + list(rng.permutation(["key"] * n_keys + ["chest"] * n_chests))
    distances = np.abs(rc[:, None, :] - rc[None, :, :]).sum(axis=2).astype(np.int64)
    return distances, [str(k) for k in kinds]


# A start between a lone key on one side (1 step) and a key with two chests on the other (2 steps).
_TWO_SIDES = np.array(
    [
        # start, key A, key B, chest, chest
        [0, 1, 2, 3, 3],
        [1, 0, 3, 4, 4],
        [2, 3, 0, 1, 1],
        [3, 4, 1, 0, 2],
        [3, 4, 1, 2, 0],
    ]
)
_TWO_SIDES_KINDS = ["start", "key", "key", "chest", "chest"]

# Chests right next to the start, the only key far away.
_FAR_KEY = np.array(
    [
        [0, 1, 1, 6],
        [1, 0, 2, 7],
        [1, 2, 0, 5],
        [6, 7, 5, 0],
    ]
)
_FAR_KEY_KINDS = ["start", "chest", "chest", "key"]

# Two keys equally far (2 steps), a chest beyond each; one chest closer to key 1.
_TIES = np.array(
    [
        [0, 2, 2, 3, 3],
        [2, 0, 4, 1, 5],
        [2, 4, 0, 5, 1],
        [3, 1, 5, 0, 6],
        [3, 5, 1, 6, 0],
    ]
)
_TIES_KINDS = ["start", "key", "key", "chest", "chest"]


def _order_fixed() -> list[Case]:
    return [
        Case(
            {
                "distances": np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]]),
                "kinds": ["start", "key", "chest"],
                "budget": 2,
                "weights": [1.0, 0.0, 0.0],
                "keys_held": 0,
            },
            "the docstring's example: key, then chest",
        ),
        Case(
            {
                "distances": _TWO_SIDES,
                "kinds": _TWO_SIDES_KINDS,
                "budget": 10,
                "weights": [1.0, 0.0, 0.0],
                "keys_held": 0,
            },
            "enough steps for both keys and both chests",
        ),
        Case(
            {
                "distances": _TWO_SIDES,
                "kinds": _TWO_SIDES_KINDS,
                "budget": 4,
                "weights": [1.0, 0.0, 0.0],
                "keys_held": 0,
            },
            "4 steps: the nearer key leads nowhere, the farther one to a chest (nearest-first fails)",
        ),
        Case(
            {
                "distances": _TWO_SIDES,
                "kinds": _TWO_SIDES_KINDS,
                "budget": 20,
                "weights": [1.0, 0.0, -0.25],
                "keys_held": 0,
            },
            "a step cost: a shorter plan scores more",
        ),
        Case(
            {
                "distances": _FAR_KEY,
                "kinds": _FAR_KEY_KINDS,
                "budget": 4,
                "weights": [1.0, 0.0, 0.0],
                "keys_held": 0,
            },
            "chests next door but no key within reach: nothing can be opened",
        ),
        Case(
            {
                "distances": _FAR_KEY,
                "kinds": _FAR_KEY_KINDS,
                "budget": 4,
                "weights": [1.0, 0.0, 0.0],
                "keys_held": 1,
            },
            "one key in hand: one chest, the nearer plan",
        ),
        Case(
            {
                "distances": _FAR_KEY,
                "kinds": _FAR_KEY_KINDS,
                "budget": 30,
                "weights": [1.0, 0.0, -0.0625],
                "keys_held": 0,
            },
            "fetch the far key first, then open a chest",
        ),
        Case(
            {
                "distances": _TWO_SIDES,
                "kinds": _TWO_SIDES_KINDS,
                "budget": 12,
                "weights": [0.0, 1.0, 0.0],
                "keys_held": 0,
            },
            "a key collector: chests are worth nothing",
        ),
        Case(
            {
                "distances": _TWO_SIDES,
                "kinds": _TWO_SIDES_KINDS,
                "budget": 12,
                "weights": [0.0, 0.0, -1.0],
                "keys_held": 0,
            },
            "only steps count, and they cost: the empty plan",
        ),
        Case(
            {
                "distances": _TIES,
                "kinds": _TIES_KINDS,
                "budget": 4,
                "weights": [1.0, 0.0, 0.0],
                "keys_held": 0,
            },
            "equal plans: the one found first wins",
        ),
        Case(
            {
                "distances": np.zeros((1, 1), dtype=np.int64),
                "kinds": ["start"],
                "budget": 10,
                "weights": [1.0, 1.0, -0.25],
                "keys_held": 0,
            },
            "an empty level",
        ),
    ]


def _order_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        n_keys = int(rng.choice([0, 1, 1, 2, 2, 3]))
        n_chests = int(rng.integers(1, 7 - n_keys))
        distances, kinds = _places(rng, n_keys, n_chests)
        held = int(rng.choice([1, 2] if n_keys == 0 else [0, 0, 0, 1, 2]))
        cases.append(
            Case(
                {
                    "distances": distances,
                    "kinds": kinds,
                    "budget": int(rng.integers(6, 21)),
                    "weights": [
                        float(rng.choice(_CHEST_WEIGHTS)),
                        float(rng.choice(_KEY_WEIGHTS)),
                        float(rng.choice(_STEP_WEIGHTS)),
                    ],
                    "keys_held": held,
                },
                f"random #{i + 1}",
            )
        )
    return cases


def _compare_score_and_order(expected, actual) -> str | None:
    if not isinstance(actual, (tuple, list)) or len(actual) != 2:
        return f"expected a pair (best score, best order); got {type(actual).__name__}"
    problem = close_number(expected[0], actual[0], tol=1e-9)
    if problem is not None:
        return f"best score: {problem}"
    problem = _order_problem(expected[1], actual[1])
    return None if problem is None else f"best {problem}"


def _order_problem(expected, actual) -> str | None:
    """None when `actual` lists the same places as `expected`, in the same order."""
    problem = same_array(np.asarray(expected, dtype=np.int64), actual)
    if problem is None:
        return None
    try:
        shown = [int(p) for p in actual]
    except (TypeError, ValueError):
        return f"order: {problem}"
    return f"order {shown} instead of {list(expected)}"


best_visit_order = Exercise(
    lesson="03",
    name="best_visit_order",
    points=3,
    reference=_reference_best_visit_order,
    fixed_cases=_order_fixed,
    random_cases=_order_random,
    compare=_compare_score_and_order,
    nudge=(
        "With so few places you can afford to try every order of every subset. What makes a plan "
        "impossible, and how do you choose between two plans with the same score?"
    ),
    hint=(
        "Try every order of every subset: for length in 1..n, "
        "for order in itertools.permutations(range(1, n + 1), length). "
        "Walk it from place 0, adding distances[here][next] to the steps; give up on the order if a "
        "chest comes while no key is held or the steps exceed the budget. Score (chests, keys, steps) with "
        "score_events, and replace the best only when the score is higher, or equal with fewer steps. "
        "Start from the empty plan: (0.0, [])."
    ),
)


def _greedy_fixed() -> list[Case]:
    return [
        Case(
            {
                "distances": np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]]),
                "kinds": ["start", "chest", "key"],
                "budget": 5,
                "keys_held": 0,
            },
            "the docstring's example: the key first, though the chest is nearer",
        ),
        Case(
            {"distances": _TWO_SIDES, "kinds": _TWO_SIDES_KINDS, "budget": 20, "keys_held": 0},
            "nearest key first, measured from where the agent stands each time",
        ),
        Case(
            {"distances": _TWO_SIDES, "kinds": _TWO_SIDES_KINDS, "budget": 5, "keys_held": 0},
            "stop when the nearest target is further than the steps left",
        ),
        Case(
            {"distances": _FAR_KEY, "kinds": _FAR_KEY_KINDS, "budget": 30, "keys_held": 1},
            "holding a key, still the key first, then chests",
        ),
        Case(
            {
                "distances": _FAR_KEY,
                "kinds": ["start", "chest", "chest", "chest"],
                "budget": 30,
                "keys_held": 2,
            },
            "no keys on the board: chests while keys last",
        ),
        Case(
            {
                "distances": _FAR_KEY,
                "kinds": ["start", "chest", "chest", "chest"],
                "budget": 30,
                "keys_held": 0,
            },
            "no key anywhere: nothing to do",
        ),
        Case(
            {"distances": _TIES, "kinds": _TIES_KINDS, "budget": 30, "keys_held": 0},
            "two keys at the same distance: the lower place number",
        ),
        Case(
            {"distances": np.zeros((1, 1), dtype=np.int64), "kinds": ["start"], "budget": 10, "keys_held": 0},
            "an empty level",
        ),
    ]


def _greedy_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        n_keys = int(rng.choice([0, 1, 2, 2, 3, 3, 4]))
        n_chests = int(rng.integers(1, 8 - n_keys))
        distances, kinds = _places(rng, n_keys, n_chests)
        cases.append(
            Case(
                {
                    "distances": distances,
                    "kinds": kinds,
                    "budget": int(rng.integers(6, 25)),
                    "keys_held": int(rng.choice([0, 0, 1, 2])),
                },
                f"random #{i + 1}",
            )
        )
    return cases


def _compare_order(expected, actual) -> str | None:
    if not isinstance(actual, (list, tuple, np.ndarray)):
        return f"expected a list of place numbers; got {type(actual).__name__}"
    return _order_problem(expected, actual)


nearest_key_order = Exercise(
    lesson="03",
    name="nearest_key_order",
    points=2,
    reference=_reference_nearest_key_order,
    fixed_cases=_greedy_fixed,
    random_cases=_greedy_random,
    compare=_compare_order,
    nudge=(
        "Simulate the greedy walk: at each stop, which places are targets now, which one is nearest, and "
        "when must the walk end?"
    ),
    hint="Keep the place you stand on, the steps left and the keys held. While any key is unvisited the "
    "targets are the unvisited keys; otherwise the unvisited chests, but only while a key is held. Go to "
    "the target with the fewest steps from where you stand now (ties: the lower number); stop when there "
    "is none or it is further than the steps left.",
)
