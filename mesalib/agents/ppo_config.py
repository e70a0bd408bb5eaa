"""What a PPO training run depends on: `PPOConfig`, and its form as plain data for checkpoints.

Every setting of `ppo.train` is a field of `PPOConfig`, documented where it is declared. A checkpoint
stores the config it was trained with as plain data (`PPOConfig.to_dict`), so a saved agent can say
which levels it learned on (`Agent.ppo_config().dist`) without unpickling any code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mesalib.agents.nets import default_threads
from mesalib.env.levels import TEST, TRAIN, LevelDistribution, Mixture

DEFAULT_THREADS = default_threads()
"""Torch CPU threads for training: `MESALIB_THREADS`, else two (see `nets.default_threads`)."""

DEFAULT_DISTRIBUTIONS = {"train": TRAIN, "test": TEST}
"""The distributions the default agent trains and is tested on (`levels.TRAIN` and `levels.TEST`):
9x9 room, 20-step limit, egocentric 13x13 view (every cell inside the walls, wherever the agent stands),
no inventory planes. See benchmarks/results/config_search.md for the levels and
benchmarks/results/speed_search.md for the training settings below."""


def matching_test(dist: LevelDistribution | Mixture) -> LevelDistribution:
    """`TEST`'s item counts with everything else (size, layout, step limit, observation) taken from `dist`."""
    base = dist.parts[0] if isinstance(dist, Mixture) else dist
    return base.replace(keys=TEST.keys, chests=TEST.chests)


@dataclass
class PPOConfig:
    """Everything a training run depends on. Change a field with `dataclasses.replace(config, ...)`."""

    dist: LevelDistribution | Mixture = TRAIN
    """Training levels (a `LevelDistribution` or a `Mixture`)."""
    test_dist: LevelDistribution | None = None
    """Levels for the periodic TEST evaluation; None means `matching_test(dist)` (TEST counts, same view)."""
    network: str = "mlp"
    """Network: "mlp" (flatten, two tanh layers) or "cnn" (small convolutional trunk)."""
    hidden: int = 128
    """Width of the hidden layers (the `features` the interpretability lessons read)."""
    num_envs: int = 128
    """Games played in parallel while collecting experience."""
    num_steps: int = 32
    """Steps per game in each rollout; one update learns from num_envs * num_steps samples."""
    epochs: int = 3
    """Passes over each rollout."""
    minibatches: int = 4
    """Minibatches per pass (each of num_envs * num_steps / minibatches samples)."""
    lr: float = 3e-3
    """Adam learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to zero over training."""
    gamma: float = 0.90
    """Discount factor (0.90: a short horizon makes the agent the most reliable key collector on TEST;
    benchmarks/results/speed_search.md)."""
    gae_lambda: float = 0.95
    """GAE lambda: 0 = one-step TD advantages, 1 = Monte-Carlo advantages."""
    clip: float = 0.2
    """PPO clipping range for the probability ratio."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus (keeps the policy exploring)."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    max_grad_norm: float = 0.5
    """Gradients are rescaled to at most this global norm."""
    total_steps: int = 400_000
    """Environment steps to train for (rounded up to whole updates)."""
    seed: int = 0
    """Seeds torch, the sampling generator and the training levels: same seed (and threads), same numbers."""
    threads: int = DEFAULT_THREADS
    """Torch CPU threads during training (`MESALIB_THREADS`, else 2). Results depend on it in the last
    bits, so runs are reproducible for the same seed *and* thread count."""
    eval_every: int = 10
    """Evaluate greedily on fixed TRAIN and TEST batches every this many updates (0 = only at the end)."""
    eval_episodes: int = 200
    """Episodes in each periodic evaluation batch (kept small: evaluation must not dominate training)."""

    def __post_init__(self) -> None:
        if self.network not in ("mlp", "cnn"):
            raise ValueError(f"PPOConfig.network must be 'mlp' or 'cnn'; got {self.network!r}.")
        for name in ("num_envs", "num_steps", "epochs", "minibatches", "hidden", "threads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"PPOConfig.{name} must be a positive integer; got {getattr(self, name)!r}.")
        if (self.num_envs * self.num_steps) % self.minibatches:
            raise ValueError(
                f"PPOConfig: num_envs * num_steps ({self.num_envs * self.num_steps}) must be "
                f"divisible by minibatches ({self.minibatches})."
            )
        if self.test_dist is None:
            try:
                matching_test(self.dist)
            except ValueError as exc:
                raise ValueError(
                    f"PPOConfig: TEST's item counts do not fit the training levels ({exc}); "
                    "pass test_dist= explicitly."
                ) from None

    @property
    def batch_size(self) -> int:
        """Samples per update: one rollout of every game."""
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        """Updates in the run: `total_steps` rounded up to whole rollouts."""
        return -(-self.total_steps // self.batch_size)

    @property
    def eval_test_dist(self) -> LevelDistribution:
        """The TEST levels of the periodic evaluation (`test_dist`, else `matching_test(dist)`)."""
        return self.test_dist if self.test_dist is not None else matching_test(self.dist)

    def replace(self, **changes) -> PPOConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain data (dicts, lists, numbers, strings): what checkpoints store."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("dist", "test_dist"):
                value = None if value is None else dist_to_dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict) -> PPOConfig:
        """Inverse of `to_dict`; keys this version does not know are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        for name in ("dist", "test_dist"):
            if kwargs.get(name) is not None:
                kwargs[name] = dist_from_dict(kwargs[name])
        return cls(**kwargs)


def dist_to_dict(dist: LevelDistribution | Mixture) -> dict:
    """A distribution (or mixture) as plain data."""
    if isinstance(dist, Mixture):
        return {
            "type": "Mixture",
            "parts": [dist_to_dict(p) for p in dist.parts],
            "weights": [float(w) for w in dist.weights],
        }
    fields = {}
    for f in dataclasses.fields(dist):
        v = getattr(dist, f.name)
        fields[f.name] = list(v) if isinstance(v, tuple) else v
    return {"type": "LevelDistribution", "fields": fields}


def dist_from_dict(data: dict) -> LevelDistribution | Mixture:
    """Inverse of `dist_to_dict`."""
    if data.get("type") == "Mixture":
        return Mixture(tuple(_level_distribution(p) for p in data["parts"]), tuple(data["weights"]))
    return _level_distribution(data)


def _level_distribution(data: dict) -> LevelDistribution:
    if data.get("type") != "LevelDistribution":
        raise ValueError(f"Not a serialised level distribution: {data!r}")
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data["fields"].items()}
    return LevelDistribution(**fields)
