"""Checks for lesson 06 (the intentional stance): the log-likelihood of observed actions under a
softmax-rational (Boltzmann-rational) model, and the maximum-likelihood choice of objective and beta.

References: `mesalib.analysis.stance.log_likelihood` and `mesalib.analysis.stance.fit`. Cases are
plain arrays: Q values per state and action (per candidate for `fit`), the actions taken, and beta
(a grid for `fit`).
"""

from __future__ import annotations

import numpy as np

from mesalib.analysis.stance import fit as _reference_fit
from mesalib.analysis.stance import log_likelihood as _reference_log_likelihood
from mesalib.teaching.checks import Case, Exercise, close_number

# --------------------------------------------------------------------------------------------------
# Exercise 6.1: log_likelihood


def _ll_case(q_values, actions, beta, label) -> Case:
    return Case(
        {
            "q_values": np.asarray(q_values, dtype=np.float64),
            "actions": np.asarray(actions, dtype=np.int64),
            "beta": float(beta),
        },
        label,
    )


def _ll_fixed() -> list[Case]:
    return [
        _ll_case([[0.0, 0.0]], [1], 3.0, "two equally good actions: log(1/2) whatever beta is"),
        _ll_case([[1.0, 0.0, 0.0, 0.0]], [0], 1.0, "one state, the best action taken, beta = 1"),
        _ll_case([[1.0, 0.0, 0.0, 0.0]], [2], 2.0, "a worse action taken: beta scales the Q values"),
        _ll_case(
            [[1.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.5], [0.2, 0.2, 0.9, 0.1]],
            [0, 3, 1],
            2.0,
            "three states: the log-probabilities are summed, not averaged",
        ),
        _ll_case(
            [[5.0, 5.0, 5.5, 4.0], [5.0, 5.0, 5.5, 4.0]],
            [2, 2],
            0.0,
            "beta = 0: every action has probability 1/4, whatever the Q values",
        ),
        _ll_case(
            [[10.0, 0.0, 0.0, 0.0], [0.0, 10.0, 9.0, 0.0]],
            [0, 2],
            100.0,
            "large beta * Q: exp(1000) overflows, so use log-sum-exp with the maximum subtracted",
        ),
        _ll_case([[-3.0, -1.0, -2.0, -1.5]], [1], 1.5, "negative Q values are fine: only differences matter"),
        _ll_case(np.zeros((0, 4)), np.zeros(0, np.int64), 2.0, "no states at all: an empty sum is 0"),
    ]


def _ll_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        states, acts = int(rng.integers(2, 12)), int(rng.choice([2, 3, 4, 4, 5]))
        q = np.round(rng.normal(0.0, 1.0, (states, acts)) + rng.normal(0.0, 2.0), 3)
        actions = rng.integers(0, acts, states)
        beta = float(rng.choice([0.3, 0.5, 2.0, 3.0, 5.0, 10.0]))
        cases.append(_ll_case(q, actions, beta, f"random #{i + 1}: {states} states, {acts} actions"))
    return cases


log_likelihood = Exercise(
    lesson="06",
    name="log_likelihood",
    points=2,
    reference=_reference_log_likelihood,
    fixed_cases=_ll_fixed,
    random_cases=_ll_random,
    compare=close_number,
    hint=(
        "For each state i: z = beta * q_values[i] (all actions), then log P(actions[i]) = "
        "z[actions[i]] - log(sum(exp(z))). Compute log(sum(exp(z))) as m + log(sum(exp(z - m))) with "
        "m = max(z), so that large values do not overflow. Multiply by beta before the softmax, not "
        "after, and add the log-probabilities of all states up (a sum, not a mean)."
    ),
)


# --------------------------------------------------------------------------------------------------
# Exercise 6.2: fit


def _fit_case(q_values, actions, betas, label) -> Case:
    return Case(
        {
            "q_values": np.asarray(q_values, dtype=np.float64),
            "actions": np.asarray(actions, dtype=np.int64),
            "betas": [float(b) for b in betas],
        },
        label,
    )


def _fit_fixed() -> list[Case]:
    follows_first = [[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]
    follows_second = [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    return [
        _fit_case(
            [follows_first, follows_second],
            [1, 1, 1],
            [0.5, 2.0],
            "the agent always takes action 1, which only candidate 1 rates highly: candidate 1, large beta",
        ),
        _fit_case(
            [follows_first, follows_second],
            [1, 1, 0],
            [0.1, 0.5, 1.0, 4.0],
            "mostly action 1, once action 0: candidate 1, with a moderate beta (not the largest)",
        ),
        _fit_case(
            [follows_first, [[0.0, 0.0]] * 3],
            [0, 1, 0],
            [1.0, 3.0, 10.0],
            "candidate 1 rates everything equally (uniform for every beta): candidate 0 wins here",
        ),
        _fit_case(
            [[[5.0, 5.5], [5.5, 5.0]], [[0.4, 0.0], [0.0, 0.4]]],
            [0, 1],
            [0.5, 1.0, 2.0],
            "candidate 0 has the higher Q values, but candidate 1 explains the actions: only differences "
            "between actions matter",
        ),
        _fit_case(
            [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]],
            [0, 1],
            [0.5, 1.0, 2.0],
            "candidate 0 (uniform) ties with itself at every beta and beats candidate 1: the first beta",
        ),
        _fit_case(
            [
                [[0.0, 0.0, 3.0, 0.0], [0.0, 2.0, 0.0, 0.0]],
                [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
                [[100.0, 100.0, 101.0, 100.0], [100.0, 100.0, 100.0, 99.0]],
            ],
            [2, 1],
            [0.1, 1.0, 30.0],
            "three candidates; the winner has the lower Q values",
        ),
    ]


def _clear_winner(q, actions, betas) -> bool:
    """Whether the best (candidate, beta) beats the runner-up clearly, so that rounding cannot decide."""
    from mesalib.analysis.stance import likelihood_table

    table = np.sort(likelihood_table(q, actions, betas).ravel())
    return len(table) < 2 or table[-1] - table[-2] > 1e-6 * max(1.0, abs(table[-1]))


def _fit_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases: list[Case] = []
    while len(cases) < n:
        c, states, acts = int(rng.integers(2, 5)), int(rng.integers(3, 15)), int(rng.choice([2, 3, 4]))
        # Each candidate: its own scale of preferences and its own offset (offsets change no probability).
        q = rng.normal(0.0, 1.0, (c, states, acts)) * rng.uniform(0.2, 2.0, (c, 1, 1)) + rng.normal(
            0, 3.0, (c, 1, 1)
        )
        q = np.round(q, 3)
        truth, beta = int(rng.integers(c)), float(rng.choice([0.5, 1.0, 2.0, 4.0]))
        z = beta * q[truth]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        actions = np.array([rng.choice(acts, p=row) for row in p])
        betas = np.round(
            np.sort(rng.choice(np.geomspace(0.05, 20.0, 25), int(rng.integers(3, 8)), replace=False)), 4
        )
        if _clear_winner(q, actions, betas):
            cases.append(
                _fit_case(q, actions, betas, f"random #{len(cases) + 1}: {c} candidates, {states} states")
            )
    return cases


def _compare_fit(expected, actual) -> str | None:
    if not isinstance(actual, (tuple, list)) or len(actual) != 2:
        return f"return a pair (candidate index, beta); got {type(actual).__name__}"
    c, beta = actual
    if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)):
        return f"the candidate should be an integer index into q_values; got {type(c).__name__} {c!r}"
    if int(c) != expected[0]:
        return f"candidate {int(c)}, expected candidate {expected[0]}"
    problem = close_number(expected[1], beta, tol=1e-9)
    return None if problem is None else f"beta: {problem} (return the value from the grid, not its index)"


def _show_fit(case: Case) -> str:
    a = case.args
    lines = [f"betas = {a['betas']}", f"actions = {np.array2string(a['actions'])}"]
    for i, q in enumerate(a["q_values"]):
        lines.append(f"q_values[{i}] =\n{np.array2string(q, max_line_width=100, threshold=400)}")
    return "\n".join(lines)


fit = Exercise(
    lesson="06",
    name="fit",
    points=2,
    reference=_reference_fit,
    fixed_cases=_fit_fixed,
    random_cases=_fit_random,
    compare=_compare_fit,
    show=_show_fit,
    hint=(
        "Compute log_likelihood(q_values[c], actions, beta) for every candidate c and every beta in the "
        "grid, and return the (c, beta) pair with the HIGHEST value; beta is the grid's value, c an int. "
        "Do not compare the Q values themselves: adding a constant to a candidate's Q values changes "
        "no probability. Ties: the lower candidate index, then the earlier beta (a strict > while "
        "looping over candidates, then betas, does this)."
    ),
)
