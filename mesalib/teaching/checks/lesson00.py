"""Checks for lesson 00 (the warm-up that teaches how exercises and checks work)."""

from __future__ import annotations

import numpy as np

from mesalib.analysis.evaluate import discounted_return as _reference_discounted_return
from mesalib.teaching.checks import Case, Exercise, close_number


def _fixed() -> list[Case]:
    return [
        Case({"rewards": [1.0], "gamma": 0.9}, "one reward, now"),
        Case({"rewards": [0.0, 0.0, 1.0], "gamma": 0.9}, "a chest opened on the third step"),
        Case({"rewards": [1.0, 1.0, 1.0], "gamma": 1.0}, "no discount: the plain sum"),
        Case({"rewards": [], "gamma": 0.9}, "an empty episode"),
        Case({"rewards": [0.0, 1.0, 0.0, 1.0], "gamma": 0.5}, "two chests"),
    ]


def _random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        length = int(rng.integers(1, 25))
        rewards = (rng.random(length) < 0.3).astype(float) - 0.01 * rng.integers(0, 2)
        cases.append(
            Case(
                {"rewards": [float(r) for r in rewards], "gamma": float(rng.choice([0.5, 0.9, 0.97, 0.99]))},
                f"random #{i + 1}",
            )
        )
    return cases


discounted_return = Exercise(
    lesson="00",
    name="discounted_return",
    points=1,
    reference=_reference_discounted_return,
    fixed_cases=_fixed,
    random_cases=_random,
    compare=close_number,
    nudge="A reward counts for less the later it comes. By how much, at step t?",
    hint="The reward at step t (counting from 0) is worth gamma**t of a reward now; add them all up.",
)
