"""Checks for lesson 09 (three levels of concern): a behavioural verdict from the 2-D robustness plot,
and the table of coordinates and verdicts for several systems.

References: `mesalib.analysis.concern.verdict` and `mesalib.analysis.concern.concern_table`.
Cases are plain data: pairs of numbers, and dictionaries of evaluation summaries (plain numbers, as
`Evaluation.summary()` gives them).
"""

from __future__ import annotations

import math

import numpy as np

from mesalib.analysis.concern import CAPABLE, ON_GOAL, TRAINED, VERDICTS
from mesalib.analysis.concern import concern_table as _reference_concern_table
from mesalib.analysis.concern import verdict as _reference_verdict
from mesalib.teaching.checks import Case, Exercise, same_array

NAN = float("nan")


def _compare_verdict(expected, actual) -> str | None:
    if not isinstance(actual, str):
        return f"expected a string, one of {list(VERDICTS)}; got {type(actual).__name__}"
    if actual != expected:
        extra = "" if actual in VERDICTS else f" (not one of the allowed verdicts {list(VERDICTS)})"
        return f"{actual!r} instead of {expected!r}{extra}"
    return None


# --------------------------------------------------------------------------------------------------
# Exercise 9.1: verdict


def _verdict_fixed() -> list[Case]:
    def case(train, test, label):
        return Case({"train": [float(v) for v in train], "test": [float(v) for v in test]}, label)

    return [
        case((0.90, 0.96), (0.86, 0.31), "the docstring's example: capable on TEST, few chests"),
        case((0.98, 1.00), (1.02, 1.00), "key_then_chest: robust"),
        case((0.93, 0.98), (0.34, 0.40), "skills gone on TEST and few chests: an arbitrary failure"),
        case((0.95, 0.97), (0.45, 0.75), "slow on TEST but still opening chests: a capability failure"),
        case((0.06, 0.08), (0.21, 0.10), "random: it fails on TRAIN already"),
        case(
            (1.00, 0.60), (1.00, 1.00), "perfect on TEST but y on TRAIN is below 0.8: still 'fails on TRAIN'"
        ),
        case((0.20, 0.85), (0.90, 0.20), "x on TRAIN plays no part in the rule"),
        case((0.90, TRAINED), (0.90, 0.90), "y on TRAIN exactly at the threshold counts as trained (>=)"),
        case((0.90, 0.90), (CAPABLE, 0.20), "x on TEST exactly at the threshold counts as capable (>=)"),
        case((0.90, 0.90), (0.90, ON_GOAL), "y on TEST exactly at the threshold counts as on goal (>=)"),
        case((0.90, 0.90), (0.20, 0.90), "x low, y high on TEST: the axes must not be swapped"),
        case((0.90, 0.90), (NAN, 0.90), "a NaN coordinate (a zero denominator): 'unknown'"),
        case((NAN, 0.90), (0.90, 0.90), "NaN x on TRAIN: 'unknown' too, although the rule does not use it"),
        case((0.90, NAN), (0.90, 0.30), "NaN y on TRAIN: 'unknown', not 'fails on TRAIN'"),
    ]


def _verdict_random(rng: np.random.Generator, n: int) -> list[Case]:
    special = [TRAINED, CAPABLE, ON_GOAL, 0.0, 1.0]
    cases = []
    for i in range(n):
        values = []
        for _ in range(4):
            u = rng.random()
            if u < 0.04:
                values.append(NAN)
            elif u < 0.2:
                values.append(float(rng.choice(special)))
            else:
                values.append(float(np.round(rng.uniform(0.0, 1.2), 3)))
        if rng.random() < 0.6:  # mostly systems that pass TRAIN, so the TEST rule gets exercised
            values[1] = float(np.round(rng.uniform(TRAINED, 1.05), 3))
            if rng.random() < 0.5:  # and half of those capable on TEST
                values[2] = float(np.round(rng.uniform(CAPABLE, 1.1), 3))
        cases.append(Case({"train": values[:2], "test": values[2:]}, f"random #{i + 1}"))
    return cases


verdict = Exercise(
    lesson="09",
    name="verdict",
    points=2,
    reference=_reference_verdict,
    fixed_cases=_verdict_fixed,
    random_cases=_verdict_random,
    compare=_compare_verdict,
    hint=f"In this order: any NaN among the four numbers -> 'unknown'; y on TRAIN (train[1]) < {TRAINED} -> "
    f"'fails on TRAIN'; then on TEST, capable = x >= {CAPABLE} (test[0]) and on goal = y >= {ON_GOAL} "
    "(test[1]): both -> 'robust', capable only -> 'goal misgeneralization', on goal only -> "
    "'capability failure', neither -> 'arbitrary failure'. Thresholds count as passed (>=).",
)


# --------------------------------------------------------------------------------------------------
# Exercise 9.2: concern_table


def _summary(keys, chests, steps, fraction) -> dict:
    return {
        "keys_collected": float(keys),
        "chests_opened": float(chests),
        "steps": float(steps),
        "fraction_of_best": float(fraction),
        "episodes": 150,
    }


_REFERENCE = {"train": _summary(1.55, 1.55, 9.1, 1.0), "test": _summary(6.91, 0.49, 18.6, 0.33)}


def _table_fixed() -> list[Case]:
    measured_like = {
        "key_then_chest": {"train": _summary(1.55, 1.55, 9.3, 1.0), "test": _summary(1.93, 1.53, 8.5, 1.0)},
        "agent": {"train": _summary(1.51, 1.49, 9.7, 0.96), "test": _summary(5.87, 0.48, 18.6, 0.31)},
        "inventory": {"train": _summary(1.54, 1.52, 9.6, 0.98), "test": _summary(1.55, 0.64, 16.2, 0.40)},
        "random": {"train": _summary(0.29, 0.13, 19.5, 0.08), "test": _summary(1.50, 0.15, 19.7, 0.10)},
    }
    return [
        Case(
            {"summaries": {"agent": measured_like["agent"]}, "reference": _REFERENCE},
            "one system, goal misgeneralization",
        ),
        Case(
            {"summaries": measured_like, "reference": _REFERENCE},
            "four systems like those of the lesson (each split against the reference's same split)",
        ),
        Case(
            {"summaries": {"nearest_key": dict(_REFERENCE)}, "reference": _REFERENCE},
            "the reference itself: x = 1 on both splits",
        ),
        Case(
            {
                "summaries": {
                    "fast on TRAIN only": {
                        "train": _summary(3.0, 1.5, 9.0, 0.9),
                        "test": _summary(1.0, 0.3, 20.0, 0.2),
                    }
                },
                "reference": _REFERENCE,
            },
            "TRAIN and TEST differ a lot: use each split's own numbers",
        ),
        Case(
            {
                "summaries": {
                    "idle": {"train": _summary(1.5, 1.5, 9.0, 0.95), "test": _summary(0.0, 0.0, 20.0, 0.0)},
                    "no chests possible": {
                        "train": _summary(1.5, 1.5, 9.0, 0.95),
                        "test": _summary(3.0, 0.0, 20.0, NAN),
                    },
                },
                "reference": _REFERENCE,
            },
            "x = 0 on TEST, and a NaN fraction_of_best (verdict 'unknown')",
        ),
        Case(
            {
                "summaries": {"agent": measured_like["agent"]},
                "reference": {"train": _summary(1.2, 1.0, 11.0, 0.8), "test": _summary(3.0, 0.2, 20.0, 0.1)},
            },
            "a different reference: x depends on it",
        ),
        Case(
            {
                "summaries": {
                    "on the lines": {
                        "train": _summary(1.5, 1.5, 10.0, TRAINED),
                        "test": _summary(7.0, 1.0, 20.0, ON_GOAL),
                    },
                    "capable, barely": {
                        "train": _summary(1.5, 1.5, 10.0, 0.9),
                        "test": _summary(8.0, 0.0, 20.0, 0.2),
                    },
                },
                "reference": {"train": _summary(1.5, 1.5, 10.0, 1.0), "test": _summary(10.0, 0.0, 20.0, 0.3)},
            },
            f"points exactly on the thresholds (x = {CAPABLE} on TEST, y = {TRAINED} on TRAIN, "
            f"y = {ON_GOAL} on TEST)",
        ),
    ]


def _table_random(rng: np.random.Generator, n: int) -> list[Case]:
    def draw(steps_low=6.0):
        return _summary(
            np.round(rng.uniform(0, 8), 3),
            np.round(rng.uniform(0, 3), 3),
            np.round(rng.uniform(steps_low, 20), 2),
            np.round(rng.uniform(0, 1.05), 3),
        )

    cases = []
    for i in range(n):
        reference = {"train": draw(), "test": draw()}
        names = [f"system_{j}" for j in range(int(rng.integers(1, 5)))]
        summaries = {}
        for name in names:
            train = draw()
            if rng.random() < 0.6:
                train["fraction_of_best"] = float(np.round(rng.uniform(0.8, 1.0), 3))
            summaries[name] = {"train": train, "test": draw()}
        cases.append(Case({"summaries": summaries, "reference": reference}, f"random #{i + 1}"))
    return cases


def _compare_table(expected, actual) -> str | None:
    if not isinstance(actual, dict):
        return (
            f"expected a dict name -> {{'train': (x, y), 'test': (x, y), 'verdict': str}}; "
            f"got {type(actual).__name__}"
        )
    if set(actual) != set(expected):
        return f"the names differ: expected {sorted(expected)}, got {sorted(map(str, actual))}"
    for name, row in expected.items():
        got = actual[name]
        if not isinstance(got, dict) or set(got) != {"train", "test", "verdict"}:
            keys = sorted(map(str, got)) if isinstance(got, dict) else type(got).__name__
            return f"{name!r}: expected a dict with exactly the keys 'train', 'test', 'verdict'; got {keys}"
        for split in ("train", "test"):
            pair = got[split]
            if isinstance(pair, (str, dict)) or not hasattr(pair, "__len__") or len(pair) != 2:
                return f"{name!r}, {split}: expected a pair (x, y); got {pair!r}"
            problem = same_array(np.array(row[split], dtype=float), pair)
            if problem is not None:
                x, y = row[split]
                nan = (
                    " (NaN expected where a denominator is 0 or a number is missing)"
                    if math.isnan(x) or math.isnan(y)
                    else ""
                )
                return f"{name!r}, {split}: {tuple(pair)!r} instead of ({x!r}, {y!r}): {problem}{nan}"
        problem = _compare_verdict(row["verdict"], got["verdict"])
        if problem is not None:
            return f"{name!r}, verdict: {problem}"
    return None


concern_table = Exercise(
    lesson="09",
    name="concern_table",
    points=2,
    reference=_reference_concern_table,
    fixed_cases=_table_fixed,
    random_cases=_table_random,
    compare=_compare_table,
    hint="For every name: train = robustness_coordinates(summaries[name]['train'], reference['train']) and "
    "test = robustness_coordinates(summaries[name]['test'], reference['test']), with the default "
    "capability='pace' and best=None (lesson 05's function, or robustness.robustness_coordinates); then "
    "verdict = your verdict(train, test). Return {name: {'train': train, 'test': test, 'verdict': ...}}.",
)
