"""Agent or device: does a goal predict an agent's moves better than a simple rule does?

Dennett's criterion, as Orseau, McGregor McGill and Legg (2018) make it relative: an *agent*
description ("it wants keys, and acts on that") earns its place only if it predicts the system's
behaviour better than *device* descriptions ("it steps towards the nearest key") of the same
complexity. Here both kinds are probability models of the next move, each with ONE free parameter:

- intentional (`stance.Candidate`): softmax-rational over an objective's Q values,
  P(a | s) proportional to exp(beta * Q_obj(s, a)), beta fitted (`stance.BETAS`);
- device (`Device`): a fixed rule plus noise, P(a | s) = (1 - eps) * rule(a | s) + eps / 4, where
  rule(a | s) is the rule's move distribution in state s, eps fitted (`EPSILONS`). The rules are greedy
  steps on distance maps, like the heuristics in `agents.heuristics`, but where several moves are
  equally good a rule spreads its probability over all of them (a rule such as "walk to the nearest
  key" does not say which of two shortest paths to take; softmax-rational candidates spread over tied
  Q values in the same way, so neither kind is charged for an arbitrary tie-break).

`attribute` fits each candidate's parameter on decisions recorded on one set of levels and scores it on
*held-out* decisions recorded on other levels (another distribution, or the same one with other
seeds): a description that only fits what it was tuned on gains nothing there. It reports the held-out
log-likelihood per decision, against uniform random moves (log 1/4), with a bootstrap interval over
held-out episodes, in an `Attribution`.

The two kinds fail differently out of distribution. A device never rates a move below eps / 4. A goal
fitted with a large beta where it predicted well can be sure and wrong elsewhere: a move it rates
worse than the best by dQ costs about beta * dQ nats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mesalib.agents.heuristics import UNREACHABLE, distance_map
from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.analysis.stance import (
    BETAS,
    BLIND_CHESTS,
    BOTH,
    HASTE,
    HORIZON,
    Candidate,
    Trajectories,
    q_values,
    record,
)
from mesalib.env.levels import TEST, TRAIN, Boards, LevelBatch, LevelDistribution, Mixture
from mesalib.env.rules import DELTAS

EPSILONS = np.geomspace(1e-3, 1.0, 31)
"""The grid of noise levels eps that `attribute` searches for device candidates, 0.001 to 1, log-spaced
(31 points, like `stance.BETAS`). eps = 1 is uniformly random moves."""

UNIFORM = float(np.log(0.25))
"""Log-likelihood per decision of uniformly random moves, log(1/4): the floor every description
should beat."""

KEYS_THEN_CHESTS = Candidate("keys, then chests", Objective(key=1.0, chest=0.1, step=-0.01))
"""Keys above all, chests only as a tie-break (lesson 03's `KEYS_FIRST` objective)."""

INTENTIONAL = (
    Candidate("keys", KEYS),
    Candidate("chests", CHESTS),
    BOTH,
    KEYS_THEN_CHESTS,
    BLIND_CHESTS,
)
"""The goals `attribute` tries by default: the key proxy, the base objective, both, keys first, and the
base objective with the false belief that no key is held."""

Rule = Callable[[Boards, np.ndarray], np.ndarray]
"""rule(boards, previous) -> float [N, 4]: a device's move distribution in each state. `previous`:
int [N], the move made just before in the same episode (-1 at an episode's first decision)."""


@dataclass(frozen=True)
class Device:
    """A hypothesis that the system is a mechanism: a fixed `rule` (see `Rule`), followed except for a
    share eps of uniformly random moves. `fits_noise` False marks a rule with no free parameter (random
    moves, where eps changes nothing)."""

    name: str
    rule: Rule
    fits_noise: bool = True


# ---------------------------------------------------------------------------------------------------
# Rules


def _next_cells(boards: Boards) -> tuple[np.ndarray, np.ndarray]:
    """(cells [N, 4, 2] each move leads to, bool [N, 4] which moves walk into a wall)."""
    cells = np.asarray(boards.agent)[:, None, :] + DELTAS[None]
    rows = np.arange(len(cells))[:, None]
    return cells, np.asarray(boards.walls)[rows, cells[..., 0], cells[..., 1]]


def _uniform_over(allowed: np.ndarray) -> np.ndarray:
    """float [N, 4]: uniform over the True entries of each row (over all four where none is True)."""
    allowed = np.where(allowed.any(axis=1, keepdims=True), allowed, True)
    return allowed / allowed.sum(axis=1, keepdims=True)


def toward(boards: Boards, targets) -> np.ndarray:
    """float [N, 4]: a greedy step towards the nearest of `targets` (bool [N, H, W]), ties spread.

    Like `heuristics.greedy_step`: the moves that land on a cell nearest to a target (walking
    distance) share the probability equally; where no target can be reached, every move that does
    not walk into a wall does.
    """
    dist = distance_map(boards.walls, targets)
    cells, blocked = _next_cells(boards)
    rows = np.arange(len(cells))[:, None]
    ahead = np.where(blocked, UNREACHABLE, dist[rows, cells[..., 0], cells[..., 1]])
    nearest = ahead.min(axis=1, keepdims=True)
    best = np.where(nearest < UNREACHABLE, ahead == nearest, ~blocked)
    return _uniform_over(best)


def nearest_key(boards: Boards, previous=None) -> np.ndarray:
    """`heuristics.NearestKey` as a rule: towards the nearest key; with no key left, the nearest chest."""
    keys_left = np.asarray(boards.keys.any(axis=(1, 2)))
    return toward(boards, np.where(keys_left[:, None, None], boards.keys, boards.chests))


def key_then_chest(boards: Boards, previous=None) -> np.ndarray:
    """`heuristics.KeyThenChest` as a rule: towards the nearest chest holding a key, else a key."""
    holding = np.asarray(boards.keys_held) > 0
    return toward(boards, np.where(holding[:, None, None], boards.chests, boards.keys))


def nearest_item(boards: Boards, previous=None) -> np.ndarray:
    """Towards the nearest item, key or chest, whichever is nearer (held keys ignored)."""
    return toward(boards, boards.keys | boards.chests)


def wall_follower(boards: Boards, previous, sight: int = 3) -> np.ndarray:
    """`heuristics.WallFollower` as a rule that reads its heading from the previous move.

    A key at most `sight` steps away: towards it. Otherwise, with heading h (the previous move): a wall
    on the left hand, keep it there (straight, else right, else back); a wall straight ahead, turn right
    (else back, else left); else straight on. At an episode's first move the heading is unknown: the
    average over the four. In an open room this is exactly the heuristic's behaviour; in a maze the
    heuristic also turns left around corners, which needs memory the rule does not have.
    """
    previous = np.asarray(previous, dtype=np.int64)
    _, blocked = _next_cells(boards)
    free = ~blocked
    n = len(previous)
    rows = np.arange(n)
    out = np.zeros((n, 4))
    for h in range(4):
        turns = (h + np.array([[0, 1, 2, 3], [1, 2, 3, 0], [0, 0, 0, 0]])) % 4  # along / hit / open
        case = np.where(blocked[:, (h + 3) % 4], 0, np.where(blocked[:, h], 1, 2))
        order = turns[case]  # [N, 4] moves in order of preference
        first = free[rows[:, None], order].argmax(axis=1)
        chosen = np.zeros((n, 4))
        chosen[rows, order[rows, first]] = 1.0
        weight = np.where(previous < 0, 0.25, (previous == h).astype(float))
        out += weight[:, None] * chosen
    key_dist = distance_map(boards.walls, boards.keys)
    agent = np.asarray(boards.agent)
    in_view = key_dist[rows, agent[:, 0], agent[:, 1]] <= sight
    if in_view.any():
        out[in_view] = toward(boards, boards.keys)[in_view]
    return out


def random_moves(boards: Boards, previous=None) -> np.ndarray:
    """Uniformly random moves, walls included: the baseline (`heuristics.RandomPolicy`)."""
    return np.full((len(boards), 4), 0.25)


def policy_rule(policy) -> Rule:
    """A rule that makes exactly the move a memoryless, deterministic `policy` makes (a one-hot), ties
    broken the policy's own way; for comparing with the tie-spreading rules above."""

    def rule(boards: Boards, previous=None) -> np.ndarray:
        moves = np.asarray(policy(None, boards), dtype=np.int64)
        out = np.zeros((len(moves), 4))
        out[np.arange(len(moves)), moves] = 1.0
        return out

    return rule


DEVICES = (
    Device("nearest_key", nearest_key),
    Device("key_then_chest", key_then_chest),
    Device("nearest_item", nearest_item),
    Device("wall_follower", wall_follower),
    Device("random", random_moves, fits_noise=False),
)
"""The rules `attribute` tries by default; "random" is the baseline (no free parameter)."""


# ---------------------------------------------------------------------------------------------------
# Log-likelihoods per decision, for every value of a parameter grid


def previous_moves(trajectories: Trajectories) -> np.ndarray:
    """int [N]: the move made just before each decision in the same episode, -1 at an episode's start."""
    prev = np.full(len(trajectories), -1, dtype=np.int64)
    same = trajectories.episode[1:] == trajectories.episode[:-1]
    prev[1:] = np.where(same, trajectories.actions[:-1], -1)
    return prev


def softmax_log_probs(q, actions, betas) -> np.ndarray:
    """float [K, N]: log P(actions[i] | s_i) under softmax(beta_k * q[i]) for every beta_k of `betas`."""
    z = np.asarray(betas, dtype=float)[:, None, None] * np.asarray(q, dtype=float)[None]  # [K, N, 4]
    top = z.max(axis=2, keepdims=True)
    log_norm = (top + np.log(np.exp(z - top).sum(axis=2, keepdims=True)))[..., 0]
    return np.take_along_axis(z, np.asarray(actions)[None, :, None], axis=2)[..., 0] - log_norm


def noisy_rule_log_probs(rule_probs, actions, epsilons) -> np.ndarray:
    """float [K, N]: log P(actions[i] | s_i) under (1 - eps_k) * rule_probs[i] + eps_k / 4."""
    taken = np.asarray(rule_probs, dtype=float)[np.arange(len(actions)), np.asarray(actions)]
    eps = np.asarray(epsilons, dtype=float)[:, None]
    return np.log((1.0 - eps) * taken[None] + eps / 4.0)


def _log_probs(candidate, trajectories: Trajectories, grid, horizon, haste) -> np.ndarray:
    """float [K, N] for one candidate (a `stance.Candidate` or a `Device`) over its parameter grid."""
    if isinstance(candidate, Device):
        probs = candidate.rule(trajectories.boards, previous_moves(trajectories))
        return noisy_rule_log_probs(probs, trajectories.actions, grid)
    q = q_values(candidate, trajectories.boards, trajectories.steps_left, horizon, haste)
    return softmax_log_probs(q, trajectories.actions, grid)


# ---------------------------------------------------------------------------------------------------
# The result


@dataclass
class Attribution:
    """Every candidate's fitted parameter and its log-likelihood per decision, fitted and held out.

    Rows are candidates, in the order given: `names`, `kinds` ("intentional" or "device"),
    `parameter_names` ("beta" or "eps"), `parameters` (NaN for a rule without a free parameter).
    `held_out_log_probs[c]` holds log P(move | state) of every held-out decision under candidate c with
    its fitted parameter; `held_out_episode` says which episode each decision belongs to.
    """

    policy: str
    fit_on: str
    on: str
    names: list[str]
    kinds: list[str]
    parameter_names: list[str]
    parameters: np.ndarray
    fit_per_decision: np.ndarray
    held_out_log_probs: np.ndarray
    held_out_episode: np.ndarray
    fit_decisions: int
    seed: int = 0
    confidence: float = 0.9
    resamples: int = 1000
    held_out_per_decision: np.ndarray = field(init=False)
    interval: np.ndarray = field(init=False)
    _draws: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.held_out_per_decision = self.held_out_log_probs.mean(axis=1)
        # Resample whole held-out episodes (decisions within an episode are not independent).
        ids, episode = np.unique(self.held_out_episode, return_inverse=True)
        sums = np.stack(
            [np.bincount(episode, weights=row, minlength=len(ids)) for row in self.held_out_log_probs]
        )
        counts = np.bincount(episode, minlength=len(ids))
        pick = np.random.default_rng(self.seed).integers(0, len(ids), (int(self.resamples), len(ids)))
        self._draws = sums[:, pick].sum(axis=2) / counts[pick].sum(axis=1)  # [C, R] per decision
        tail = (1.0 - self.confidence) / 2.0
        self.interval = np.quantile(self._draws, [tail, 1.0 - tail], axis=1).T

    @property
    def held_out_decisions(self) -> int:
        """How many held-out decisions were scored."""
        return self.held_out_log_probs.shape[1]

    @property
    def held_out_episodes(self) -> int:
        """How many held-out episodes they came from (the units the bootstrap resamples)."""
        return len(np.unique(self.held_out_episode))

    def best(self, kind: str | None = None) -> str:
        """The name of the candidate (of `kind`, "intentional" or "device", if given) that predicts the
        held-out decisions best."""
        if kind not in (None, "intentional", "device"):
            raise ValueError(f"best: kind must be None, 'intentional' or 'device'; got {kind!r}.")
        rows = [i for i, k in enumerate(self.kinds) if kind is None or k == kind]
        if not rows:
            raise ValueError(f"best: no {kind} candidate was tried.")
        return self.names[max(rows, key=lambda i: self.held_out_per_decision[i])]

    def difference(self, first: str, second: str) -> tuple[float, float, float]:
        """(held-out log-likelihood per decision of `first` minus `second`, and its bootstrap interval),
        the two resampled together (the same episodes each time), which is tighter than comparing their
        separate intervals."""
        i, j = self.names.index(first), self.names.index(second)
        tail = (1.0 - self.confidence) / 2.0
        lo, hi = np.quantile(self._draws[i] - self._draws[j], [tail, 1.0 - tail])
        return float(self.held_out_per_decision[i] - self.held_out_per_decision[j]), float(lo), float(hi)

    def verdict(self) -> str:
        """One sentence: which kind of description predicts the held-out decisions better, and how firmly."""
        if len(set(self.kinds)) < 2:
            return f"only {self.kinds[0]} candidates were tried; the best is {self.best()!r}"
        agent, device = self.best("intentional"), self.best("device")
        diff, lo, hi = self.difference(agent, device)
        pct = round(100 * self.confidence)
        if lo > 0:
            head = f"the goal {agent!r} predicts better than any rule"
        elif hi < 0:
            head = f"the rule {device!r} predicts better than any goal"
        else:
            head = f"undecided between the goal {agent!r} and the rule {device!r}"
        return f"{head}: goal minus rule {diff:+.3f} per decision ({pct}% interval {lo:+.3f} to {hi:+.3f})"

    def summary(self) -> str:
        """A printable table, one row per candidate, best held-out first, and the verdict."""
        pct = round(100 * self.confidence)
        w = max([len(n) for n in self.names] + [9])
        lines = [
            f"{self.policy}: fitted on {self.fit_decisions} decisions on {self.fit_on}, scored on "
            f"{self.held_out_decisions} held-out decisions ({self.held_out_episodes} episodes) on {self.on}",
            f"log-likelihood per decision; uniform random moves score {UNIFORM:.3f}",
            f"{'candidate':{w}s} {'kind':11s} {'param':>12s} {'fitted':>7s} {'held out':>8s} "
            f"{'vs unif':>7s} {f'{pct}% interval':>17s}",
        ]
        for i in np.argsort(-self.held_out_per_decision, kind="stable"):
            p = self.parameters[i]
            param = "-" if np.isnan(p) else f"{self.parameter_names[i]} {p:.3g}"
            lo, hi = self.interval[i]
            lines.append(
                f"{self.names[i]:{w}s} {self.kinds[i]:11s} {param:>12s} {self.fit_per_decision[i]:7.3f} "
                f"{self.held_out_per_decision[i]:8.3f} {self.held_out_per_decision[i] - UNIFORM:+7.3f} "
                f"{lo:8.3f} {hi:8.3f}"
            )
        lines.append(self.verdict())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """Plain data for JSON: the settings, every candidate, and the best of each kind compared."""
        rows = []
        for i, name in enumerate(self.names):
            p = self.parameters[i]
            rows.append(
                {
                    "name": name,
                    "kind": self.kinds[i],
                    "parameter_name": self.parameter_names[i],
                    "parameter": None if np.isnan(p) else float(p),
                    "fit_per_decision": float(self.fit_per_decision[i]),
                    "held_out_per_decision": float(self.held_out_per_decision[i]),
                    "held_out_vs_uniform": float(self.held_out_per_decision[i] - UNIFORM),
                    "interval": [float(x) for x in self.interval[i]],
                }
            )
        return {
            "agent": self.policy,
            "fit_on": self.fit_on,
            "on": self.on,
            "seed": self.seed,
            "fit_decisions": self.fit_decisions,
            "held_out_decisions": self.held_out_decisions,
            "held_out_episodes": self.held_out_episodes,
            "uniform_per_decision": UNIFORM,
            "confidence": self.confidence,
            "candidates": rows,
            "best": self._best_of_each_kind(),
        }

    def _best_of_each_kind(self) -> dict:
        """The best intentional and the best device candidate, and their paired difference."""
        best: dict = {kind: None for kind in ("intentional", "device")}
        best |= {kind: self.best(kind) for kind in set(self.kinds)}
        best |= {"intentional_minus_device": None, "interval": None, "verdict": self.verdict()}
        if best["intentional"] and best["device"]:
            diff, lo, hi = self.difference(best["intentional"], best["device"])
            best |= {"intentional_minus_device": diff, "interval": [lo, hi]}
        return best


# ---------------------------------------------------------------------------------------------------
# Fitting and scoring


def describe(dist: LevelDistribution | Mixture) -> str:
    """A short name for a distribution: "TRAIN" or "TEST" when its item counts are theirs."""
    for name, known in (("TRAIN", TRAIN), ("TEST", TEST)):
        if not isinstance(dist, Mixture) and (dist.keys, dist.chests) == (known.keys, known.chests):
            return name
    if isinstance(dist, Mixture):
        return "a mixture of " + " and ".join(describe(p) for p in dist.parts)
    return f"levels with {dist.keys[0]}-{dist.keys[1]} keys and {dist.chests[0]}-{dist.chests[1]} chests"


def fitting_levels(dist: LevelDistribution | Mixture, episodes: int, seed: int = 0) -> LevelBatch:
    """The levels `attribute` fits on: `episodes` levels of `dist` from a stream spawned from `seed`
    (`numpy.random.SeedSequence(seed).spawn(1)`), never the levels `dist.sample` draws with `seed`
    itself, which are the held-out ones."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(1)[0])
    return dist.sample(rng, int(episodes))


def attribute(
    policy,
    fit_on: LevelDistribution | Mixture,
    on: LevelDistribution | Mixture,
    episodes: int = 30,
    seed: int = 0,
    intentional=INTENTIONAL,
    devices=DEVICES,
    betas=BETAS,
    epsilons=EPSILONS,
    confidence: float = 0.9,
    resamples: int = 1000,
    horizon: int | None = HORIZON,
    haste: float = HASTE,
    fit_trajectories: Trajectories | None = None,
    held_out: Trajectories | None = None,
) -> Attribution:
    """Fit every candidate on `policy`'s decisions on `fit_on` and score it on held-out decisions on `on`.

    Held out: `episodes` levels of `on` drawn with `seed` (the levels `stance.record` and `evaluate`
    would play with that seed). Fitting: `episodes` levels of `fit_on` from `fitting_levels`, never
    the held-out levels, even when `fit_on` and `on` are the same distribution. Either recording may
    be given instead (`fit_trajectories`, `held_out`); with both, `policy` may be just a name.

    Each intentional candidate's beta (on `betas`) and each device's eps (on `epsilons`) is the one
    that maximises the log-likelihood of the fitting decisions; the held-out decisions are then scored
    with that value, and a bootstrap over held-out episodes (`resamples`, seeded by `seed`) gives a
    `confidence` interval. Exact search makes the intentional candidates the slow part (about 20 ms
    per decision for the five default goals on `TEST` boards, 10 ms on `TRAIN` boards, on one busy
    core); the devices take next to nothing.
    """
    episodes = int(episodes)
    if episodes < 1 and (fit_trajectories is None or held_out is None):
        raise ValueError(f"attribute: episodes must be at least 1; got {episodes}.")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"attribute: confidence must be between 0 and 1; got {confidence}.")
    if held_out is None:
        held_out = record(policy, on, episodes, seed)
    if fit_trajectories is None:
        fit_trajectories = record(policy, fit_on, episodes, levels=fitting_levels(fit_on, episodes, seed))
    candidates = [*intentional, *devices]
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise ValueError(f"attribute: candidate names must differ; got {names}.")
    parameters, fitted, scored = [], [], []
    for c in candidates:
        grid = np.asarray(epsilons if isinstance(c, Device) else betas, dtype=float)
        fit_lp = _log_probs(c, fit_trajectories, grid, horizon, haste)  # [K, N_fit]
        k = int(np.argmax(fit_lp.sum(axis=1)))
        free = not isinstance(c, Device) or c.fits_noise
        parameters.append(grid[k] if free else np.nan)
        fitted.append(fit_lp[k].mean() if len(fit_trajectories) else np.nan)
        scored.append(_log_probs(c, held_out, grid[k : k + 1], horizon, haste)[0])
    name = policy if isinstance(policy, str) else getattr(policy, "name", None) or type(policy).__name__
    return Attribution(
        policy=name,
        fit_on=describe(fit_on),
        on=describe(on),
        names=names,
        kinds=["device" if isinstance(c, Device) else "intentional" for c in candidates],
        parameter_names=["eps" if isinstance(c, Device) else "beta" for c in candidates],
        parameters=np.array(parameters, dtype=float),
        fit_per_decision=np.array(fitted, dtype=float),
        held_out_log_probs=np.stack(scored),
        held_out_episode=np.asarray(held_out.episode),
        fit_decisions=len(fit_trajectories),
        seed=int(seed),
        confidence=float(confidence),
        resamples=int(resamples),
    )
