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
    nudge=(
        "A softmax over beta times the Q values gives each move's probability. Add up the log- "
        "probabilities of the moves actually taken, without letting the exponentials overflow."
    ),
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
    nudge=(
        "Try every candidate with every beta and keep the pair that explains the moves best. Which number "
        "says how well a pair explains them?"
    ),
    hint=(
        "Compute log_likelihood(q_values[c], actions, beta) for every candidate c and every beta in the "
        "grid, and return the (c, beta) pair with the HIGHEST value; beta is the grid's value, c an int. "
        "Do not compare the Q values themselves: adding a constant to a candidate's Q values changes "
        "no probability. Ties: the lower candidate index, then the earlier beta (a strict > while "
        "looping over candidates, then betas, does this)."
    ),
)


# --------------------------------------------------------------------------------------------------
# Exercise 6.3: attribution_verdict (a decision rule applied to evidence)

VERDICTS = ("agent", "device", "undecided", "neither")
"""The four answers of Exercise 6.3."""

UNIFORM = float(np.log(0.25))
"""Log-likelihood per decision of uniformly random moves (four moves), the floor of Exercise 6.3."""


def _best_row(candidates: list[dict], kind: str) -> dict | None:
    """The row of `kind` with the highest held-out score; the earliest on ties; None if there is none."""
    rows = [row for row in candidates if row["kind"] == kind]
    return max(rows, key=lambda row: row["held_out_per_decision"]) if rows else None


def _reference_attribution_verdict(candidates, difference, uniform):
    """The verdict of Exercise 6.3: ("agent", best goal), ("device", best device), ("undecided", None)
    or ("neither", None), from held-out scores and 90% intervals (see the exercise's rules)."""
    goal, device = _best_row(candidates, "intentional"), _best_row(candidates, "device")
    if not any(row is not None and row["interval"][0] > uniform for row in (goal, device)):
        return "neither", None
    low, high = difference
    if goal is not None and low > 0:
        return "agent", goal["name"]
    if device is not None and high < 0:
        return "device", device["name"]
    return "undecided", None


def _row(name, kind, held_out, interval, fitted=None) -> dict:
    """One candidate as `Attribution.to_dict()` lists it (the fields the exercise reads, and the fitted
    score, which it must not)."""
    return {
        "name": name,
        "kind": kind,
        "fit_per_decision": float(held_out + 0.05 if fitted is None else fitted),
        "held_out_per_decision": float(held_out),
        "interval": [float(interval[0]), float(interval[1])],
    }


def _verdict_case(rows, difference, label, uniform=UNIFORM) -> Case:
    return Case(
        {
            "candidates": [_row(*row) for row in rows],
            "difference": [float(difference[0]), float(difference[1])],
            "uniform": float(uniform),
        },
        label,
    )


def _verdict_fixed() -> list[Case]:
    u = UNIFORM
    floor = ("random", "device", u, (u, u))  # uniform random moves: exactly the floor, never above it
    return [
        _verdict_case(
            [
                ("chests", "intentional", -0.60, (-0.70, -0.52)),
                ("keys", "intentional", -1.10, (-1.20, -1.00)),
                ("nearest_key", "device", -0.95, (-1.05, -0.86)),
                floor,
            ],
            (0.25, 0.45),
            "a goal wins by a clear margin: the difference's whole interval is above 0",
        ),
        _verdict_case(
            [
                ("keys", "intentional", -0.98, (-1.05, -0.91)),
                ("chests", "intentional", -1.30, (-1.38, -1.22)),
                ("nearest_key", "device", -0.55, (-0.62, -0.49)),
                ("wall_follower", "device", -1.20, (-1.27, -1.12)),
                floor,
            ],
            (-0.52, -0.36),
            "a device wins: the whole interval of goal minus device is below 0",
        ),
        _verdict_case(
            [
                ("keys", "intentional", -0.92, (-1.02, -0.82)),
                ("nearest_key", "device", -0.88, (-0.99, -0.78)),
                floor,
            ],
            (-0.09, 0.02),
            "the best single description is a device, but the interval of goal minus device contains 0",
        ),
        _verdict_case(
            [
                ("keys", "intentional", -1.90, (-2.10, -1.72)),
                ("chests", "intentional", -1.60, (-1.75, -1.47)),
                ("nearest_key", "device", -1.45, (-1.55, -1.36)),
                floor,
            ],
            (-0.19, -0.11),
            "every fitted description is worse than random moves; the best device is 'random' itself, "
            "which sits ON the floor, not above it",
        ),
        _verdict_case(
            [
                ("keys, then chests", "intentional", -1.90, (-2.05, -1.76), -0.15),
                ("keys", "intentional", -1.00, (-1.08, -0.93), -0.50),
                ("wall_follower", "device", -1.20, (-1.30, -1.11), -0.40),
                ("nearest_key", "device", -0.70, (-0.77, -0.64), -0.60),
                floor,
            ],
            (-0.36, -0.24),
            "the rows that fit their TRAIN decisions best are not the best on the HELD-OUT decisions, "
            "which are the ones that count",
        ),
        _verdict_case(
            [
                ("chests", "intentional", -0.80, (-0.90, -0.70)),
                ("nearest_item", "device", -0.95, (-1.04, -0.86)),
                floor,
            ],
            (0.0, 0.30),
            "the difference's interval starts exactly at 0: a tie is not a win",
        ),
        _verdict_case(
            [
                ("nearest_key", "device", -0.70, (-0.80, -0.60)),
                ("keys", "intentional", -0.90, (-0.98, -0.82)),
                floor,
            ],
            (-0.30, 0.0),
            "the difference's interval ends exactly at 0: a tie is not a loss",
        ),
        _verdict_case(
            [
                ("keys", "intentional", -0.75, (-0.84, -0.66)),
                ("keys and chests", "intentional", -0.75, (-0.83, -0.67)),
                ("key_then_chest", "device", -1.00, (-1.10, -0.90)),
                floor,
            ],
            (0.15, 0.35),
            "two goals tie on the held-out score: name the one listed first",
        ),
        _verdict_case(
            [
                ("keys", "intentional", -1.30, (-1.45, -1.16)),
                ("nearest_key", "device", -1.34, (-1.41, -1.28)),
                floor,
            ],
            (-0.02, 0.10),
            "both point estimates are above random moves, but both intervals reach below it",
        ),
        _verdict_case(
            [
                ("nearest_key", "device", -1.60, (-1.70, -1.50)),
                ("chests", "intentional", -1.00, (-1.10, -0.90)),
                ("wall_follower", "device", -1.50, (-1.62, -1.39)),
                floor,
            ],
            (0.3, 0.5),
            "every device is below random moves but a goal is surely above them: the goal wins",
        ),
        _verdict_case(
            [
                ("chests", "intentional", -1.00, (-1.10, -0.90)),
                ("keys", "intentional", -0.80, (-0.88, -0.72)),
                ("nearest_key", "device", -1.20, (-1.27, -1.14)),
                ("key_then_chest", "device", -0.60, (-0.66, -0.55)),
                floor,
            ],
            (-0.30, -0.10),
            "rows of both kinds mixed: the best device is the last fitted row, not the first device",
        ),
        _verdict_case(
            [
                ("keys", "intentional", -0.40, (-0.45, -0.35)),
                ("nearest_key", "device", -0.55, (-0.60, -0.50)),
            ],
            (0.1, 0.2),
            "five moves, not four: the floor is the `uniform` given, log(1/5) here",
            uniform=float(np.log(0.2)),
        ),
    ]


def _floor_readings_agree(candidates, difference, uniform) -> bool:
    """Whether the floor rule gives the same verdict read three sensible ways (the best of each kind,
    every row, or the winner only), so that random cases never hinge on a reading the rules leave open."""
    answer = _reference_attribution_verdict(candidates, difference, uniform)
    surely = [row["interval"][0] > uniform for row in candidates]
    if (answer[0] == "neither") != (not any(surely)):
        return False
    winner = {"agent": "intentional", "device": "device"}.get(answer[0])
    if winner is not None:
        best = _best_row(candidates, winner)
        return best is not None and best["interval"][0] > uniform
    return True


def _verdict_random(rng: np.random.Generator, n: int) -> list[Case]:
    names = {
        "intentional": ["keys", "chests", "keys and chests", "keys, then chests", "blind chests"],
        "device": ["nearest_key", "key_then_chest", "nearest_item", "wall_follower"],
    }
    cases: list[Case] = []
    while len(cases) < n:
        uniform = float(rng.choice([UNIFORM, UNIFORM, UNIFORM, np.log(0.2)]))
        rows = []
        skill = float(rng.choice([-0.15, 0.15, 0.35]))  # how far above random moves the system is predictable
        for kind, pool in names.items():
            for name in rng.choice(pool, int(rng.integers(1, len(pool) + 1)), replace=False):
                held = round(uniform + skill + float(rng.normal(0.0, 0.3)), 4)
                half = float(rng.uniform(0.03, 0.2))
                fitted = round(held + float(rng.normal(0.2, 0.4)), 4)
                rows.append((str(name), kind, held, (round(held - half, 4), round(held + half, 4)), fitted))
        order = rng.permutation(len(rows))
        rows = [rows[i] for i in order] + [("random", "device", uniform, (uniform, uniform), uniform)]
        table = [_row(*row) for row in rows]
        goal, device = _best_row(table, "intentional"), _best_row(table, "device")
        assert goal is not None and device is not None  # every draw has rows of both kinds
        diff = goal["held_out_per_decision"] - device["held_out_per_decision"]
        half = float(rng.uniform(0.02, 0.25))
        difference = [round(diff - half, 4), round(diff + half, 4)]
        if _floor_readings_agree(table, difference, uniform):
            cases.append(
                _verdict_case(rows, difference, f"random #{len(cases) + 1}: {len(rows)} rows", uniform)
            )
    return cases


def _compare_verdict(expected, actual) -> str | None:
    if not isinstance(actual, (tuple, list)) or len(actual) != 2:
        return f"return a pair (verdict, name); got {type(actual).__name__} {actual!r}"
    verdict, name = actual
    if verdict not in VERDICTS:
        return f"the verdict must be one of {', '.join(map(repr, VERDICTS))}; got {verdict!r}"
    if verdict != expected[0]:
        return f"verdict {verdict!r}, expected {expected[0]!r}"
    if name != expected[1]:
        what = "None (no description wins)" if expected[1] is None else repr(expected[1])
        return f"the verdict is right, but the name should be {what}; got {name!r}"
    return None


def _show_verdict(case: Case) -> str:
    a = case.args
    w = max(len(row["name"]) for row in a["candidates"])
    lines = [
        f"uniform = {a['uniform']:.4f}",
        f"difference (best goal minus best device, 90% interval) = {a['difference']}",
        f"candidates: {'name':{w}s}  {'kind':11s}  {'fitted':>7s}  {'held out':>8s}  interval",
    ]
    for row in a["candidates"]:
        lo, hi = row["interval"]
        lines.append(
            f"            {row['name']:{w}s}  {row['kind']:11s}  {row['fit_per_decision']:7.4f}  "
            f"{row['held_out_per_decision']:8.4f}  [{lo:.4f}, {hi:.4f}]"
        )
    return "\n".join(lines)


attribution_verdict = Exercise(
    lesson="06",
    name="attribution_verdict",
    points=2,
    reference=_reference_attribution_verdict,
    fixed_cases=_verdict_fixed,
    random_cases=_verdict_random,
    compare=_compare_verdict,
    show=_show_verdict,
    nudge=(
        "Read held-out scores only. First ask whether anything predicts better than chance, then whether "
        "the interval of the difference leaves no doubt which kind wins."
    ),
    hint=(
        "Find the best goal (kind 'intentional') and the best device (kind 'device') by "
        "held_out_per_decision, never by fit_per_decision; on ties keep the row listed first. If "
        "neither of the two has the LOWER end of its interval strictly above `uniform`, answer "
        "('neither', None). Otherwise read `difference` = goal minus device: low > 0 gives ('agent', the "
        "goal's name), high < 0 gives ('device', the device's name), and anything else, an end exactly "
        "at 0 included, gives ('undecided', None)."
    ),
)
