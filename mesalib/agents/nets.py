"""Actor-critic networks for Chests and Keys: uint8 observation planes in, action logits and a value out.

Both networks share one trunk between the policy and the value head and expose that trunk's last
hidden layer as `features(obs)`, the activations the interpretability lessons probe and steer.

- `MLPActorCritic`: flatten, two tanh layers (256 wide by default), orthogonal initialisation, policy
  head with gain 0.01 so the untrained policy is uniform. Fast on a CPU: the default network.
- `CNNActorCritic`: a small convolutional trunk (3x3 convolutions, two of them strided) and one dense
  layer. Fewer weights on large views, more arithmetic per sample.

Sampling uses the Gumbel-max trick on the logits instead of `torch.distributions.Categorical`, whose
construction and checks double the cost of a step at small batch sizes (measured while building the course).
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from torch import nn

NUM_ACTIONS = 4
NETWORKS = ("mlp", "cnn")


def default_threads() -> int:
    """Torch CPU threads for the course: `MESALIB_THREADS` if set, else 2 (or fewer cores).

    Two threads make training about 1.65x faster on an idle 2-core laptop, but when several processes
    share the cores (the test suite runs two workers) each must use one, or torch's spinning threads
    slow everything down by an order of magnitude: the Makefile's test target sets MESALIB_THREADS=1.
    """
    value = os.environ.get("MESALIB_THREADS", "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"MESALIB_THREADS must be a positive integer; got {value!r}.")
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


def use_threads(threads: int | None = None) -> int:
    """Set torch's CPU thread count to `threads`, or to `MESALIB_THREADS` when that is set (otherwise
    leave torch's choice alone). Returns the count before, so that a caller can put it back.

    Called where the library starts using torch: `ppo.train` (with `PPOConfig.threads`), `ppo.new_agent`
    and `Agent.load` (so evaluations and widgets on a shared machine follow `MESALIB_THREADS`). The
    thread count changes results in the last bits (initial weights included), so it is set explicitly
    rather than as a side effect of importing this module.
    """
    previous = torch.get_num_threads()
    if threads is None and os.environ.get("MESALIB_THREADS"):
        threads = default_threads()
    if threads is not None and threads != previous:
        torch.set_num_threads(threads)
    return previous


def _init(layer: nn.Linear | nn.Conv2d, gain: float) -> nn.Module:
    """Orthogonal weights with `gain`, zero biases (the initialisation PPO implementations use)."""
    nn.init.orthogonal_(layer.weight, gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def as_tensor(obs) -> torch.Tensor:
    """uint8 observations (numpy or torch) as a float32 tensor, without copying a float tensor."""
    if isinstance(obs, np.ndarray):
        obs = torch.from_numpy(np.ascontiguousarray(obs))
    return obs.float()


class ActorCritic(nn.Module):
    """Shared interface: `forward(obs) -> (logits [B, 4], value [B])`, `features(obs) -> [B, hidden]`."""

    kind: str = ""

    def __init__(self, obs_shape, hidden: int):
        super().__init__()
        self.obs_shape = tuple(int(s) for s in obs_shape)
        if len(self.obs_shape) != 3:
            raise ValueError(f"obs_shape must be (channels, height, width); got {obs_shape!r}.")
        self.hidden = int(hidden)
        self.policy_head = _init(nn.Linear(self.hidden, NUM_ACTIONS), 0.01)
        self.value_head = _init(nn.Linear(self.hidden, 1), 1.0)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def features(self, obs) -> torch.Tensor:
        """The last hidden layer, shape [B, hidden] (what probes and steering vectors work on)."""
        return self.trunk(as_tensor(obs))

    def forward(self, obs):
        h = self.features(obs)
        return self.policy_head(h), self.value_head(h).squeeze(-1)

    def spec(self) -> dict:
        """What it takes to rebuild this network: kind, observation shape and width (plain data)."""
        return {"kind": self.kind, "obs_shape": list(self.obs_shape), "hidden": self.hidden}


class MLPActorCritic(ActorCritic):
    """Flatten -> Linear(hidden) -> tanh -> Linear(hidden) -> tanh -> policy and value heads."""

    kind = "mlp"

    def __init__(self, obs_shape, hidden: int = 256):
        super().__init__(obs_shape, hidden)
        n_in = math.prod(self.obs_shape)
        self.body = nn.Sequential(
            nn.Flatten(),
            _init(nn.Linear(n_in, self.hidden), math.sqrt(2)),
            nn.Tanh(),
            _init(nn.Linear(self.hidden, self.hidden), math.sqrt(2)),
            nn.Tanh(),
        )

    def trunk(self, x):
        return self.body(x)


class CNNActorCritic(ActorCritic):
    """Conv 3x3 (16) -> conv 3x3 stride 2 (32) -> conv 3x3 stride 2 (32), ReLU -> Linear(hidden) -> ReLU."""

    kind = "cnn"

    def __init__(self, obs_shape, hidden: int = 256):
        super().__init__(obs_shape, hidden)
        c = self.obs_shape[0]
        self.conv = nn.Sequential(
            _init(nn.Conv2d(c, 16, 3, padding=1), math.sqrt(2)),
            nn.ReLU(),
            _init(nn.Conv2d(16, 32, 3, stride=2, padding=1), math.sqrt(2)),
            nn.ReLU(),
            _init(nn.Conv2d(32, 32, 3, stride=2, padding=1), math.sqrt(2)),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n_flat = self.conv(torch.zeros(1, *self.obs_shape)).shape[1]
        self.dense = nn.Sequential(_init(nn.Linear(n_flat, self.hidden), math.sqrt(2)), nn.ReLU())

    def trunk(self, x):
        return self.dense(self.conv(x))


def make_network(kind: str, obs_shape, hidden: int = 256) -> ActorCritic:
    """Build a network by name ("mlp" or "cnn")."""
    classes = {"mlp": MLPActorCritic, "cnn": CNNActorCritic}
    if kind not in classes:
        raise ValueError(f"network must be one of {NETWORKS}; got {kind!r}.")
    return classes[kind](obs_shape, hidden)


def sample_actions(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one action per row from softmax(logits) with the Gumbel-max trick (seeded by `generator`)."""
    u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype)
    return torch.argmax(logits - torch.log(-torch.log(u.clamp_min_(1e-20))), dim=-1)
