"""A trained network as a policy, and its checkpoint file.

`Agent` wraps an `ActorCritic` so that it plays like the heuristics: call it on observations, get
actions. It also reads out what the interpretability lessons look at (logits, value, features).
`Agent.save` / `Agent.load` write and read a checkpoint: the weights (as float16), the network's
spec, the training config and the run's stats, all plain data and tensors, so that loading uses
`torch.load(weights_only=True)` and never unpickles code.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from mesalib.agents.nets import ActorCritic, make_network, sample_actions, use_threads
from mesalib.agents.ppo_config import PPOConfig

CHECKPOINT_FORMAT = "mesalib-ppo-agent"
"""The `format` field of every checkpoint this module writes (other torch files are refused)."""
CHECKPOINT_VERSION = 1
"""The layout version of the checkpoint dict; bump it when the layout changes."""


class Agent:
    """A trained network used as a policy: `agent(obs, boards=None) -> actions` (numpy int64 [B]).

    `greedy=True` takes the most likely action; otherwise actions are sampled with a seeded
    `torch.Generator` (`seed`). `reset(done_mask)` exists for the policy protocol (the network has no
    memory, so it does nothing). `save(path)` / `Agent.load(path)` store the weights with the config.
    """

    def __init__(
        self,
        net: ActorCritic,
        config: PPOConfig | dict | None = None,
        *,
        greedy: bool = True,
        seed: int = 0,
        name: str = "ppo",
        stats: dict | None = None,
    ):
        self.net = net.eval()
        self.config = config.to_dict() if isinstance(config, PPOConfig) else (config or {})
        self.greedy = greedy
        self.name = name
        self.stats = dict(stats or {})
        self._seed = seed
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, obs, boards=None) -> np.ndarray:
        with torch.no_grad():
            logits, _ = self.net(obs)
            if self.greedy:
                actions = logits.argmax(dim=-1)
            else:
                actions = sample_actions(logits, self.generator)
        return actions.numpy().astype(np.int64)

    def reset(self, done_mask=None) -> None:
        """`reset(None)` (the start of an evaluation) restarts the sampling generator; the network has
        no memory, so games that finished need nothing."""
        if done_mask is None:
            self.generator.manual_seed(self._seed)

    def seed(self, seed: int) -> None:
        """Restart the sampling generator with a new seed."""
        self._seed = seed
        self.generator.manual_seed(seed)

    def logits(self, obs) -> torch.Tensor:
        with torch.no_grad():
            return self.net(obs)[0]

    def value(self, obs) -> torch.Tensor:
        with torch.no_grad():
            return self.net(obs)[1]

    def features(self, obs) -> torch.Tensor:
        with torch.no_grad():
            return self.net.features(obs)

    def ppo_config(self) -> PPOConfig:
        """The training config as a `PPOConfig` (rebuilt from the stored plain data)."""
        return PPOConfig.from_dict(self.config)

    def save(self, path) -> None:
        """Write a checkpoint: weights, network spec, config and stats, all plain data and tensors.

        Weights are stored as float16, which halves the file (the shipped checkpoints live in the
        package). `train` rounds its final weights to float16 precision, so a trained agent and its
        checkpoint act identically; other networks may differ in the last bits.
        """
        data = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "network": self.net.spec(),
            "config": self.config,
            "stats": self.stats,
            "state_dict": {k: v.detach().to(torch.float16) for k, v in self.net.state_dict().items()},
        }
        # Written beside the target and renamed into place: an interrupted save leaves no half file.
        path = Path(path)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            torch.save(data, partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    @classmethod
    def load(cls, path, *, greedy: bool = True, seed: int = 0, name: str | None = None) -> Agent:
        """Read a checkpoint written by `save` (with torch.load(weights_only=True): no code is unpickled).

        Loading an agent is where inference starts, so it applies `MESALIB_THREADS` (`nets.use_threads`).
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No checkpoint at {path}.")
        use_threads()
        data = _read_checkpoint(path)
        try:
            spec = data["network"]
            net = make_network(spec["kind"], spec["obs_shape"], spec["hidden"])
            net.load_state_dict({k: v.float() for k, v in data["state_dict"].items()})
        except (KeyError, TypeError, RuntimeError, ValueError) as exc:
            raise ValueError(f"{path}: the checkpoint's network does not match its weights: {exc}") from exc
        return cls(
            net,
            data.get("config", {}),
            greedy=greedy,
            seed=seed,
            name=name or path.stem,
            stats=data.get("stats", {}),
        )


def _read_checkpoint(path: Path) -> dict:
    """The checkpoint dict in `path`, after checking that it is one this version of mesalib can read."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, corrupted, not a torch file, or holds pickled classes
        # torch's own message may advise `weights_only=False`, which would run code from the file:
        # never pass that advice on.
        raise ValueError(
            f"{path} is not a readable mesalib agent checkpoint (truncated, corrupted, or not written by "
            "`mesalib train` / `Agent.save`)."
        ) from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is a torch file but not a mesalib agent checkpoint "
            f"(expected format {CHECKPOINT_FORMAT!r})."
        )
    if data.get("version") != CHECKPOINT_VERSION:
        raise ValueError(
            f"{path}: checkpoint version {data.get('version')!r} is not supported "
            f"(this mesalib reads version {CHECKPOINT_VERSION})."
        )
    return data
