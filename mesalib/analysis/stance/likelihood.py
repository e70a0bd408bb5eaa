"""The softmax-rational model: how likely a set of observed actions is under Q values and a beta.

In state s an agent that values actions by Q picks action a with probability

    P(a | s)  proportional to  exp(beta * Q(s, a)),

beta saying how reliably it acts on those values (0: uniformly random; large: always a best action).
`log_likelihood` scores observed actions under the model, `likelihood_table` does so for every
candidate and beta of a grid, and `fit` picks the maximum-likelihood pair.
"""

from __future__ import annotations

import numpy as np

BETAS = np.geomspace(0.1, 100.0, 31)
"""The grid of rationality coefficients beta that `fit` and `explain` search, 0.1 to 100, log-spaced."""


def log_likelihood(q_values, actions, beta: float) -> float:
    """The log-probability of the observed actions under the softmax-rational model, summed over states.

    q_values: float [N, A], Q(s_i, a) for each state i and action a; actions: int [N], the action
    taken in state i; beta: the rationality coefficient (>= 0).
    Model: P(a | s_i) = exp(beta * Q[i, a]) / sum_b exp(beta * Q[i, b]).
    Returns the float sum over i of log P(actions[i] | s_i) (a SUM, not a mean; 0.0 when N = 0),
    computed stably (log-sum-exp with the row maximum subtracted).

    >>> log_likelihood([[0.0, 0.0]], [1], 3.0)   # two equally good actions: log(1/2)
    -0.6931471805599453
    """
    q = np.asarray(q_values, dtype=np.float64)
    actions = np.asarray(actions, dtype=np.int64)
    if q.ndim != 2 or actions.shape != (q.shape[0],):
        raise ValueError(
            f"log_likelihood: need q_values [N, A] and actions [N]; got {q.shape} and {actions.shape}."
        )
    if q.shape[0] == 0:
        return 0.0
    z = float(beta) * q
    top = z.max(axis=1)
    log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return float(np.sum(z[np.arange(len(actions)), actions] - log_norm))


def likelihood_table(q_values, actions, betas=BETAS) -> np.ndarray:
    """float [C, K]: `log_likelihood(q_values[c], actions, betas[k])` for every candidate c and beta k.
    q_values: [C, N, A], one Q array per candidate."""
    q = np.asarray(q_values, dtype=np.float64)
    return np.array([[log_likelihood(qc, actions, b) for b in np.asarray(betas, dtype=float)] for qc in q])


def fit(q_values, actions, betas=BETAS) -> tuple[int, float]:
    """The maximum-likelihood candidate and beta: (index c into q_values, betas[k]).

    q_values: float [C, N, A], one Q array per candidate objective; actions: int [N]; betas: [K] grid.
    Computes the log-likelihood (`log_likelihood`, summed over states) of every (candidate, beta)
    pair and returns the pair with the highest one. Ties go to the lower candidate index, then the
    lower beta index (the first maximum of the [C, K] table in row-major order).

    >>> q = [[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]]  # two candidates, two states
    >>> fit(q, [1, 1], [0.5, 2.0])   # the agent always takes action 1: candidate 1, the larger beta
    (1, 2.0)
    """
    table = likelihood_table(q_values, actions, betas)
    c, k = np.unravel_index(int(np.argmax(table)), table.shape)
    return int(c), float(np.asarray(betas, dtype=float)[k])
