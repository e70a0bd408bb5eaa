"""Checks for lesson 07 (looking inside the network: linear probes and steering vectors).

The references are the library's own `probes.probe_accuracy` (a closed-form ridge least-squares
probe, one-vs-rest, scored on held-out rows) and `probes.steer` (add a scaled difference of group
means to every row of a feature matrix).
"""

from __future__ import annotations

import numpy as np

from mesalib.analysis.probes import probe_accuracy as _reference_probe_accuracy
from mesalib.analysis.probes import steer as _reference_steer
from mesalib.teaching.checks import Case, Exercise, close_number

# --------------------------------------------------------------------------------------------------
# Exercise 7.1: probe_accuracy


def _col(values) -> np.ndarray:
    return np.asarray(values, dtype=float).reshape(-1, 1)


def _probe_fixed() -> list[Case]:
    # One feature, two classes split at x = 5: a probe without a bias can only split at x = 0.
    train_x = _col([1, 2, 3, 4, 6, 7, 8, 9])
    train_y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    test_x = _col([2.5, 4.5, 5.5, 8.5, 3.5])
    test_y = np.array(
        [0, 0, 1, 1, 1]
    )  # the last test row is "mislabelled": 4 of 5 is the best a probe can do
    # Two features, three classes in three corners.
    corners = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    offsets = np.array([[0.3, -0.2], [-0.4, 0.1], [0.2, 0.5], [-0.1, -0.6]])
    x3 = np.concatenate([c + offsets for c in corners])
    y3 = np.repeat([0, 1, 2], 4)
    t3 = np.array([[0.5, 0.4], [3.2, 0.9], [0.9, 3.1], [2.2, 2.4], [3.9, -0.5], [0.2, 2.6]])
    return [
        Case(
            {
                "train_x": train_x,
                "train_y": train_y,
                "test_x": test_x,
                "test_y": test_y,
                "n_classes": 2,
                "ridge": 0.1,
            },
            "one feature, a threshold at 5 (needs the bias column)",
        ),
        Case(
            {
                "train_x": train_x,
                "train_y": train_y,
                "test_x": train_x,
                "test_y": train_y,
                "n_classes": 2,
                "ridge": 0.1,
            },
            "scored on its own training rows (here that is what is asked)",
        ),
        Case(
            {
                "train_x": x3,
                "train_y": y3,
                "test_x": t3,
                "test_y": np.array([0, 1, 2, 1, 1, 0]),
                "n_classes": 3,
                "ridge": 0.01,
            },
            "three classes in three corners",
        ),
        Case(
            {
                "train_x": x3,
                "train_y": y3,
                "test_x": t3,
                "test_y": np.array([0, 1, 2, 1, 1, 0]),
                "n_classes": 3,
                "ridge": 1000.0,
            },
            "a huge ridge shrinks every weight, the bias too",
        ),
        Case(
            {
                "train_x": x3,
                "train_y": y3,
                "test_x": t3,
                "test_y": np.array([0, 1, 2, 1, 1, 0]),
                "n_classes": 4,
                "ridge": 0.01,
            },
            "a fourth class that never occurs (its column of Y is all 0)",
        ),
    ]


def _margin_ok(case: Case) -> bool:
    """True when no test row is a near-tie between two classes (so float32 answers agree too)."""
    a = case.args
    xb = np.concatenate([a["train_x"], np.ones((len(a["train_x"]), 1))], axis=1)
    y = np.eye(a["n_classes"])[a["train_y"]]
    w = np.linalg.solve(xb.T @ xb + a["ridge"] * np.eye(xb.shape[1]), xb.T @ y)
    scores = np.concatenate([a["test_x"], np.ones((len(a["test_x"]), 1))], axis=1) @ w
    top2 = np.sort(scores, axis=1)[:, -2:]
    return bool(np.all(top2[:, 1] - top2[:, 0] > 1e-3))


def _probe_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases: list[Case] = []
    while len(cases) < n:
        k = int(rng.integers(2, 5))
        d = int(rng.integers(1, 7))
        n_train, n_test = int(rng.integers(max(12, 3 * k), 50)), int(rng.integers(8, 30))
        shift = rng.normal(0.0, 3.0, size=d)  # the classes sit away from the origin: the bias matters
        means = shift + rng.normal(0.0, 1.5, size=(k, d))
        train_y = np.concatenate([np.arange(k), rng.integers(0, k, n_train - k)])
        test_y = rng.integers(0, k, n_test)
        train_x = np.round(means[train_y] + rng.normal(0.0, 1.0, size=(n_train, d)), 3)
        test_x = np.round(means[test_y] + rng.normal(0.0, 1.0, size=(n_test, d)), 3)
        ridge = float(rng.choice([0.0, 0.01, 1.0, 10.0, 100.0]))
        case = Case(
            {
                "train_x": train_x,
                "train_y": train_y,
                "test_x": test_x,
                "test_y": test_y,
                "n_classes": k,
                "ridge": ridge,
            },
            f"random #{len(cases) + 1}: {k} classes, {d} features",
        )
        if _margin_ok(case):
            cases.append(case)
    return cases


probe_accuracy = Exercise(
    lesson="07",
    name="probe_accuracy",
    points=2,
    reference=_reference_probe_accuracy,
    fixed_cases=_probe_fixed,
    random_cases=_probe_random,
    compare=close_number,
    nudge=(
        "A ridge regression from activations to one-hot labels, fitted on the training rows only; then "
        "the highest-scoring class for each test row."
    ),
    hint="Fit on the training rows only: Xb = train_x with a column of ones appended, Y = one-hot "
    "train_y with n_classes columns, W = solve(Xb.T @ Xb + ridge * I, Xb.T @ Y) with I of size "
    "D + 1 (the bias is penalised too). Then append the ones column to test_x, take the argmax over "
    "the class axis (axis=1) of test_xb @ W, and return the fraction equal to test_y (a float).",
)


# --------------------------------------------------------------------------------------------------
# Exercise 7.2: steer


def _steer_fixed() -> list[Case]:
    a = np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 3.0]])  # mean (2, 1)
    b = np.array([[0.0, 1.0]])  # mean (0, 1)
    feats = np.array([[0.0, 0.0], [1.0, -1.0]])
    return [
        Case(
            {"features": feats, "group_a": a, "group_b": b, "scale": 1.0},
            "mean of a is (2, 1), mean of b is (0, 1): the vector is (2, 0)",
        ),
        Case(
            {"features": feats, "group_a": a, "group_b": b, "scale": -0.5},
            "a negative scale moves the other way",
        ),
        Case(
            {"features": feats, "group_a": a, "group_b": b, "scale": 0.0}, "scale 0 leaves the features alone"
        ),
        Case(
            {
                "features": np.array([[0.5, 0.5, 0.5]]),
                "group_a": np.array([[1.0, 2.0, 2.0], [1.0, 2.0, 2.0]]),
                "group_b": np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
                "scale": 2.0,
            },
            "groups of different sizes; the vector (1, 2, 2) has length 3 and is not normalised",
        ),
    ]


def _steer_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        h = int(rng.integers(2, 9))
        na, nb = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        if na == nb:
            nb += 1
        feats = np.round(rng.uniform(-1, 1, size=(int(rng.integers(1, 6)), h)), 3)
        a = np.round(np.tanh(rng.normal(0.5, 1.0, size=(na, h))), 3)
        b = np.round(np.tanh(rng.normal(-0.5, 1.0, size=(nb, h))), 3)
        scale = float(rng.choice([-3.0, -1.0, -0.5, 0.5, 1.0, 2.0, 4.0]))
        cases.append(
            Case(
                {"features": feats, "group_a": a, "group_b": b, "scale": scale},
                f"random #{i + 1}: {na} vs {nb} rows of {h} features",
            )
        )
    return cases


steer = Exercise(
    lesson="07",
    name="steer",
    points=2,
    reference=_reference_steer,
    fixed_cases=_steer_fixed,
    random_cases=_steer_random,
    nudge=(
        "A steering vector is the difference between the two groups' typical activations. Add a multiple "
        "of it to the features."
    ),
    hint="The vector is group_a.mean(axis=0) - group_b.mean(axis=0) (a first, means over rows, not sums, "
    "and not rescaled to length 1); return features + scale * vector, same shape as features.",
)
