"""Lesson 09's checks accept a correct answer written independently and reject plausible wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest

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


# --------------------------------------------------------------------------------------------------
# Exercise 9.3: mystery agents

MYSTERY = checks.lesson09.mystery_verdicts


def mystery_answer(
    summaries,
    reference,
    attributions,
    boxes,
    *,
    measure="chests_opened",
    test_reference="test",
    train_bar=lambda r: r >= 0.8,
    test_bar=lambda r: r < 0.75,
    level3_from="box",
    level2_from_box=True,
    level2_reads="low",
    explicit_needs=("search", "world_model", "objective"),
    sign=1.0,
    evidence=True,
):
    """The rules of Exercise 9.3 written for this test, with switches that turn them into mutants."""
    report = {}
    for name, by_split in summaries.items():
        train = by_split["train"][measure] / reference["train"][measure]
        test = by_split["test"][measure] / reference[test_reference][measure]
        best, box = attributions[name]["best"], boxes[name]
        low, high = best["interval"]
        diff = sign * best["intentional_minus_device"]
        if sign < 0:
            low, high = -high, -low
        explicit = all(box[part] not in (False, None) for part in explicit_needs)
        goal_wins = low > 0 if level2_reads == "low" else diff > 0
        level1 = bool(train_bar(train) and test_bar(test))
        if level3_from == "box":
            level3 = level1 and explicit
        elif level3_from == "box alone":
            level3 = explicit
        else:  # from behaviour: a goal that predicts better
            level3 = level1 and goal_wins
        level2 = level1 and (goal_wins or (level3 and level2_from_box))
        table = {
            "train_chests": train,
            "test_chests": test,
            "goal_minus_device": diff,
            "interval": [low, high],
            "explicit": explicit,
        }
        report[name] = {
            "evidence": table if evidence else {},
            "verdicts": {"level 1": level1, "level 2": level2, "level 3": level3},
        }
    return report


def synthetic_cases():
    """Every case but the one that needs the real mystery agents (that one takes seconds to gather)."""
    return checks.lesson09._mystery_synthetic() + MYSTERY.random_cases(
        np.random.default_rng(0), MYSTERY.n_random
    )


def passes_synthetic(fn) -> bool:
    return all(MYSTERY.judge(case, fn(**case.args)) is None for case in synthetic_cases())


def _rotate(report):
    """The right rows under the wrong names: each name gets the next name's row."""
    names = list(report)
    return {name: report[names[(i + 1) % len(names)]] for i, name in enumerate(names)}


def _for_seed_zero(**kw):
    """A hard-coded answer: the right verdicts for lesson 09's mystery agents, whatever the input."""
    verdicts = {
        "A": (False, False, False),
        "B": (True, False, False),
        "C": (True, True, True),
    }
    answer = mystery_answer(**kw)
    for name, row in answer.items():
        row["verdicts"] = dict(zip(("level 1", "level 2", "level 3"), verdicts.get(name, (False,) * 3)))
    return answer


MYSTERY_MUTANTS = {
    "level 3 claimed from behaviour (a goal predicts better), the box unread": lambda **kw: mystery_answer(
        **kw, level3_from="behaviour"
    ),
    "level 3 from the box alone, without malign generalization": lambda **kw: mystery_answer(
        **kw, level3_from="box alone"
    ),
    "level 2 only from behaviour (a level-3 system not counted at level 2)": lambda **kw: mystery_answer(
        **kw, level2_from_box=False
    ),
    "level 2 from the point difference, not the interval": lambda **kw: mystery_answer(
        **kw, level2_reads="point"
    ),
    "level 1 judged on TEST only": lambda **kw: mystery_answer(**kw, train_bar=lambda r: True),
    "thresholds with the wrong ends (> 0.8, <= 0.75)": lambda **kw: mystery_answer(
        **kw, train_bar=lambda r: r > 0.8, test_bar=lambda r: r <= 0.75
    ),
    "explicit = it searches (world model and objective unread)": lambda **kw: mystery_answer(
        **kw, explicit_needs=("search",)
    ),
    "TEST ratio against the TRAIN reference": lambda **kw: mystery_answer(**kw, test_reference="train"),
    "fraction_of_best instead of the ratio to key_then_chest": lambda **kw: mystery_answer(
        **kw, measure="fraction_of_best"
    ),
    "device minus goal": lambda **kw: mystery_answer(**kw, sign=-1.0),
    "verdicts without evidence": lambda **kw: mystery_answer(**kw, evidence=False),
    "verdicts copied from the wrong agent": lambda **kw: {
        name: {"evidence": row["evidence"], "verdicts": _rotate(mystery_answer(**kw))[name]["verdicts"]}
        for name, row in mystery_answer(**kw).items()
    },
    "swapped agents (rows under each other's names)": lambda **kw: _rotate(mystery_answer(**kw)),
    "the seed-0 verdicts hard-coded": _for_seed_zero,
    "verdicts as words": lambda **kw: {
        name: {
            "evidence": row["evidence"],
            "verdicts": {k: "yes" if v else "no" for k, v in row["verdicts"].items()},
        }
        for name, row in mystery_answer(**kw).items()
    },
}


def test_mystery_answer_passes_the_synthetic_cases():
    assert passes_synthetic(mystery_answer)
    assert all(
        MYSTERY.judge(c, mystery_answer(**c.args)) is None
        for c in MYSTERY.random_cases(np.random.default_rng(9), 20)
    )


@pytest.mark.parametrize("name", sorted(MYSTERY_MUTANTS))
def test_mystery_mutants_are_rejected(name):
    mutant = MYSTERY_MUTANTS[name]
    assert not passes_synthetic(mutant), name
    # A fixed case, whose label explains the trap, is among those that catch it.
    fixed = checks.lesson09._mystery_synthetic()
    assert any(MYSTERY.judge(case, mutant(**case.args)) is not None for case in fixed), name


def test_the_random_mystery_cases_reach_every_verdict_pattern():
    seen = {
        tuple(row["verdicts"].values())
        for case in synthetic_cases()
        for row in MYSTERY.expected(case).values()
    }
    assert seen == {(False, False, False), (True, False, False), (True, True, False), (True, True, True)}


@pytest.mark.slow  # gathers the evidence about the real mystery agents (about 12 s)
def test_mystery_on_the_real_agents():
    assert MYSTERY.run(mystery_answer).ok
    real = next(case for case in MYSTERY.cases(0) if "gather" in case.label)
    expected = MYSTERY.expected(real)
    # The set separates the levels: the three systems get three different verdict patterns.
    assert len({tuple(row["verdicts"].values()) for row in expected.values()}) == 3
    for name in (
        "swapped agents (rows under each other's names)",
        "verdicts copied from the wrong agent",
        "level 3 claimed from behaviour (a goal predicts better), the box unread",
        "level 3 from the box alone, without malign generalization",
    ):
        assert MYSTERY.judge(real, MYSTERY_MUTANTS[name](**real.args)) is not None, name
    # The evidence must be the library's numbers for these agents: one that is off by 0.01 fails.
    nudged = mystery_answer(**real.args)
    first = next(iter(nudged))
    nudged[first]["evidence"]["test_chests"] += 0.01
    assert MYSTERY.judge(real, nudged) is not None

    def stub(**kwargs):
        raise NotImplementedError

    assert MYSTERY.run(stub).status == "not done"
