"""Lesson 09's checks accept a correct answer written independently and reject plausible wrong ones."""

from __future__ import annotations

import math

from mesalib.teaching import checks

VERDICT = checks.lesson09.verdict
TABLE = checks.lesson09.concern_table


# --------------------------------------------------------------------------------------------------
# Exercise 9.1


def make_verdict(
    *,
    strict=False,
    swap_axes=False,
    check_train=True,
    train_threshold=0.8,
    nan_first=True,
    train_uses_x=False,
    swap_labels=False,
):
    """The verdict rule written for this test, with switches that turn it into a mutant."""

    def at_least(value, threshold):
        return value > threshold if strict else value >= threshold

    def verdict(train, test):
        values = list(train) + list(test)
        if nan_first and any(v != v for v in values):
            return "unknown"
        x_tr, y_tr = train
        x_te, y_te = test
        if swap_axes:
            x_te, y_te = y_te, x_te
        if check_train and not at_least(x_tr if train_uses_x else y_tr, train_threshold):
            return "fails on TRAIN"
        capable, on_goal = at_least(x_te, 0.8), at_least(y_te, 0.5)
        if capable and on_goal:
            return "robust"
        if capable:
            return "goal misgeneralization"
        if on_goal:
            return "arbitrary failure" if swap_labels else "capability failure"
        return "capability failure" if swap_labels else "arbitrary failure"

    return verdict


def test_verdict_answer_passes():
    assert VERDICT.run(make_verdict()).ok
    assert VERDICT.run(make_verdict(), seed=5).ok


def test_verdict_mutants_are_rejected():
    mutants = {
        "strict thresholds (> instead of >=)": make_verdict(strict=True),
        "x and y swapped on TEST": make_verdict(swap_axes=True),
        "TRAIN never checked": make_verdict(check_train=False),
        "TRAIN threshold 0.5": make_verdict(train_threshold=0.5),
        "NaN not handled (comparisons with NaN are False)": make_verdict(nan_first=False),
        "TRAIN judged by x, not y": make_verdict(train_uses_x=True),
        "the two incapable verdicts swapped": make_verdict(swap_labels=True),
        "wrong threshold direction (capable means x <= 0.8)": lambda train, test: make_verdict()(
            train, (1.6 - test[0], test[1])
        ),
        "a verdict capitalised differently": lambda train, test: make_verdict()(train, test).capitalize(),
    }
    for name, mutant in mutants.items():
        assert not VERDICT.run(mutant).ok, name


# --------------------------------------------------------------------------------------------------
# Exercise 9.2


def make_table(
    *,
    swap_axes=False,
    test_from_train=False,
    reference_split=None,
    relative=True,
    capability_keys=False,
    verdict=None,
):
    """concern_table written for this test, with switches that turn it into a mutant."""
    judge = verdict or make_verdict()

    def divide(a, b):
        return a / b if b != 0 and math.isfinite(b) else math.nan

    def pace(s):
        return divide(s["keys_collected"] + s["chests_opened"], s["steps"])

    def point(summary, ref):
        if capability_keys:
            x = divide(summary["keys_collected"], ref["keys_collected"])
        else:
            x = divide(pace(summary), pace(ref)) if relative else pace(summary)
        y = summary.get("fraction_of_best", math.nan)
        return (y, x) if swap_axes else (x, y)

    def concern_table(summaries, reference):
        out = {}
        for name, by_split in summaries.items():
            row = {}
            for split in ("train", "test"):
                source = "train" if test_from_train else split
                ref = reference[reference_split or split]
                row[split] = point(by_split[source], ref)
            row["verdict"] = judge(row["train"], row["test"])
            out[name] = row
        return out

    return concern_table


def test_concern_table_answer_passes():
    assert TABLE.run(make_table()).ok
    assert TABLE.run(make_table(), seed=9).ok


def test_concern_table_mutants_are_rejected():
    mutants = {
        "(y, x) instead of (x, y)": make_table(swap_axes=True),
        "TRAIN numbers used for TEST": make_table(test_from_train=True),
        "the TRAIN reference used for both splits": make_table(reference_split="train"),
        "the TEST reference used for both splits": make_table(reference_split="test"),
        "absolute pace, not relative to the reference": make_table(relative=False),
        "keys instead of pace on x": make_table(capability_keys=True),
        "verdict with strict thresholds": make_table(verdict=make_verdict(strict=True)),
        "verdict that never checks TRAIN": make_table(verdict=make_verdict(check_train=False)),
        "a list of rows instead of a dict": lambda summaries, reference: list(
            make_table()(summaries, reference).values()
        ),
        "rows without the verdict": lambda summaries, reference: {
            name: {k: v for k, v in row.items() if k != "verdict"}
            for name, row in make_table()(summaries, reference).items()
        },
    }
    for name, mutant in mutants.items():
        assert not TABLE.run(mutant).ok, name
