"""Checks for lesson 05 (goal misgeneralization): the coordinates of the 2-D robustness plot, and a
behavioural objective written as a reward function over evaluation records.

References: `mesalib.analysis.robustness.robustness_coordinates` and
`mesalib.analysis.behaviour.score_episodes`. Cases are dictionaries of plain numbers (summaries, as
`Evaluation.summary()` gives them) or of lists (records, as `Evaluation.records` holds them).
"""

from __future__ import annotations

import math

import numpy as np

from mesalib.analysis.behaviour import score_episodes as _reference_score_episodes
from mesalib.analysis.robustness import robustness_coordinates as _reference_robustness_coordinates
from mesalib.teaching.checks import Case, Exercise, same_array

NAN = float("nan")


# --------------------------------------------------------------------------------------------------
# Exercise 5.1: robustness_coordinates


def _summary(keys, chests, steps, fraction=None) -> dict:
    s = {"keys_collected": float(keys), "chests_opened": float(chests), "steps": float(steps)}
    if fraction is not None:
        s["fraction_of_best"] = float(fraction)
    return s


def _coord_fixed() -> list[Case]:
    nk_test = _summary(6.2, 0.3, 20.0)
    return [
        Case(
            {
                "summary": _summary(3.0, 1.0, 10.0, 0.4),
                "reference": _summary(7.0, 1.0, 20.0),
                "best": None,
                "capability": "pace",
            },
            "the docstring's example: 4 items in 10 steps against 8 in 20 is the same pace",
        ),
        Case(
            {
                "summary": _summary(4.9, 0.45, 20.0, 0.31),
                "reference": nk_test,
                "best": None,
                "capability": "pace",
            },
            "a key collector on TEST: nearly nearest_key's pace, few chests",
        ),
        Case(
            {
                "summary": _summary(1.9, 1.2, 20.0, 0.93),
                "reference": nk_test,
                "best": None,
                "capability": "keys",
            },
            "capability='keys': keys collected relative to the reference, nothing else",
        ),
        Case(
            {
                "summary": _summary(1.9, 1.2, 20.0, 0.93),
                "reference": nk_test,
                "best": None,
                "capability": "pace",
            },
            "the same summary with the default capability='pace': chests count as items too",
        ),
        Case(
            {
                "summary": _summary(2.0, 1.5, 12.0, 0.7),
                "reference": _summary(1.8, 1.6, 11.0),
                "best": _summary(1.9, 2.0, 9.0),
                "capability": "pace",
            },
            "with a planner summary `best`: y = chests opened / the planner's chests opened",
        ),
        Case(
            {
                "summary": _summary(0.0, 0.0, 20.0, 0.0),
                "reference": _summary(1.5, 2.5, 8.0, 0.9),
                "best": None,
                "capability": "pace",
            },
            "a policy that picks nothing up: x = 0, y = 0",
        ),
        Case(
            {
                "summary": _summary(1.0, 0.0, 20.0, 0.0),
                "reference": _summary(0.0, 0.0, 20.0),
                "best": None,
                "capability": "pace",
            },
            "the reference picks nothing up: x is NaN (no pace to compare with)",
        ),
        Case(
            {
                "summary": _summary(1.0, 0.5, 10.0, NAN),
                "reference": _summary(2.0, 0.0, 10.0),
                "best": None,
                "capability": "keys",
            },
            "no chest could be opened on any level: fraction_of_best is NaN, so y is NaN",
        ),
        Case(
            {
                "summary": _summary(1.0, 0.5, 10.0),
                "reference": _summary(2.0, 0.0, 10.0),
                "best": None,
                "capability": "pace",
            },
            "a summary without fraction_of_best and no `best`: y is NaN",
        ),
        Case(
            {
                "summary": _summary(2.0, 0.0, 15.0, 0.0),
                "reference": _summary(2.0, 0.0, 15.0),
                "best": _summary(0.0, 0.0, 15.0),
                "capability": "keys",
            },
            "`best` opened no chest: y is NaN",
        ),
        Case(
            {
                "summary": _summary(0.0, 0.0, 0.0, 0.0),
                "reference": _summary(2.0, 0.0, 15.0),
                "best": None,
                "capability": "pace",
            },
            "a summary with zero steps: its pace, and so x, is NaN",
        ),
    ]


def _random_summary(rng: np.random.Generator, steps: float) -> dict:
    """A summary with random keys, chests and fraction for episodes of `steps` steps (rounded as shown)."""
    return _summary(
        np.round(rng.uniform(0, 8), 3),
        np.round(rng.uniform(0, 4), 3),
        steps,
        np.round(rng.uniform(0, 1), 3),
    )


def _coord_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        steps = float(rng.choice([20.0, 20.0, float(np.round(rng.uniform(6, 20), 2))]))
        summary, reference = _random_summary(rng, steps), _random_summary(rng, steps)
        best = None
        if rng.random() < 0.3:
            best = _summary(
                np.round(rng.uniform(0, 8), 3),
                np.round(rng.uniform(0.5, 5), 3),
                np.round(rng.uniform(4, steps), 2),
            )
        capability = str(rng.choice(["pace", "pace", "keys"]))
        cases.append(
            Case(
                {"summary": summary, "reference": reference, "best": best, "capability": capability},
                f"random #{i + 1}",
            )
        )
    return cases


def _compare_pair(expected, actual) -> str | None:
    if isinstance(actual, dict) or not hasattr(actual, "__len__") or len(actual) != 2:
        return f"expected a pair (x, y); got {type(actual).__name__}"
    for name, e, a in (("x (capability)", expected[0], actual[0]), ("y (objective)", expected[1], actual[1])):
        problem = same_array(np.float64(e), a)
        if problem is not None:
            return f"{name}: {a!r} instead of {e!r}" + (
                " (expected NaN: a denominator is 0 or missing)" if math.isnan(e) else ""
            )
    return None


robustness_coordinates = Exercise(
    lesson="05",
    name="robustness_coordinates",
    points=2,
    reference=_reference_robustness_coordinates,
    fixed_cases=_coord_fixed,
    random_cases=_coord_random,
    compare=_compare_pair,
    nudge=(
        "x measures skill relative to the reference policy, y the intended goal relative to the best "
        "possible. What should a division by zero give?"
    ),
    hint="x with capability='pace': (keys_collected + chests_opened) / steps for the summary, divided by the "
    "same for the reference; with 'keys': keys_collected / the reference's keys_collected. y: "
    "summary['fraction_of_best'] when best is None (NaN if it is missing), else chests_opened / "
    "best['chests_opened']. Any division by 0 (or by NaN) gives NaN, not 0 and not an error.",
)


# --------------------------------------------------------------------------------------------------
# Exercise 5.2: behavioural_reward


_FIELDS = ("chest", "key", "step", "ghost")


def _records(chests, keys, steps, ghosts) -> dict:
    chests = [int(v) for v in chests]
    return {
        "return": [float(c) for c in chests],
        "chests_opened": chests,
        "keys_collected": [int(v) for v in keys],
        "ghost_chests_opened": [int(v) for v in ghosts],
        "steps": [int(v) for v in steps],
        "wall_bumps": [0] * len(chests),
    }


def _behaviour_fixed() -> list[Case]:
    three = _records([1, 0, 2], [2, 5, 3], [20, 20, 14], [0, 1, 0])
    return [
        Case(
            {"records": three, "weights": {"chest": 1.0}},
            "the environment's reward: chests opened, episode by episode",
        ),
        Case({"records": three, "weights": {"key": 1.0}}, "the key proxy: keys collected"),
        Case(
            {"records": three, "weights": {"chest": 1.0, "key": 0.0, "step": 0.0, "ghost": 0.0}},
            "all four weights given, three of them 0",
        ),
        Case(
            {"records": three, "weights": {"key": 1.0, "chest": 0.5, "step": -0.125}},
            "keys, half a point per chest, and a cost per step (a negative weight)",
        ),
        Case(
            {"records": three, "weights": {"ghost": 1.0, "chest": -1.0}},
            "ghost chests opened minus visible ones",
        ),
        Case(
            {"records": _records([3], [3], [9], [2]), "weights": {"chest": 2.0, "key": 0.25}},
            "a single episode: still an array of length 1",
        ),
        Case(
            {"records": _records([0, 0], [0, 0], [20, 20], [0, 0]), "weights": {"step": -0.5}},
            "only steps count",
        ),
    ]


def _behaviour_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        episodes = int(rng.integers(1, 9))
        chests = rng.integers(0, 4, episodes)
        records = _records(
            chests, rng.integers(0, 9, episodes), rng.integers(3, 21, episodes), rng.integers(0, 3, episodes)
        )
        names = [f for f in _FIELDS if rng.random() < 0.6] or ["key"]
        weights = {
            f: float(
                rng.choice([1.0, 0.5, 0.25, 2.0, -0.25, -1.0] if f != "step" else [-0.125, -0.0625, 0.25])
            )
            for f in names
        }
        cases.append(Case({"records": records, "weights": weights}, f"random #{i + 1}"))
    return cases


def _compare_scores(expected, actual) -> str | None:
    if np.ndim(actual) == 0:
        return f"expected one score per episode (an array of length {len(expected)}); got a single value"
    return same_array(expected, actual)


behavioural_reward = Exercise(
    lesson="05",
    name="behavioural_reward",
    points=2,
    reference=_reference_score_episodes,
    fixed_cases=_behaviour_fixed,
    random_cases=_behaviour_random,
    compare=_compare_scores,
    nudge=(
        "Score each episode as a weighted sum of the events it recorded. What does a weight that is not "
        "given count as?"
    ),
    hint="For each episode i: weights['chest'] * records['chests_opened'][i] + weights['key'] * "
    "records['keys_collected'][i] + weights['step'] * records['steps'][i] + weights['ghost'] * "
    "records['ghost_chests_opened'][i], with a missing weight counting as 0 (weights.get(name, 0.0)). "
    "Keep the signs as given and return an array with one score per episode.",
)
