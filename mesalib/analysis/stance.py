"""The intentional stance, made quantitative: which objective best explains what an agent does?

Dennett's intentional stance predicts a system's behaviour by treating it as a rational agent with
beliefs and desires. Here the "desires" are candidate objectives (`Candidate`: an `Objective` from
`policies.py`, and what the modelled agent believes about the keys it holds), and "rational" is
softened into *Boltzmann rationality*: in state s the agent picks action a with probability

    P(a | s)  proportional to  exp(beta * Q_obj(s, a)),

where Q_obj(s, a) is what action a achieves under the objective: the objective's score of the step
itself plus the best score still reachable afterwards, found by the planner's exact `search`. beta says
how reliably the agent acts on that objective (0: uniformly random; large: always a best action).
Nothing here assumes that the agent searches: the planner only *scores* actions; the agent is
judged by what it does.

The pieces, in the order a lesson uses them:

- preference levels: `preference_level` puts one key and one chest on opposite sides of the agent at
  chosen distances; `preference_probabilities` reads a policy's move probabilities there, with or
  without a key in hand;
- `record`: the states a policy visits on some levels, and the actions it takes there;
- `action_values` / `q_values`: Q_obj for every action in every recorded state;
- `log_likelihood`, `likelihood_table`, `fit`: the softmax-rational model, the log-likelihood of the
  observed actions, and the maximum-likelihood choice of objective and beta on a grid (`BETAS`);
- `explain`: all of it at once, returning an `Explanation` with a printable table, per-decision
  log-likelihoods and a bootstrap over episodes.

The hypotheses: `CANDIDATES` (chests, keys, nothing), and two more for the "want or know?" question:
`BOTH` (keys and chests) and `BLIND_CHESTS` (chests, believing it never holds a key).

This module imports torch only through the agent it is given, and no plotting library.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.agents.planner import search
from mesalib.env.levels import Boards, Level, LevelBatch, LevelDistribution, Mixture
from mesalib.env.rules import MOVES, Action, Game
from mesalib.env.vecenv import VecChestsAndKeys

_DELTAS = np.array([MOVES[a] for a in Action])  # row i is the (d_row, d_col) of action i

HASTE = 0.1
"""Cost per step added to every candidate objective, so that "sooner" beats "later" (a stand-in for
the discount the agent was trained with). Ten steps, the `HORIZON`, cost as much as one chest or key."""

HORIZON = 10
"""Steps ahead that Q_obj looks (at most the steps left in the episode). Ten keeps the exact search
quick on boards with ten keys, and covers most of a 9x9 room."""

BETAS = np.geomspace(0.1, 100.0, 31)
"""The grid of rationality coefficients beta that `fit` and `explain` search, 0.1 to 100, log-spaced."""


@dataclass(frozen=True)
class Candidate:
    """A hypothesis about what an agent wants (`objective`) and believes about its keys.

    `believed_keys`: None when the modelled agent knows how many keys it holds; a number to model an
    agent that always believes it holds that many (0: "thinks it never has a key"), which is the
    situation of an agent whose observation does not show its inventory.
    """

    name: str
    objective: Objective
    believed_keys: int | None = None


CANDIDATES = (
    Candidate("chests", CHESTS),
    Candidate("keys", KEYS),
    Candidate("nothing", Objective()),
)
"""The default hypotheses: the environment's reward (the base objective), the key proxy, and an
objective that values nothing (every action equally good: the uniformly random model, a baseline)."""

BOTH = Candidate("keys and chests", Objective(chest=1.0, key=1.0))
"""A mixed hypothesis: a key and a chest are worth one point each."""

BLIND_CHESTS = Candidate("chests, believes it holds no key", CHESTS, believed_keys=0)
"""The base objective with a false belief: an agent that wants chests but always thinks its hands are
empty (what an agent that cannot see its inventory might assume)."""


def best_moves(q_values, tol: float = 1e-9) -> np.ndarray:
    """bool [N, A]: which actions are best (within `tol` of the row's maximum) in each state."""
    q = np.asarray(q_values, dtype=np.float64)
    return q >= q.max(axis=-1, keepdims=True) - tol


# ---------------------------------------------------------------------------------------------------
# Hand-built preference levels


def preference_level(key_steps: int, chest_steps: int, key_side: int = Action.LEFT, size: int = 9) -> Level:
    """An open size x size room with the agent, one key `key_steps` cells away in direction `key_side`
    (an `Action`), and one chest `chest_steps` cells away in the opposite direction, all in the
    middle row (or column). Needs 1 <= key_steps, chest_steps and key_steps + chest_steps <= size - 3.

    The agent's first move then tells which item it heads for: `key_side` or its opposite.
    """
    key_steps, chest_steps, side = int(key_steps), int(chest_steps), Action(int(key_side))
    if key_steps < 1 or chest_steps < 1 or key_steps + chest_steps > size - 3:
        raise ValueError(
            f"preference_level: need key_steps, chest_steps >= 1 and key_steps + chest_steps <= "
            f"{size - 3} in a {size}x{size} room; got {key_steps} and {chest_steps}."
        )
    walls = np.zeros((size, size), bool)
    walls[[0, -1], :] = True
    walls[:, [0, -1]] = True
    keys, chests, ghosts = (np.zeros((size, size), bool) for _ in range(3))
    dr, dc = _DELTAS[side]
    # Along the line of the items the agent sits so that the whole arrangement is centred.
    span = key_steps + chest_steps
    offset = 1 + (size - 2 - (span + 1)) // 2  # first cell of the arrangement along the line
    along = offset + key_steps  # the agent's coordinate along the line, measured from the key's end
    middle = size // 2
    if dc != 0:  # horizontal line in the middle row
        col = along if dc < 0 else size - 1 - along
        agent = (middle, col)
    else:  # vertical line in the middle column
        row = along if dr < 0 else size - 1 - along
        agent = (row, middle)
    keys[agent[0] + dr * key_steps, agent[1] + dc * key_steps] = True
    chests[agent[0] - dr * chest_steps, agent[1] - dc * chest_steps] = True
    return Level(walls, keys, chests, ghosts, agent)


def observation_dist(policy, default: LevelDistribution | Mixture) -> LevelDistribution | Mixture:
    """The distribution whose observation settings `policy` expects: a torch agent's own training
    distribution (so an agent trained with inventory planes gets them), else `default`."""
    try:
        if getattr(policy, "config", None):
            return policy.ppo_config().dist
    except Exception:  # a hand-made or older config: fall back
        pass
    return default


def observations(levels: list[Level], dist: LevelDistribution | Mixture, keys_held=0) -> np.ndarray:
    """uint8 [N, *dist.observation_shape]: what an agent sees at the start of each level, holding
    `keys_held` keys (a number, or one per level); inventory planes (if any) show that count."""
    held = np.broadcast_to(np.asarray(keys_held, dtype=np.int64), (len(levels),))
    obs = np.stack([Game(level, dist).observe() for level in levels])
    for i in range(obs.shape[1] - 4):  # plane 4 + i is all ones when more than i keys are held
        obs[:, 4 + i] = (held > i)[:, None, None]
    return obs


def action_probabilities(
    policy, levels: list[Level], keys_held=0, dist: LevelDistribution | Mixture | None = None
) -> np.ndarray:
    """float [N, 4]: the policy's move probabilities at the start of each level, holding `keys_held`.

    A torch agent (anything with `.logits`): the softmax of its logits on the observation it would
    get (with its own training distribution's observation settings unless `dist` is given). Any
    other policy: probability 1 on the action it picks (it reads `Boards` with `keys_held`); it is
    `reset(None)` before and after.
    """
    from mesalib.env.levels import TRAIN

    dist = dist or observation_dist(policy, TRAIN)
    obs = observations(levels, dist, keys_held)
    if hasattr(policy, "logits"):
        logits = policy.logits(obs)
        logits = logits.detach().cpu().numpy() if hasattr(logits, "detach") else np.asarray(logits)
        z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)
    batch = LevelBatch.stack(levels)
    held = np.broadcast_to(np.asarray(keys_held, dtype=np.int64), (len(levels),)).copy()
    boards = Boards(batch.walls, batch.keys, batch.chests, batch.ghosts, batch.agent, held)
    if hasattr(policy, "reset"):
        policy.reset(None)
    actions = np.asarray(policy(obs, boards), dtype=np.int64)
    if hasattr(policy, "reset"):
        policy.reset(None)
    probs = np.zeros((len(levels), 4))
    probs[np.arange(len(levels)), actions] = 1.0
    return probs


@dataclass
class Preferences:
    """Move probabilities on preference levels: `toward_key[i, j]` and `toward_chest[i, j]` are the
    probabilities of the first move towards the key and towards the chest with the key i + 1 steps
    away and the chest j + 1 steps away, averaged over the four orientations (NaN where the two do
    not fit in the room)."""

    toward_key: np.ndarray
    toward_chest: np.ndarray
    keys_held: int

    @property
    def chest_minus_key(self) -> np.ndarray:
        """P(towards the chest) - P(towards the key): +1 always the chest, -1 always the key."""
        return self.toward_chest - self.toward_key

    def diagonal(self) -> tuple[np.ndarray, np.ndarray]:
        """(P towards the key, P towards the chest) where both are equally far, for distances 1, 2, ..."""
        n = min(self.toward_key.shape)
        idx = np.arange(n)
        keep = ~np.isnan(self.toward_key[idx, idx])
        return self.toward_key[idx, idx][keep], self.toward_chest[idx, idx][keep]


def preference_probabilities(
    policy, keys_held: int = 0, size: int = 9, dist: LevelDistribution | Mixture | None = None
) -> Preferences:
    """A policy's choice between one key and one chest at every pair of distances that fits.

    For each key distance k and chest distance c (1 <= k, c, k + c <= size - 3) and each of the four
    orientations, build `preference_level(k, c, side)` and read the policy's probabilities of moving
    towards the key and towards the chest (`action_probabilities`), holding `keys_held` keys.
    """
    most = size - 4
    combos = [
        (k, c, side)
        for k in range(1, most + 1)
        for c in range(1, most + 1)
        if k + c <= size - 3
        for side in Action
    ]
    levels = [preference_level(k, c, side, size) for k, c, side in combos]
    probs = action_probabilities(policy, levels, keys_held, dist)
    to_key = np.full((most, most), np.nan)
    to_chest = np.full((most, most), np.nan)
    sums: dict[tuple[int, int], list[float]] = {}
    for (k, c, side), p in zip(combos, probs):
        s = sums.setdefault((k, c), [0.0, 0.0, 0])
        s[0] += p[int(side)]
        s[1] += p[(int(side) + 2) % 4]
        s[2] += 1
    for (k, c), (pk, pc, n) in sums.items():
        to_key[k - 1, c - 1], to_chest[k - 1, c - 1] = pk / n, pc / n
    return Preferences(to_key, to_chest, int(keys_held))


# ---------------------------------------------------------------------------------------------------
# Recording behaviour


@dataclass
class Trajectories:
    """The states a policy visited and what it did there, one row per decision.

    `boards` holds the board before each decision (keys held included); `steps_left` the steps the
    episode had left at that moment; `actions` the action taken; `probs` the policy's action
    probabilities (one-hot for policies without `.logits`); `episode` which level the row belongs to.
    Rows are ordered by episode, and in time order within an episode.
    """

    boards: Boards
    steps_left: np.ndarray
    actions: np.ndarray
    probs: np.ndarray
    episode: np.ndarray

    def __len__(self) -> int:
        return len(self.actions)

    def reversals(self) -> float:
        """The share of moves that undo the move just before (UP after DOWN, ...) in the same episode:
        high when a policy dithers back and forth between two cells."""
        same = self.episode[1:] == self.episode[:-1]
        undo = self.actions[1:] == (self.actions[:-1] + 2) % 4
        return float((undo & same).sum() / max(int(same.sum()), 1))


def record(
    policy, dist: LevelDistribution | Mixture, episodes: int, seed: int = 0, levels: LevelBatch | None = None
) -> Trajectories:
    """Play `episodes` levels drawn from `dist` with `seed` (the same levels `evaluate` would use),
    or the given `levels`, one episode each, all at once, and record every decision."""
    if levels is None:
        levels = dist.sample(np.random.default_rng(seed), int(episodes))
    n = len(levels)
    env = VecChestsAndKeys(dist, n, seed=0)
    env.load(np.arange(n), levels)
    if hasattr(policy, "reset"):
        policy.reset(None)
    active = np.ones(n, dtype=bool)
    parts: dict[str, list] = {
        k: []
        for k in (
            "walls",
            "keys",
            "chests",
            "ghosts",
            "agent",
            "keys_held",
            "steps_left",
            "actions",
            "probs",
            "episode",
        )
    }
    obs = env.observe()
    for t in range(int(dist.max_steps)):
        boards = env.boards()
        actions = np.asarray(policy(obs, boards), dtype=np.int64)
        if hasattr(policy, "logits"):
            logits = policy.logits(obs)
            logits = logits.detach().cpu().numpy() if hasattr(logits, "detach") else np.asarray(logits)
            z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
            probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        else:
            probs = np.zeros((n, 4))
            probs[np.arange(n), actions] = 1.0
        rows = np.flatnonzero(active)
        for name in ("walls", "keys", "chests", "ghosts", "agent", "keys_held"):
            parts[name].append(getattr(boards, name)[rows])
        parts["steps_left"].append(np.full(len(rows), int(dist.max_steps) - t))
        parts["actions"].append(actions[rows])
        parts["probs"].append(probs[rows])
        parts["episode"].append(rows)
        obs, _, terminated, truncated, _ = env.step(actions)
        done = terminated | truncated
        if hasattr(policy, "reset") and done.any():
            policy.reset(done)
        active &= ~done
        if not active.any():
            break
    order = np.argsort(np.concatenate(parts["episode"]), kind="stable")  # by episode, then in time order
    cat = {k: np.concatenate(v)[order] for k, v in parts.items()}
    boards = Boards(cat["walls"], cat["keys"], cat["chests"], cat["ghosts"], cat["agent"], cat["keys_held"])
    return Trajectories(boards, cat["steps_left"], cat["actions"], cat["probs"], cat["episode"])


# ---------------------------------------------------------------------------------------------------
# What each action achieves under an objective


def action_values(
    objective: Objective,
    walls,
    keys,
    chests,
    agent,
    keys_held: int,
    steps_left: int,
    horizon: int | None = HORIZON,
    haste: float = HASTE,
) -> np.ndarray:
    """float [4]: Q_obj(s, a) for the four actions (in `Action` order) in one state.

    Q_obj(s, a) = the objective's score of what the step does (a key picked up, a chest opened)
                  - haste
                  + the best score a plan can still reach afterwards (`search`, with `haste` added to
                    the objective's step cost) within min(horizon, steps_left) - 1 steps; 0 when the
                    game ends with this step or no steps are left.
    Walking into a wall leaves the agent where it is (and still costs a step).
    """
    walls = np.asarray(walls, dtype=bool)
    keys = np.asarray(keys, dtype=bool)
    chests = np.asarray(chests, dtype=bool)
    planning = Objective(chest=objective.chest, key=objective.key, step=objective.step - haste)
    left = int(steps_left) if horizon is None else min(int(horizon), int(steps_left))
    r0, c0 = int(agent[0]), int(agent[1])
    q = np.zeros(4)
    for a in range(4):
        r, c = r0 + int(_DELTAS[a][0]), c0 + int(_DELTAS[a][1])
        if walls[r, c]:
            r, c = r0, c0
        k, ch, held = keys, chests, int(keys_held)
        score = objective.step - haste
        if k[r, c]:
            k = k.copy()
            k[r, c] = False
            held += 1
            score += objective.key
        if ch[r, c] and held > 0:
            ch = ch.copy()
            ch[r, c] = False
            held -= 1
            score += objective.chest
        over = not ch.any() or (held == 0 and not k.any())
        if not over and left > 1:
            score += search(planning, walls, k, ch, (r, c), left - 1, held).score
        q[a] = score
    return q


def q_values(
    candidate: Candidate | Objective,
    boards: Boards,
    steps_left,
    horizon: int | None = HORIZON,
    haste: float = HASTE,
) -> np.ndarray:
    """float [N, 4]: `action_values` in every state of `boards` under one candidate (or a bare
    `Objective`, meaning a candidate who knows its keys). `steps_left`: int [N] or one number."""
    if isinstance(candidate, Objective):
        candidate = Candidate("", candidate)
    n = len(boards)
    left = np.broadcast_to(np.asarray(steps_left, dtype=np.int64), (n,))
    held = boards.keys_held if candidate.believed_keys is None else np.full(n, int(candidate.believed_keys))
    out = np.zeros((n, 4))
    for i in range(n):
        out[i] = action_values(
            candidate.objective,
            boards.walls[i],
            boards.keys[i],
            boards.chests[i],
            boards.agent[i],
            int(held[i]),
            int(left[i]),
            horizon,
            haste,
        )
    return out


# ---------------------------------------------------------------------------------------------------
# The softmax-rational model


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


# ---------------------------------------------------------------------------------------------------
# Everything at once


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
