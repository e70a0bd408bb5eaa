"""Lesson 05's checks accept a correct answer written independently and reject plausible wrong ones."""

from __future__ import annotations

import math

import numpy as np

from mesalib.teaching import checks

COORD = checks.lesson05.robustness_coordinates
REWARD = checks.lesson05.behavioural_reward


# --------------------------------------------------------------------------------------------------
# Exercise 5.1


def make_coordinates(
    *,
    chests_in_pace=True,
    honour_capability=True,
    use_best=True,
    relative=True,
    zero_gives_nan=True,
    swap=False,
):
    """robustness_coordinates written for this test, with switches that turn it into a mutant."""

    def divide(a, b):
        if b == 0 or not math.isfinite(b):
            return math.nan if zero_gives_nan else 0.0
        return a / b

    def coordinates(summary, reference, best=None, capability="pace"):
        if capability == "keys" and honour_capability:
            x = divide(summary["keys_collected"], reference["keys_collected"])
        else:

            def pace(s):
                items = s["keys_collected"] + (s["chests_opened"] if chests_in_pace else 0.0)
                return divide(items, s["steps"])

            x = divide(pace(summary), pace(reference)) if relative else pace(summary)
        if best is not None and use_best:
            y = divide(summary["chests_opened"], best["chests_opened"])
        else:
            y = summary.get("fraction_of_best", math.nan)
        return (y, x) if swap else (x, y)

    return coordinates


def test_robustness_coordinates_answer_passes():
    assert COORD.run(make_coordinates()).ok
    assert COORD.run(make_coordinates(), seed=11).ok


def test_robustness_coordinates_mutants_are_rejected():
    mutants = {
        "pace counts keys only": make_coordinates(chests_in_pace=False),
        "capability argument ignored": make_coordinates(honour_capability=False),
        "best ignored": make_coordinates(use_best=False),
        "absolute pace, not relative to the reference": make_coordinates(relative=False),
        "division by zero gives 0": make_coordinates(zero_gives_nan=False),
        "(y, x) instead of (x, y)": make_coordinates(swap=True),
        "raises on a missing fraction_of_best": lambda summary, reference, best=None, capability="pace": (
            make_coordinates()(summary, reference, best, capability)[0],
            summary["fraction_of_best"] if best is None else summary["chests_opened"] / best["chests_opened"],
        ),
        "a dict instead of a pair": lambda summary, reference, best=None, capability="pace": dict(
            zip("xy", make_coordinates()(summary, reference, best, capability))
        ),
    }
    for name, mutant in mutants.items():
        assert not COORD.run(mutant).ok, name


# --------------------------------------------------------------------------------------------------
# Exercise 5.2


COLUMNS = {"chest": "chests_opened", "key": "keys_collected", "step": "steps", "ghost": "ghost_chests_opened"}


def make_reward(*, columns=COLUMNS, default=0.0, step_sign=1.0, per_episode=True):
    def reward(records, weights):
        total = np.zeros(len(records["steps"]))
        for name, column in columns.items():
            w = weights.get(name, default) if default is not None else weights[name]
            if name == "step":
                w = step_sign * w
            total = total + w * np.asarray(records[column], dtype=float)
        return total if per_episode else float(total.mean())

    return reward


def test_behavioural_reward_answer_passes():
    assert REWARD.run(make_reward()).ok
    assert REWARD.run(make_reward(), seed=5).ok


def test_behavioural_reward_mutants_are_rejected():
    swapped = dict(COLUMNS, chest="keys_collected", key="chests_opened")
    mutants = {
        "chest and key records swapped": make_reward(columns=swapped),
        "ghost chests forgotten": make_reward(columns={k: v for k, v in COLUMNS.items() if k != "ghost"}),
        "steps forgotten": make_reward(columns={k: v for k, v in COLUMNS.items() if k != "step"}),
        "step weight's sign flipped ('steps cost', so subtract)": make_reward(step_sign=-1.0),
        "every weight required (KeyError when one is missing)": make_reward(default=None),
        "a missing weight counts 1": make_reward(default=1.0),
        "the mean over episodes instead of one score each": make_reward(per_episode=False),
        "the environment's return, whatever the weights": lambda records, weights: np.asarray(
            records["return"]
        ),
    }
    for name, mutant in mutants.items():
        assert not REWARD.run(mutant).ok, name
