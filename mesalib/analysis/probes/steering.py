"""Steering vectors: does adding a direction to an agent's activations change what it does?"""

from __future__ import annotations

import numpy as np


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
    `features` (the shifted ones), so `evaluate.evaluate` and `drawing.fields.policy_field` take it as is.
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
