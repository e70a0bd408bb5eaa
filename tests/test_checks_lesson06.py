"""Lesson 06's checks accept a correct answer written independently and reject plausible wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from mesalib.teaching import checks

LL = checks.lesson06.log_likelihood


def logsumexp(values):
    """log(sum(exp(values))) without overflow: numpy's pairwise log(exp(a) + exp(b)), folded."""
    return float(np.logaddexp.reduce(np.asarray(values, dtype=float)))


FIT = checks.lesson06.fit


# --------------------------------------------------------------------------------------------------
# Exercise 6.1: log_likelihood


def ll_answer(q_values, actions, beta):
    q = np.asarray(q_values, dtype=float)
    total = 0.0
    for row, a in zip(q, actions):
        total += beta * row[a] - logsumexp(beta * row)
    return float(total)


def test_log_likelihood_answer_passes():
    assert LL.run(ll_answer).ok
    assert LL.run(ll_answer, seed=11).ok


def _naive(q, actions, beta):
    p = np.exp(beta * q) / np.exp(beta * q).sum(axis=1, keepdims=True)
    return float(np.log(p[np.arange(len(actions)), actions]).sum())


def test_log_likelihood_mutants_are_rejected():
    rows = lambda q, a: (np.asarray(q, float), np.asarray(a))
    mutants = {
        "no normalisation (beta * Q of the action only)": lambda q_values, actions, beta: float(
            sum(beta * row[a] for row, a in zip(*rows(q_values, actions)))
        ),
        "sign error (exp(-beta * Q))": lambda q_values, actions, beta: ll_answer(
            -np.asarray(q_values, float), actions, beta
        ),
        "beta applied outside the softmax": lambda q_values, actions, beta: (
            beta * ll_answer(q_values, actions, 1.0)
        ),
        "mean instead of sum": lambda q_values, actions, beta: (
            ll_answer(q_values, actions, beta) / max(len(actions), 1)
        ),
        "probability instead of log-probability": lambda q_values, actions, beta: float(
            np.exp(ll_answer(q_values, actions, beta))
        ),
        "no max subtracted (overflows for large beta * Q)": lambda q_values, actions, beta: _naive(
            np.asarray(q_values, float), np.asarray(actions), beta
        ),
        "log-sum-exp without beta": lambda q_values, actions, beta: float(
            sum(beta * row[a] - logsumexp(row) for row, a in zip(*rows(q_values, actions)))
        ),
        "off by one action": lambda q_values, actions, beta: ll_answer(
            q_values, (np.asarray(actions) + 1) % np.asarray(q_values).shape[1], beta
        ),
    }
    for name, mutant in mutants.items():
        with np.errstate(all="ignore"):
            assert not LL.run(mutant).ok, name


# --------------------------------------------------------------------------------------------------
# Exercise 6.2: fit


def fit_answer(q_values, actions, betas, *, pick=max, by_q=False, only_first_beta=False, index=False):
    """An exhaustive search written for this test, with switches that turn it into a mutant."""
    scores = []
    for c, q in enumerate(np.asarray(q_values, dtype=float)):
        for k, beta in enumerate(betas[:1] if only_first_beta else betas):
            if by_q:
                value = float(q[np.arange(len(actions)), actions].sum())
            else:
                value = ll_answer(q, actions, beta)
            scores.append((value, -c, -k, c, beta if not index else k))
    best = pick(scores, key=lambda s: (s[0], s[1], s[2]))
    return best[3], best[4]


def test_fit_answer_passes():
    assert FIT.run(fit_answer).ok
    assert FIT.run(fit_answer, seed=5).ok


def test_fit_mutants_are_rejected():
    mutants = {
        "picks the candidate with the largest Q at the actions taken": lambda **kw: fit_answer(
            **kw, by_q=True
        ),
        "ignores the beta grid (always its first value)": lambda **kw: fit_answer(**kw, only_first_beta=True),
        "beta fixed at 1": lambda q_values, actions, betas: (fit_answer(q_values, actions, [1.0])[0], 1.0),
        "returns the worst pair": lambda **kw: fit_answer(**kw, pick=min),
        "returns the index of beta, not its value": lambda **kw: fit_answer(**kw, index=True),
        "ties go to the last maximum": lambda q_values, actions, betas: _last_max(q_values, actions, betas),
        "candidate as a float": lambda **kw: (float(fit_answer(**kw)[0]), fit_answer(**kw)[1]),
    }
    for name, mutant in mutants.items():
        assert not FIT.run(mutant).ok, name


def _last_max(q_values, actions, betas):
    table = np.array([[ll_answer(q, actions, b) for b in betas] for q in np.asarray(q_values, float)])
    flat = len(table.ravel()) - 1 - int(np.argmax(table.ravel()[::-1]))
    c, k = divmod(flat, table.shape[1])
    return c, float(betas[k])


def test_random_fit_cases_have_a_clear_winner_and_vary_the_answer():
    cases = FIT.cases(0)
    answers = {FIT.expected(case)[0] for case in cases}
    assert len(answers) >= 2  # not always candidate 0
    betas = {FIT.expected(case)[1] for case in cases}
    assert len(betas) >= 4


# --------------------------------------------------------------------------------------------------
# Exercise 6.3: attribution_verdict

VERDICT = checks.lesson06.attribution_verdict


def verdict_answer(
    candidates,
    difference,
    uniform,
    *,
    score="held_out_per_decision",
    use_interval=True,
    sign=1.0,
    floor="interval",
    strict=True,
    last_on_ties=False,
    name_of="winner",
):
    """The rules written for this test, with switches that turn them into mutants."""
    best = {}
    for row in candidates:
        held = best.get(row["kind"])
        better = (
            row[score] >= held[score] if last_on_ties and held else held is None or row[score] > held[score]
        )
        if better:
            best[row["kind"]] = row
    goal, device = best["intentional"], best["device"]
    if floor == "interval" and goal["interval"][0] <= uniform and device["interval"][0] <= uniform:
        return "neither", None
    if floor == "point" and max(goal[score], device[score]) <= uniform:
        return "neither", None
    if use_interval:
        low, high = sorted(sign * np.asarray(difference, dtype=float))
    else:
        low = high = goal[score] - device[score]
    above = low > 0 if strict else low >= 0
    below = high < 0 if strict else high <= 0
    names = {"winner": (goal["name"], device["name"]), "swapped": (device["name"], goal["name"])}[name_of]
    if above:
        return "agent", names[0]
    if below:
        return "device", names[1]
    return "undecided", None


def test_attribution_verdict_answer_passes():
    assert VERDICT.run(verdict_answer).ok
    assert VERDICT.run(verdict_answer, seed=7).ok


def _best_overall(candidates, difference, uniform):
    """Mutant: the kind of the single best description decides, intervals unread."""
    top = max(candidates, key=lambda row: row["held_out_per_decision"])
    return ("agent" if top["kind"] == "intentional" else "device"), top["name"]


VERDICT_MUTANTS = {
    "ignores the interval (the sign of the point difference decides)": lambda **kw: verdict_answer(
        **kw, use_interval=False
    ),
    "the single best description decides, whatever its interval": _best_overall,
    "wrong sign (reads the difference as device minus goal)": lambda **kw: verdict_answer(**kw, sign=-1.0),
    "forgets the uniform floor (never 'neither')": lambda **kw: verdict_answer(**kw, floor=None),
    "the floor on the point estimates, not on the intervals": lambda **kw: verdict_answer(
        **kw, floor="point"
    ),
    "judges by the fitted scores instead of the held-out ones": lambda **kw: verdict_answer(
        **kw, score="fit_per_decision"
    ),
    "confuses the kinds (names the best of the losing kind)": lambda **kw: verdict_answer(
        **kw, name_of="swapped"
    ),
    "an interval that touches 0 counts as a win": lambda **kw: verdict_answer(**kw, strict=False),
    "ties go to the last row": lambda **kw: verdict_answer(**kw, last_on_ties=True),
    "answers the kind, 'intentional', instead of 'agent'": lambda **kw: (
        lambda v: ("intentional" if v[0] == "agent" else v[0], v[1])
    )(verdict_answer(**kw)),
    "a bare verdict string, without the name": lambda **kw: verdict_answer(**kw)[0],
}


@pytest.mark.parametrize("name", sorted(VERDICT_MUTANTS))
def test_attribution_verdict_mutants_are_rejected(name):
    mutant = VERDICT_MUTANTS[name]
    assert not VERDICT.run(mutant).ok, name
    # The failure a learner sees is a fixed case, whose label explains the trap.
    assert any(VERDICT.judge(case, mutant(**case.args)) is not None for case in VERDICT.fixed_cases()), name


def test_random_verdict_cases_reach_every_verdict():
    answers = {VERDICT.expected(case)[0] for case in VERDICT.cases(0)[len(VERDICT.fixed_cases()) :]}
    assert answers == set(checks.lesson06.VERDICTS)
