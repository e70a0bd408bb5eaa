"""Linear probes and steering vectors: reading, and nudging, what a trained agent computes.

A trained agent's network ends in a layer of hidden activations (`Agent.features(obs)`, 256 tanh
units for the default agent) followed by two linear heads. This module asks two questions of that
layer, the ones lesson 07 asks:

- **Is a quantity linearly readable from it?** Collect activations over many states together with
  what was true in each state (`collect`), compute a label from the boards (`nearest_direction`,
  `nearest_distance`, `Activations.keys_held`), fit a linear model on some episodes and score it on
  others (`fit_probe`, `probe_accuracy`, `regression_r2`, `split_by_episode`). Always next to a
  baseline: the majority class (`majority_accuracy`), and the same probe on the raw observation.
  The probes are closed-form ridge regressions in NumPy (float64), so the same data give the same
  numbers on every machine.
- **Does adding a direction change behaviour?** A steering vector is a difference of mean
  activations between two groups of states (`steering_vector`); `SteeredAgent` adds it, times a
  scale, to the features before the policy head, and behaves like any other policy (evaluate it,
  draw its policy field).

    from mesalib.agents import checkpoints
    from mesalib.analysis import probes
    from mesalib.env.levels import TRAIN
    agent = checkpoints.load("default")
    acts = probes.collect(agent, TRAIN, num_envs=256, steps=40, seed=0)
    y = probes.nearest_direction(acts, "keys")               # -1 where no key is on the board
    train, test = probes.split_by_episode(acts.episode, 0.3, seed=0)
    keep = y >= 0
    probes.probe_accuracy(acts.features[train & keep], y[train & keep],
                          acts.features[test & keep], y[test & keep], n_classes=4)

    v = probes.steering_vector(acts.features[acts.key_visible], acts.features[~acts.key_visible])
    steered = probes.SteeredAgent(agent, v, scale=-1.0)      # a policy: steered(obs, boards) -> actions

Probes measure what is *decodable*, not what the network *uses*; steering measures what a direction
*does*, not what it *means*. Lesson 07 discusses both limits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from mesalib.agents.heuristics import UNREACHABLE, distance_map
from mesalib.env.levels import Boards, Level, LevelDistribution, Mixture
from mesalib.env.rules import MOVES, Action
from mesalib.env.vecenv import VecChestsAndKeys

__all__ = [
    "Activations",
    "LinearProbe",
    "SteeredAgent",
    "collect",
    "fit_probe",
    "fit_ridge",
    "majority_accuracy",
    "moves_toward",
    "nearest_direction",
    "nearest_distance",
    "one_hot",
    "probe_accuracy",
    "regression_r2",
    "split_by_episode",
    "steer",
    "steering_vector",
]

DIRECTION_NAMES = tuple(a.name for a in Action)
"""Names of the direction labels 0..3, in `rules.Action` order: UP, RIGHT, DOWN, LEFT."""


# ---------------------------------------------------------------------------------------------------
# Collecting activations


@dataclass(frozen=True)
class Activations:
    """What an agent computed in N states, and what was true in them (one row per state).

    The state is recorded *before* the agent acts on it; `actions` is what it then did.
    """

    features: np.ndarray
    """float32 [N, H]: the agent's last hidden layer (`agent.features(obs)`)."""
    obs: np.ndarray
    """uint8 [N, C, V, V]: the observation the agent acted on."""
    walls: np.ndarray
    """bool [N, S, S]: the board's walls."""
    keys: np.ndarray
    """bool [N, S, S]: the keys still on the board."""
    chests: np.ndarray
    """bool [N, S, S]: the chests still closed."""
    agent: np.ndarray
    """int [N, 2]: the agent's (row, col)."""
    keys_held: np.ndarray
    """int [N]: keys the agent holds (whether or not its observation shows them)."""
    actions: np.ndarray
    """int [N]: the action the agent took in the state."""
    episode: np.ndarray
    """int [N]: an id shared by all states of one episode (use it to split by episode)."""
    step: np.ndarray
    """int [N]: steps already taken in the episode (0 at the start)."""

    def __len__(self) -> int:
        return len(self.features)

    def take(self, which) -> Activations:
        """The states selected by a boolean mask or an index array."""
        return Activations(**{f.name: getattr(self, f.name)[which] for f in fields(self)})

    @property
    def key_visible(self) -> np.ndarray:
        """bool [N]: at least one key on the board (the default view shows the whole board)."""
        return self.keys.any(axis=(1, 2))

    @property
    def holds_key(self) -> np.ndarray:
        """bool [N]: the agent holds at least one key."""
        return self.keys_held > 0

    def level(self, i: int) -> Level:
        """State `i` as a `levels.Level` (for `render.draw`, `plots.policy_field`, `rules.Game`)."""
        r, c = self.agent[i]
        return Level(
            self.walls[i], self.keys[i], self.chests[i], np.zeros_like(self.chests[i]), (int(r), int(c))
        )

    def boards(self) -> Boards:
        """The states as a `levels.Boards` (for heuristic policies and drawing); no ghost chests."""
        return Boards(
            self.walls, self.keys, self.chests, np.zeros_like(self.chests), self.agent, self.keys_held
        )


def collect(
    agent, dist: LevelDistribution | Mixture, num_envs: int = 256, steps: int = 40, seed: int = 0, policy=None
) -> Activations:
    """Play `num_envs` games for `steps` steps on levels from `dist` and record every state.

    The games reset automatically, so `num_envs * steps` states come from a little more than
    `num_envs * steps / episode length` episodes. Features are `agent.features(obs)`; actions come
    from `policy(obs, boards)` if given (any policy, for example a heuristic), else from `agent`.
    `dist` must give the observations the agent was trained on (same view and inventory planes):
    `agent.ppo_config().dist` for its training levels, `ppo.matching_test(...)` for its TEST levels.
    Deterministic: the levels come from `seed`, and a greedy agent has no randomness.
    """
    if tuple(dist.observation_shape) != tuple(agent.net.obs_shape):
        raise ValueError(
            f"collect: the levels give observations of shape {tuple(dist.observation_shape)}, "
            f"but the agent was trained on {tuple(agent.net.obs_shape)}; use the agent's "
            "own distribution (agent.ppo_config().dist) with the item counts you want."
        )
    actor = agent if policy is None else policy
    if hasattr(actor, "reset"):
        actor.reset(None)
    env = VecChestsAndKeys(dist, num_envs, seed=seed)
    episode = np.arange(num_envs)
    next_episode = num_envs
    obs = env.observe()
    rows: dict[str, list] = {f.name: [] for f in fields(Activations)}
    for _ in range(steps):
        boards = env.boards()
        actions = np.asarray(actor(obs, boards), dtype=np.int64)
        rows["features"].append(agent.features(obs).numpy().astype(np.float32))
        rows["obs"].append(obs.copy())
        for name in ("walls", "keys", "chests", "agent", "keys_held"):
            rows[name].append(getattr(boards, name))
        rows["actions"].append(actions)
        rows["episode"].append(episode.copy())
        rows["step"].append(env.counters["steps"].copy())
        obs, _, terminated, truncated, _ = env.step(actions)
        done = np.flatnonzero(terminated | truncated)
        episode[done] = next_episode + np.arange(len(done))
        next_episode += len(done)
        if hasattr(actor, "reset") and len(done):
            mask = np.zeros(num_envs, bool)
            mask[done] = True
            actor.reset(mask)
    return Activations(**{name: np.concatenate(parts) for name, parts in rows.items()})


# ---------------------------------------------------------------------------------------------------
# Labels


def _as_boards(states) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.asarray(states.walls, bool),
        np.asarray(states.keys, bool),
        np.asarray(states.chests, bool),
        np.asarray(states.agent, np.int64),
    )


def _nearest(states, targets: str):
    """(distance int [N], target cell int [N, 2]) of the nearest target by walking distance; ties go to
    the first target in row-major order; distance UNREACHABLE (and cell -1) where none can be reached."""
    if targets not in ("keys", "chests"):
        raise ValueError(f"targets must be 'keys' or 'chests'; got {targets!r}.")
    walls, keys, chests, agent = _as_boards(states)
    n, size = len(agent), walls.shape[1]
    start = np.zeros_like(walls)
    start[np.arange(n), agent[:, 0], agent[:, 1]] = True
    from_agent = distance_map(walls, start).reshape(n, -1)  # steps from the agent to every cell
    goal = (keys if targets == "keys" else chests).reshape(n, -1)
    masked = np.where(goal, from_agent, UNREACHABLE)
    flat = masked.argmin(axis=1)  # argmin returns the first minimum: row-major tie-break
    distance = masked[np.arange(n), flat]
    cell = np.stack(np.divmod(flat, size), axis=1)
    cell[distance >= UNREACHABLE] = -1
    return distance.astype(np.int64), cell


def nearest_distance(states, targets: str = "chests") -> np.ndarray:
    """int [N]: steps from the agent to the nearest key or chest (`targets`), walking around walls;
    `policies.UNREACHABLE` where there is none. `states`: `Activations` or `levels.Boards`."""
    return _nearest(states, targets)[0]


def nearest_direction(states, targets: str = "keys") -> np.ndarray:
    """int [N]: in which direction the nearest key or chest (`targets`) lies, as an `Action` number.

    The nearest target is the one with the fewest steps (ties: the first in row-major order). With
    (dr, dc) = its cell minus the agent's: UP (0) or DOWN (2) when |dr| >= |dc|, by the sign of dr;
    otherwise RIGHT (1) or LEFT (3) by the sign of dc. -1 where there is no reachable target, or the
    agent stands on it. This is where the target *is*, not the first move of a shortest path.
    """
    distance, cell = _nearest(states, targets)
    agent = np.asarray(states.agent, np.int64)
    dr, dc = (cell - agent).T
    vertical = np.abs(dr) >= np.abs(dc)
    out = np.where(
        vertical,
        np.where(dr < 0, int(Action.UP), int(Action.DOWN)),
        np.where(dc > 0, int(Action.RIGHT), int(Action.LEFT)),
    )
    return np.where((distance >= UNREACHABLE) | (distance == 0), -1, out).astype(np.int64)


def moves_toward(states, actions, targets: str = "keys") -> np.ndarray:
    """bool [N]: whether each action steps onto a cell nearer (in walking steps) to the nearest key or
    chest (`targets`). A move into a wall, or on a board without such targets, is never "toward".
    `states`: `Activations` or `levels.Boards`; actions: int [N] in `rules.Action` order."""
    if targets not in ("keys", "chests"):
        raise ValueError(f"targets must be 'keys' or 'chests'; got {targets!r}.")
    walls, keys, chests, agent = _as_boards(states)
    n = len(agent)
    dist = distance_map(walls, keys if targets == "keys" else chests)
    rows = np.arange(n)
    here = dist[rows, agent[:, 0], agent[:, 1]]
    step = agent + np.array([MOVES[a] for a in Action])[np.asarray(actions, dtype=np.int64)]
    there = np.where(walls[rows, step[:, 0], step[:, 1]], here, dist[rows, step[:, 0], step[:, 1]])
    return (there < here) & (here < UNREACHABLE)


# ---------------------------------------------------------------------------------------------------
# Probes


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


# ---------------------------------------------------------------------------------------------------
# Steering


def steering_vector(group_a, group_b) -> np.ndarray:
    """float [H]: mean activation of group_a ([Na, H]) minus mean activation of group_b ([Nb, H])."""
    a, b = np.asarray(group_a, dtype=np.float64), np.asarray(group_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or not len(a) or not len(b):
        raise ValueError(
            f"steering_vector: need two non-empty groups of shape [N, H] with the same H; "
            f"got {a.shape} and {b.shape}."
        )
    return a.mean(axis=0) - b.mean(axis=0)


def steer(features, group_a, group_b, scale: float) -> np.ndarray:
    """features [N, H] + scale * steering_vector(group_a, group_b): every row moved the same way."""
    return np.asarray(features, dtype=np.float64) + scale * steering_vector(group_a, group_b)


class SteeredAgent:
    """An agent whose features are shifted by `scale * vector` before its policy and value heads.

        logits = agent.net.policy_head(agent.features(obs) + scale * vector)

    A policy like any other (`steered(obs, boards) -> actions`, greedy), with `logits`, `value` and
    `features` (the shifted ones), so `evaluate.evaluate` and `plots.policy_field` take it as is.
    With scale 0 it acts exactly as the agent.
    """

    def __init__(self, agent, vector, scale: float = 1.0, name: str | None = None):
        import torch

        self.agent = agent
        self.vector = torch.as_tensor(np.asarray(vector), dtype=torch.float32)
        if self.vector.shape != (agent.net.hidden,):
            raise ValueError(
                f"SteeredAgent: the vector must have shape ({agent.net.hidden},); "
                f"got {tuple(self.vector.shape)}."
            )
        self.scale = float(scale)
        self.name = name or f"{getattr(agent, 'name', 'agent')} steered x{self.scale:g}"
        self.config = getattr(agent, "config", {})

    def ppo_config(self):
        return self.agent.ppo_config()

    def features(self, obs):
        return self.agent.features(obs) + self.scale * self.vector

    def logits(self, obs):
        import torch

        with torch.no_grad():
            return self.agent.net.policy_head(self.features(obs))

    def value(self, obs):
        import torch

        with torch.no_grad():
            return self.agent.net.value_head(self.features(obs)).squeeze(-1)

    def __call__(self, obs, boards=None) -> np.ndarray:
        return self.logits(obs).argmax(dim=-1).numpy().astype(np.int64)

    def reset(self, done_mask=None) -> None:
        """The network has no memory: nothing to forget."""

    def __repr__(self) -> str:
        return f"<SteeredAgent {self.name!r}>"
