"""Everything at once: record a policy, score every candidate objective there, and fit the model.

`explain` returns an `Explanation`: a printable table of candidates with their fitted beta and
log-likelihood, per-decision log-likelihoods, and a bootstrap over episodes that says how firmly the
recorded behaviour singles out the winner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mesalib.analysis.stance.candidates import CANDIDATES, HASTE, HORIZON, Candidate, q_values
from mesalib.analysis.stance.likelihood import BETAS, fit, likelihood_table
from mesalib.analysis.stance.trajectories import Trajectories, record
from mesalib.env.levels import LevelDistribution, Mixture


@dataclass
class Explanation:
    """Which candidate objective best explains a policy's recorded actions.

    `table[c, k]` is the log-likelihood of candidate c with `betas[k]`; `best_beta[c]` and
    `best_log_likelihood[c]` are each candidate's maximum over the grid; `winner` has the highest.
    `q[c]` holds candidate c's Q values for every recorded state.
    """

    policy: str
    candidates: tuple[Candidate, ...]
    betas: np.ndarray
    table: np.ndarray
    q: np.ndarray
    trajectories: Trajectories
    best_beta: np.ndarray = field(init=False)
    best_log_likelihood: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        k = self.table.argmax(axis=1)
        self.best_beta = self.betas[k]
        self.best_log_likelihood = self.table[np.arange(len(self.table)), k]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.candidates]

    @property
    def winner(self) -> str:
        c, _ = fit(self.q, self.trajectories.actions, self.betas)
        return self.candidates[c].name

    def per_decision(self) -> np.ndarray:
        """Each candidate's best log-likelihood divided by the number of decisions (log-prob per action)."""
        return self.best_log_likelihood / max(len(self.trajectories), 1)

    def per_state(self) -> np.ndarray:
        """float [C, K, N]: log P(action taken | state) for every candidate, beta and recorded decision."""
        actions = self.trajectories.actions
        z = self.betas[None, :, None, None] * self.q[:, None]  # [C, K, N, A]
        top = z.max(axis=3)
        log_norm = top + np.log(np.exp(z - top[..., None]).sum(axis=3))
        return np.take_along_axis(z, actions[None, None, :, None], axis=3)[..., 0] - log_norm

    def bootstrap(self, resamples: int = 200, seed: int = 0) -> dict[str, float]:
        """How often each candidate wins when the episodes are resampled with replacement (beta refitted
        each time): a measure of how firmly the recorded behaviour singles out the winner."""
        per_state = self.per_state()
        episodes = self.trajectories.episode
        ids = np.unique(episodes)
        by_episode = np.stack([per_state[..., episodes == e].sum(axis=2) for e in ids], axis=2)  # [C, K, E]
        rng = np.random.default_rng(seed)
        wins = np.zeros(len(self.candidates))
        for _ in range(int(resamples)):
            pick = rng.integers(0, len(ids), len(ids))
            table = by_episode[..., pick].sum(axis=2)
            wins[np.unravel_index(int(np.argmax(table)), table.shape)[0]] += 1
        return {name: float(w / resamples) for name, w in zip(self.names, wins)}

    def summary(self) -> str:
        """A table: candidate, fitted beta, log-likelihood, per decision, and the margin to the winner."""
        n = len(self.trajectories)
        best = self.best_log_likelihood.max()
        w = max([len(name) for name in self.names] + [9])
        lines = [
            f"{self.policy}: {n} decisions; uniform random would score {n * np.log(0.25):.1f}",
            f"{'candidate':{w}s} {'beta':>7s} {'log-lik':>9s} {'per step':>9s} {'behind':>8s}",
        ]
        for name, b, ll in zip(self.names, self.best_beta, self.best_log_likelihood):
            lines.append(f"{name:{w}s} {b:7.2f} {ll:9.1f} {ll / max(n, 1):9.3f} {best - ll:8.1f}")
        lines.append(f"best explanation: {self.winner!r}")
        return "\n".join(lines)


def explain(
    policy,
    dist: LevelDistribution | Mixture,
    episodes: int = 40,
    seed: int = 0,
    candidates=CANDIDATES,
    betas=BETAS,
    horizon: int | None = HORIZON,
    haste: float = HASTE,
    trajectories: Trajectories | None = None,
    q=None,
) -> Explanation:
    """Record `policy` on `episodes` levels of `dist` (unless `trajectories` are given), compute every
    candidate's Q values there (unless `q`, float [C, N, 4] for these trajectories, is given), and fit
    beta per candidate by maximum likelihood on `betas`. With `trajectories` given, `policy` may be
    just a name for the table."""
    if trajectories is None:
        trajectories = record(policy, dist, episodes, seed)
    candidates = tuple(candidates)
    if q is None:
        q = np.stack(
            [q_values(c, trajectories.boards, trajectories.steps_left, horizon, haste) for c in candidates]
        )
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (len(candidates), len(trajectories), 4):
        raise ValueError(
            f"explain: q must have shape {(len(candidates), len(trajectories), 4)}; got {q.shape}."
        )
    betas = np.asarray(betas, dtype=float)
    table = likelihood_table(q, trajectories.actions, betas)
    name = policy if isinstance(policy, str) else getattr(policy, "name", None) or type(policy).__name__
    return Explanation(name, candidates, betas, table, q, trajectories)
