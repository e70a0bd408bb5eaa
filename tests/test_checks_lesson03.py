"""Lesson 03's checks accept a correct answer written independently and reject plausible wrong ones."""

from __future__ import annotations

from itertools import permutations

import numpy as np

from mesalib.teaching import checks

SCORE = checks.lesson03.score_events
ORDER = checks.lesson03.best_visit_order
GREEDY = checks.lesson03.nearest_key_order


# --------------------------------------------------------------------------------------------------
# Exercise 3.1


def score_answer(counts, weights):
    return np.asarray(counts, dtype=float) @ np.asarray(weights, dtype=float)


def test_score_events_answer_passes():
    assert SCORE.run(score_answer).ok
    assert SCORE.run(score_answer, seed=7).ok


def test_score_events_mutants_are_rejected():
    mutants = {
        "steps counted as a cost twice (wrong sign)": lambda counts, weights: (
            np.asarray(counts, float) @ (np.asarray(weights, float) * [1, 1, -1])
        ),
        "chest and key weights swapped": lambda counts, weights: (
            np.asarray(counts, float) @ np.asarray(weights, float)[[1, 0, 2]]
        ),
        "steps forgotten": lambda counts, weights: (
            np.asarray(counts, float)[:, :2] @ np.asarray(weights, float)[:2]
        ),
        "one total for all plans": lambda counts, weights: float(np.sum(np.asarray(counts, float) @ weights)),
        "rounded to whole numbers": lambda counts, weights: np.round(np.asarray(counts, float) @ weights),
    }
    for name, mutant in mutants.items():
        assert not SCORE.run(mutant).ok, name


# --------------------------------------------------------------------------------------------------
# Exercise 3.2


def make_search(
    *, budget_matters=True, key_rule=True, step_sign=1.0, keep_last_tie=False, subsets=True, empty_plan=True
):
    """A brute-force search written for this test, with switches that turn it into a mutant."""

    def search(distances, kinds, budget, weights, keys_held=0):
        n = len(kinds) - 1
        best = (0.0, 0, []) if empty_plan else (-np.inf, 0, [])
        lengths = range(1, n + 1) if subsets else [n]
        for length in lengths:
            for order in permutations(range(1, n + 1), length):
                held, chests, keys, steps, here, ok = keys_held, 0, 0, 0, 0, True
                for p in order:
                    steps += distances[here][p]
                    here = p
                    if kinds[p] == "key":
                        held, keys = held + 1, keys + 1
                    elif held > 0 or not key_rule:
                        held, chests = max(held - 1, 0), chests + 1
                    else:
                        ok = False
                if not ok or (budget_matters and steps > budget):
                    continue
                score = weights[0] * chests + weights[1] * keys + step_sign * weights[2] * steps
                better = score > best[0] or (
                    score == best[0] and (steps < best[1] or (keep_last_tie and steps == best[1]))
                )
                if better:
                    best = (score, steps, list(order))
        if best[0] == -np.inf:
            return 0.0, []
        return float(best[0]), best[2]

    return search


def greedy_as_search(distances, kinds, budget, weights, keys_held=0):
    """Nearest-first instead of search: follow the nearest-key order and score it."""
    order = greedy_answer(distances, kinds, budget, keys_held)
    chests = sum(kinds[p] == "chest" for p in order)
    keys = len(order) - chests
    steps = sum(distances[a][b] for a, b in zip([0] + order[:-1], order))
    return float(weights[0] * chests + weights[1] * keys + weights[2] * steps), order


def test_best_visit_order_answer_passes():
    assert ORDER.run(make_search()).ok
    assert ORDER.run(make_search(), seed=11).ok


def test_best_visit_order_mutants_are_rejected():
    mutants = {
        "ignores the step budget": make_search(budget_matters=False),
        "opens chests without keys": make_search(key_rule=False),
        "wrong sign of the step weight": make_search(step_sign=-1.0),
        "greedy nearest-first instead of search": greedy_as_search,
        "last of equal plans wins": make_search(keep_last_tie=True),
        "only plans that visit every item": make_search(subsets=False),
        "no empty plan to start from": make_search(empty_plan=False),
    }
    for name, mutant in mutants.items():
        assert not ORDER.run(mutant).ok, name


def test_best_visit_order_report_names_the_wrong_order(capsys):
    assert not ORDER(make_search(budget_matters=False)).ok
    out = capsys.readouterr().out
    assert "best score" in out or "best order" in out
    assert "Hint:" in out


# --------------------------------------------------------------------------------------------------
# Exercise 3.3


def make_greedy(*, from_start=False, keys_first=True, key_rule=True, budget_matters=True, high_ties=False):
    def greedy(distances, kinds, budget, keys_held=0):
        todo = list(range(1, len(kinds)))
        here, left, held, order = 0, budget, keys_held, []
        while True:
            keys = [p for p in todo if kinds[p] == "key"]
            chests = [p for p in todo if kinds[p] == "chest"] if (held > 0 or not key_rule) else []
            if keys_first:
                targets = keys or chests
            else:
                targets = keys + chests
            if not targets:
                return order
            origin = 0 if from_start else here
            sign = -1 if high_ties else 1
            nearest = min(targets, key=lambda p: (distances[origin][p], sign * p))
            if budget_matters and distances[here][nearest] > left:
                return order
            left -= distances[here][nearest]
            held = held + 1 if kinds[nearest] == "key" else max(held - 1, 0)
            todo.remove(nearest)
            order.append(nearest)
            here = nearest

    return greedy


greedy_answer = make_greedy()


def test_nearest_key_order_answer_passes():
    assert GREEDY.run(greedy_answer).ok
    assert GREEDY.run(greedy_answer, seed=5).ok


def test_nearest_key_order_mutants_are_rejected():
    mutants = {
        "distances measured from the start": make_greedy(from_start=True),
        "nearest item of any kind": make_greedy(keys_first=False),
        "opens chests without keys": make_greedy(key_rule=False),
        "ignores the step budget": make_greedy(budget_matters=False),
        "ties to the higher number": make_greedy(high_ties=True),
    }
    for name, mutant in mutants.items():
        assert not GREEDY.run(mutant).ok, name
