"""Finding an objective by inverse planning: which event weights make a system's decisions likeliest?

The intentional stance (`analysis.stance`) compares a few named candidate objectives. An *objective
finder* goes further and fits the objective itself: it searches a family of objectives for the one
under which a system's recorded decisions are most likely, if the system were softmax-rational
(`stance.log_likelihood`: P(a | s) proportional to exp(beta * Q_obj(s, a))). This is inverse planning
(Baker, Saxe and Tenenbaum 2009), one of the tools that look for an explicit objective.

The family is one weight per key and per chest, written as an angle so that the scale (which beta
absorbs) drops out: chest = cos(angle), key = sin(angle). 0 degrees wants chests only, 90 keys only,
45 both alike; the key:chest ratio is tan(angle). Each objective also pays a small cost per step
(`STEP_COST`, or a grid of costs to fit as well). For every objective of the grid the finder scores
every recorded decision (`stance.q_values`: the step plus the best plan after it, by default to the
end of the episode, as `Planner` plans) and fits beta on `stance.BETAS`, which gives a log-likelihood
**surface** over the grid.

What it returns, `ObjectiveFit`, says how far to trust the answer: the weights within `units`
log-likelihood units of the best (2 units: roughly a 95% likelihood-ratio interval for one weight),
a bootstrap over episodes, and the uniform-random baseline. A system with an explicit objective
should give a sharp peak at that objective; a system without one may give a broad ridge, a peak
that moves between distributions, or barely beat uniform.

    from mesalib.analysis.objective_finder import find_objective
    fit = find_objective(Planner(KEYS_FIRST, max_steps=TEST.max_steps), TEST, episodes=40)
    print(fit.summary())
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mesalib.agents.objectives import Objective
from mesalib.analysis.stance.candidates import q_values
from mesalib.analysis.stance.likelihood import BETAS
from mesalib.analysis.stance.trajectories import Trajectories, record
from mesalib.env.levels import LevelDistribution, Mixture

ANGLES = np.arange(-45.0, 135.0 + 1e-9, 7.5)
"""The key:chest directions the finder tries, in degrees: from "chests, and avoid keys" (-45) through
"chests only" (0), "both alike" (45) and "keys only" (90) to "keys, and avoid chests" (135)."""

STEP_COST = 0.01
"""The default cost per step, against weights of size 1: enough to prefer the quicker of two plans that
achieve the same (as `Planner` does), too little to trade an item for fewer steps (a key or chest is
worth a hundred steps)."""


def objective_at(angle: float, step_cost: float = STEP_COST) -> Objective:
    """The objective in direction `angle` (degrees): chest = cos, key = sin (rounded, so that 90 degrees
    weighs chests exactly 0), and `step_cost` per step.

    >>> objective_at(90.0)
    Objective(chest=0.0, key=1.0, step=-0.01, ghost=0.0)
    """
    rad = np.radians(float(angle))
    return Objective(
        chest=round(float(np.cos(rad)), 12), key=round(float(np.sin(rad)), 12), step=-float(step_cost)
    )


@dataclass
class ObjectiveFit:
    """The log-likelihood of a system's decisions over a grid of objectives.

    `by_episode[i, j, k, e]`: the log-likelihood of episode e's decisions (a sum) under `angles[i]`,
    `step_costs[j]` and `betas[k]`; `q[i, j]`: the Q values of every recorded decision under that
    objective.
    """

    policy: str
    angles: np.ndarray
    step_costs: np.ndarray
    betas: np.ndarray
    by_episode: np.ndarray
    q: np.ndarray
    trajectories: Trajectories
    table: np.ndarray = field(init=False)
    """float [angles, step_costs, betas]: the log-likelihood of all decisions."""
    surface: np.ndarray = field(init=False)
    """float [angles, step_costs]: the log-likelihood with beta fitted (the best over `betas`)."""

    def __post_init__(self) -> None:
        self.table = self.by_episode.sum(axis=3)
        self.surface = self.table.max(axis=2)

    @property
    def decisions(self) -> int:
        return len(self.trajectories)

    @property
    def uniform(self) -> float:
        """The log-likelihood of uniformly random choices: the floor an explanation must beat."""
        return self.decisions * float(np.log(0.25))

    @property
    def best(self) -> tuple[float, float, float]:
        """(angle, step cost, beta) with the highest log-likelihood (the first, on ties: on a flat
        surface read `plausible_angles` instead)."""
        i, j, k = np.unravel_index(int(np.argmax(self.table)), self.table.shape)
        return float(self.angles[i]), float(self.step_costs[j]), float(self.betas[k])

    @property
    def objective(self) -> Objective:
        """The best objective of the grid."""
        angle, step_cost, _ = self.best
        return objective_at(angle, step_cost)

    @property
    def key_per_chest(self) -> float:
        """The best objective's key weight over its chest weight, tan(angle): inf for keys only."""
        o = self.objective
        return float(np.inf) if o.chest == 0 else o.key / o.chest

    def optimal_share(self, tol: float = 1e-9) -> float:
        """The share of decisions whose move is optimal (within `tol`) under the best objective: 1 for a
        system that always acts on that objective, however many moves tie; lower for one that only
        leans towards it (a low fitted beta says the same)."""
        i, j, _ = np.unravel_index(int(np.argmax(self.table)), self.table.shape)
        q = self.q[i, j]
        if not len(q):
            return float("nan")
        taken = q[np.arange(len(q)), self.trajectories.actions]
        return float(np.mean(taken >= q.max(axis=1) - tol))

    def plausible(self, units: float = 2.0) -> np.ndarray:
        """bool [angles, step_costs]: the objectives whose log-likelihood is within `units` of the best."""
        return self.surface >= self.surface.max() - float(units)

    def plausible_angles(self, units: float = 2.0) -> np.ndarray:
        """The angles with some step cost within `units` log-likelihood units of the best: a narrow set
        means the decisions pin the objective down; a wide one that many objectives fit them."""
        return self.angles[self.plausible(units).any(axis=1)]

    def bootstrap(self, resamples: int = 200, seed: int = 0) -> np.ndarray:
        """float [resamples]: the best angle when the episodes are resampled with replacement (beta and
        step cost refitted each time; angles that tie for best, within 1e-9, drawn at random, so that a
        flat surface shows as a spread). The spread says how firmly the decisions single out the angle."""
        n = self.by_episode.shape[3]
        rng = np.random.default_rng(seed)
        out = np.empty(int(resamples))
        for r in range(int(resamples)):
            table = self.by_episode[..., rng.integers(0, n, n)].sum(axis=3)
            per_angle = table.max(axis=(1, 2))
            tied = np.flatnonzero(per_angle >= per_angle.max() - 1e-9)
            out[r] = self.angles[rng.choice(tied)]
        return out

    def summary(self, units: float = 2.0) -> str:
        """A few lines: the best objective, how much better than uniform it is, and how ambiguous."""
        angle, step_cost, beta = self.best
        n = max(self.decisions, 1)
        near = self.plausible_angles(units)
        o = self.objective
        return "\n".join(
            [
                f"{self.policy}: {self.decisions} decisions",
                f"best objective: angle {angle:g} degrees (chest {o.chest:+.2f}, key {o.key:+.2f}, "
                f"step cost {step_cost:g}), beta {beta:.3g}",
                f"log-likelihood per decision {self.surface.max() / n:.3f} (uniform {self.uniform / n:.3f}); "
                f"moves optimal under it: {self.optimal_share():.2f}",
                f"angles within {units:g} units of the best: {near.min():g} to {near.max():g} degrees "
                f"({len(near)} of {len(self.angles)})",
            ]
        )


def episode_log_likelihoods(q, actions, episode, betas=BETAS) -> np.ndarray:
    """float [..., K, E]: the log-likelihood of each episode's actions under the softmax-rational model,
    for Q values `q` [..., N, 4] (any leading grid axes), `actions` [N], `episode` [N] (the episode of
    each decision) and every beta of `betas` [K]. Summed over episodes, one entry is
    `stance.log_likelihood(q[...], actions, beta)`."""
    q = np.asarray(q, dtype=np.float64)
    actions = np.asarray(actions, dtype=np.int64)
    betas = np.asarray(betas, dtype=np.float64)
    z = betas[:, None, None] * q[..., None, :, :]  # [..., K, N, A]
    top = z.max(axis=-1)
    log_norm = top + np.log(np.exp(z - top[..., None]).sum(axis=-1))
    taken = np.take_along_axis(z, np.broadcast_to(actions[:, None], (*z.shape[:-1], 1)), axis=-1)[..., 0]
    per_state = taken - log_norm  # [..., K, N]
    episode = np.asarray(episode)
    return np.stack([per_state[..., episode == e].sum(axis=-1) for e in np.unique(episode)], axis=-1)


def find_objective(
    policy,
    dist: LevelDistribution | Mixture,
    episodes: int = 40,
    seed: int = 0,
    angles=ANGLES,
    step_costs=(STEP_COST,),
    betas=BETAS,
    horizon: int | None = None,
    trajectories: Trajectories | None = None,
) -> ObjectiveFit:
    """Record `policy` on `episodes` levels of `dist` (unless `trajectories` are given; `policy` may then
    be just a name), score every decision under `objective_at(angle, step_cost)` for every angle and
    step cost of the grid, and fit beta on `betas`: the log-likelihood surface of inverse planning.

    `horizon`: the steps Q looks ahead; None (to the end of the episode) scores moves as `Planner`
    does. `stance.HORIZON` is quicker on boards with many items but blind to what lies further away,
    which makes a distant key worthless to an objective that wants chests."""
    if trajectories is None:
        trajectories = record(policy, dist, episodes, seed)
    angles = np.asarray(angles, dtype=float).reshape(-1)
    step_costs = np.asarray(step_costs, dtype=float).reshape(-1)
    betas = np.asarray(betas, dtype=float).reshape(-1)
    q = np.zeros((len(angles), len(step_costs), len(trajectories), 4))
    for i, angle in enumerate(angles):
        for j, cost in enumerate(step_costs):
            objective = objective_at(angle, cost)
            q[i, j] = q_values(objective, trajectories.boards, trajectories.steps_left, horizon, haste=0.0)
    by_episode = episode_log_likelihoods(q, trajectories.actions, trajectories.episode, betas)
    name = policy if isinstance(policy, str) else getattr(policy, "name", None) or type(policy).__name__
    return ObjectiveFit(name, angles, step_costs, betas, by_episode, q, trajectories)
