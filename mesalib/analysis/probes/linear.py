"""Linear probes: is a quantity linearly readable from an agent's activations?

Fit a linear model on some episodes and score it on others (`split_by_episode`), always next to a
baseline (`majority_accuracy`). The probes are closed-form ridge regressions in NumPy (float64), so
the same data give the same numbers on every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def split_by_episode(episode, test_fraction: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train mask, test mask), bool [N]: whole episodes go to one side, drawn with `seed`.

    States of one episode look alike; splitting state by state would let a probe score well on
    held-out states by remembering their neighbours from the same episode.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1; got {test_fraction!r}.")
    episode = np.asarray(episode)
    ids = np.unique(episode)
    rng = np.random.default_rng(seed)
    held = rng.permutation(ids)[: max(1, int(round(test_fraction * len(ids))))]
    test = np.isin(episode, held)
    return ~test, test


def one_hot(labels, n_classes: int) -> np.ndarray:
    """float64 [N, n_classes]: row i is 1 in column labels[i], 0 elsewhere."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must be in 0..{n_classes - 1}; got values from {labels.min()} to {labels.max()}."
        )
    out = np.zeros((len(labels), n_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def _with_bias(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(len(x), -1)
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)


def fit_ridge(x, targets, ridge: float = 1.0) -> np.ndarray:
    """float64 [D + 1, K]: the ridge least-squares weights mapping [x, 1] to `targets` ([N, K] or [N]).

    W = (Xb^T Xb + ridge * I)^-1 Xb^T T, with Xb = x with a column of ones appended (the bias is the
    last row of W and is penalised like the other weights). Rows of x may be any shape; they are
    flattened.
    """
    xb = _with_bias(x)
    t = np.asarray(targets, dtype=np.float64)
    t2 = t.reshape(len(t), -1)
    w = np.linalg.solve(xb.T @ xb + ridge * np.eye(xb.shape[1]), xb.T @ t2)
    return w if t.ndim > 1 else w[:, 0]


@dataclass(frozen=True)
class LinearProbe:
    """A one-vs-rest linear classifier: scores = [x, 1] @ weights, prediction = the highest score."""

    weights: np.ndarray
    """float64 [D + 1, K] (the last row is the bias)."""

    def scores(self, x) -> np.ndarray:
        return _with_bias(x) @ self.weights

    def predict(self, x) -> np.ndarray:
        """int [N]: the class with the highest score (the first one on ties)."""
        return self.scores(x).argmax(axis=1)

    def accuracy(self, x, labels) -> float:
        return float(np.mean(self.predict(x) == np.asarray(labels)))


def fit_probe(x, labels, n_classes: int, ridge: float = 1.0) -> LinearProbe:
    """A linear probe fitted by ridge least squares to one-hot labels (`fit_ridge` on `one_hot`).

    Least squares to one-hot targets is a classic, closed-form stand-in for logistic regression: no
    learning rate, no iterations, the same answer every time.
    """
    return LinearProbe(fit_ridge(x, one_hot(labels, n_classes), ridge))


def probe_accuracy(train_x, train_y, test_x, test_y, n_classes: int, ridge: float = 1.0) -> float:
    """Held-out accuracy of a linear probe fitted on (train_x, train_y), scored on (test_x, test_y).

    1. Append a column of ones to train_x: Xb, shape [N, D + 1].
    2. One-hot the labels: Y, shape [N, n_classes].
    3. W = solve(Xb^T Xb + ridge * I, Xb^T Y), I the (D + 1) x (D + 1) identity.
    4. Predict argmax over classes of [test_x, 1] @ W (first class on ties); return the fraction of
       test rows whose prediction equals test_y.
    """
    return fit_probe(train_x, train_y, n_classes, ridge).accuracy(test_x, test_y)


def majority_accuracy(train_y, test_y) -> float:
    """Held-out accuracy of always guessing the most common training label (the smallest on ties)."""
    values, counts = np.unique(np.asarray(train_y), return_counts=True)
    return float(np.mean(np.asarray(test_y) == values[counts.argmax()]))


def regression_r2(train_x, train_y, test_x, test_y, ridge: float = 1.0) -> float:
    """Held-out R^2 of a ridge regression (`fit_ridge`) of a number on x: 1 - SSE / SS around the
    *training* mean. 0 means no better than always predicting the training mean; it can go below 0."""
    w = fit_ridge(train_x, np.asarray(train_y, dtype=np.float64), ridge)
    pred = _with_bias(test_x) @ w
    y = np.asarray(test_y, dtype=np.float64)
    return float(1.0 - np.sum((y - pred) ** 2) / np.sum((y - np.mean(train_y)) ** 2))
