"""Proximal Policy Optimisation for Chests and Keys, small enough to read in one sitting.

`train(PPOConfig())` trains the default agent on `TRAIN` in about a minute on two CPU cores and
returns an `Agent` (a policy like the heuristics: call it on observations, get actions) and a history
of per-update metrics, including periodic greedy evaluations on fixed `TRAIN` and `TEST` batches.

The two formulas lesson 04 turns into exercises are plain functions here:
`compute_gae` (generalised advantage estimation) and `clipped_policy_loss` (PPO's clipped surrogate).

Conventions: `dones[t]` is true when the transition taken at step `t` ended its episode (terminated
*or* truncated: the observation carries no clock, so a cut-off episode is treated as an ending, as in
benchmarks/results/config_search.md). The environment resets in the same step, so the observation after a done step
already belongs to the next episode and must not be bootstrapped from.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mesalib.agents.nets import ActorCritic, default_threads, make_network, sample_actions
from mesalib.env.levels import TEST, TRAIN, LevelDistribution, Mixture
from mesalib.env.vecenv import VecChestsAndKeys

DEFAULT_THREADS = default_threads()
"""Torch CPU threads for training: `MESALIB_THREADS`, else two (see `nets.default_threads`)."""

EVAL_SEED = 20_240
"""Seed of the fixed evaluation levels used during training (the same for every run and seed)."""

CHECKPOINT_FORMAT = "mesalib-ppo-agent"
CHECKPOINT_VERSION = 1

DEFAULT_DISTRIBUTIONS = {"train": TRAIN, "test": TEST}
"""The distributions the default agent trains and is tested on (`levels.TRAIN` and `levels.TEST`):
9x9 room, 20-step limit, egocentric 17x17 view (the whole grid around the agent), no inventory planes.
See benchmarks/results/config_search.md for the measurements behind these choices."""


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
    hidden: int = 256
    """Width of the hidden layers (the `features` the interpretability lessons read)."""
    num_envs: int = 64
    """Games played in parallel while collecting experience."""
    num_steps: int = 64
    """Steps per game in each rollout; one update learns from num_envs * num_steps samples."""
    epochs: int = 4
    """Passes over each rollout."""
    minibatches: int = 4
    """Minibatches per pass (each of num_envs * num_steps / minibatches samples)."""
    lr: float = 1e-3
    """Adam learning rate."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to zero over training."""
    gamma: float = 0.97
    """Discount factor."""
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
    total_steps: int = 1_500_000
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
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return -(-self.total_steps // self.batch_size)

    @property
    def eval_test_dist(self) -> LevelDistribution:
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
        return Mixture(tuple(dist_from_dict(p) for p in data["parts"]), tuple(data["weights"]))
    if data.get("type") == "LevelDistribution":
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in data["fields"].items()}
        return LevelDistribution(**fields)
    raise ValueError(f"Not a serialised level distribution: {data!r}")


# ----------------------------------------------------------------------------------------------
# The two formulas


def compute_gae(rewards, values, dones, last_value, gamma: float, lam: float):
    """Generalised advantage estimates and returns for a rollout.

    rewards, values, dones: shape [T] or [T, B] (dones: bool or 0/1; dones[t] means the transition at
    step t ended its episode, so step t+1 belongs to a new episode and is not bootstrapped from).
    last_value: shape [] or [B], the value of the observation after the last step.

        delta_t = r_t + gamma * V_{t+1} * (1 - done_t) - V_t
        A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1}
        returns = A + V

    Returns (advantages, returns) of the rollout's shape, as numpy arrays for numpy input, else tensors.

    >>> adv, ret = compute_gae([0., 1.], [0.5, 0.5], [0, 1], 9.0, gamma=0.9, lam=1.0)
    >>> [round(float(a), 3) for a in adv]
    [0.4, 0.5]
    """
    is_numpy = not isinstance(rewards, torch.Tensor)
    r = torch.as_tensor(np.asarray(rewards) if is_numpy else rewards, dtype=torch.float32)
    v = torch.as_tensor(np.asarray(values) if is_numpy else values, dtype=torch.float32)
    d = torch.as_tensor(np.asarray(dones) if is_numpy else dones).to(torch.float32)
    nxt = torch.as_tensor(np.asarray(last_value) if is_numpy else last_value, dtype=torch.float32)
    adv = torch.zeros_like(r)
    running = torch.zeros_like(r[0])
    for t in range(r.shape[0] - 1, -1, -1):
        keep = 1.0 - d[t]
        delta = r[t] + gamma * nxt * keep - v[t]
        running = delta + gamma * lam * keep * running
        adv[t] = running
        nxt = v[t]
    ret = adv + v
    if is_numpy:
        return adv.numpy(), ret.numpy()
    return adv, ret


def clipped_policy_loss(new_logp, old_logp, adv, clip: float) -> torch.Tensor:
    """PPO's clipped surrogate objective, negated so that it is a loss to minimise.

        ratio = exp(new_logp - old_logp)
        loss  = -mean(min(ratio * adv, clamp(ratio, 1 - clip, 1 + clip) * adv))

    Where the ratio has left [1 - clip, 1 + clip] in the direction the advantage favours, the clipped
    term is the minimum and the gradient is zero: the update cannot push the policy further.
    """
    ratio = torch.exp(new_logp - old_logp)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip) * adv
    return -torch.min(unclipped, clipped).mean()


# ----------------------------------------------------------------------------------------------
# The agent as a policy


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
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "version": CHECKPOINT_VERSION,
                "network": self.net.spec(),
                "config": self.config,
                "stats": self.stats,
                "state_dict": {k: v.detach().to(torch.float16) for k, v in self.net.state_dict().items()},
            },
            path,
        )

    @classmethod
    def load(cls, path, *, greedy: bool = True, seed: int = 0, name: str | None = None) -> Agent:
        """Read a checkpoint written by `save` (with torch.load(weights_only=True): no code is unpickled)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No checkpoint at {path}.")
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # truncated, corrupted, not a torch file, or holds pickled classes
            raise ValueError(f"{path} is not a readable mesalib agent checkpoint: {exc}") from exc
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


# ----------------------------------------------------------------------------------------------
# Evaluation used during training (small, fixed, greedy)


def first_episode_metrics(policy, dist, episodes: int, seed: int) -> dict:
    """Play the first episode of `episodes` games on levels drawn with `seed`; mean return, chests, keys.

    A small, self-contained evaluation so that training needs nothing above the env; `evaluate.py`
    has the full version with per-episode records.
    """
    env = VecChestsAndKeys(dist, episodes, seed=seed)
    obs = env.observe()
    if hasattr(policy, "reset"):
        policy.reset(np.ones(episodes, bool))
    finished = np.zeros(episodes, bool)
    totals = {
        "return": np.zeros(episodes),
        "chests_opened": np.zeros(episodes),
        "keys_collected": np.zeros(episodes),
        "ghost_chests_opened": np.zeros(episodes),
        "steps": np.zeros(episodes),
    }
    while not finished.all():
        actions = policy(obs, env.boards())
        obs, reward, term, trunc, info = env.step(np.asarray(actions, dtype=np.int64))
        live = ~finished
        totals["return"][live] += reward[live]
        done = (term | trunc) & live
        for k in ("chests_opened", "keys_collected", "ghost_chests_opened", "steps"):
            totals[k][done] = info[k][done]
        finished |= done
        if hasattr(policy, "reset"):
            policy.reset(term | trunc)
    return {k: float(v.mean()) for k, v in totals.items()}


# ----------------------------------------------------------------------------------------------
# Training


def new_agent(config: PPOConfig | None = None) -> Agent:
    """An untrained agent for `config`: the network `train` starts from (seeded by `config.seed`)."""
    cfg = config or PPOConfig()
    torch.manual_seed(cfg.seed)
    return Agent(make_network(cfg.network, cfg.dist.observation_shape, cfg.hidden), cfg, name="ppo")


def train(config: PPOConfig | None = None, progress: bool = True, callback=None, agent: Agent | None = None):
    """Train an agent with PPO. Returns (agent, history).

    `agent` (default: `new_agent(config)`) is the agent to train, in place: pass one to continue
    training it (with a fresh optimiser) or to look at its network from `callback` while it learns.

    history: one dict per update with the training-episode means (`return`, `chests`, `keys`, over the
    episodes that ended in that update's rollout), losses, and the speed figures; every
    `config.eval_every` updates (and after the last) also `train_eval` and `test_eval`, greedy
    metrics on fixed batches of `config.eval_episodes` levels. `callback(record)` is called after each
    update; returning True stops training early. `agent.stats` holds the run's totals (wall time,
    env share of it, end-to-end env steps/s).
    """
    from tqdm.auto import tqdm

    cfg = config or PPOConfig()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train(cfg, progress, callback, tqdm, agent if agent is not None else new_agent(cfg))
    finally:
        torch.set_num_threads(previous_threads)


def _train(cfg: PPOConfig, progress: bool, callback, tqdm, agent: Agent):
    gen = torch.Generator().manual_seed(cfg.seed)
    env = VecChestsAndKeys(cfg.dist, cfg.num_envs, seed=cfg.seed)
    net = agent.net
    if net.obs_shape != env.observation_shape:
        raise ValueError(
            f"train: the agent sees observations of shape {net.obs_shape}, but config.dist "
            f"makes {env.observation_shape}; use a distribution with the same view and planes."
        )
    agent.config = cfg.to_dict()
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr, eps=1e-5)
    test_dist = cfg.eval_test_dist

    T, B = cfg.num_steps, cfg.num_envs
    obs_buf = torch.zeros((T, B, *env.observation_shape), dtype=torch.uint8)
    act_buf = torch.zeros((T, B), dtype=torch.int64)
    logp_buf = torch.zeros((T, B))
    val_buf = torch.zeros((T, B))
    rew_buf = torch.zeros((T, B))
    done_buf = torch.zeros((T, B))
    ep_return = np.zeros(B)

    history = []
    env_time = eval_time = 0.0
    steps_done = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    t0 = time.perf_counter()
    obs = torch.from_numpy(env.observe())
    env_time += time.perf_counter() - t0
    bar = tqdm(
        total=cfg.num_updates * cfg.batch_size,
        disable=not progress,
        unit="step",
        unit_scale=True,
        desc="PPO",
        mininterval=1.0,
    )
    mb_size = cfg.batch_size // cfg.minibatches

    def evaluate_now() -> dict:
        net.eval()
        out = {
            "train_eval": first_episode_metrics(agent, cfg.dist, cfg.eval_episodes, EVAL_SEED),
            "test_eval": first_episode_metrics(agent, test_dist, cfg.eval_episodes, EVAL_SEED + 1),
        }
        net.train()
        return out

    for update in range(1, cfg.num_updates + 1):
        if cfg.anneal_lr:
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr * (1.0 - (update - 1) / cfg.num_updates)
        finished = {"return": [], "chests": [], "keys": []}
        net.eval()
        for t in range(T):
            obs_buf[t] = obs
            with torch.no_grad():
                logits, value = net(obs)
                action = sample_actions(logits, gen)
                logp_buf[t] = F.log_softmax(logits, dim=-1).gather(1, action[:, None]).squeeze(1)
            val_buf[t] = value
            act_buf[t] = action
            t0 = time.perf_counter()
            next_obs, reward, term, trunc, info = env.step(action.numpy())
            env_time += time.perf_counter() - t0
            done = term | trunc
            rew_buf[t] = torch.from_numpy(reward)
            done_buf[t] = torch.from_numpy(done.astype(np.float32))
            ep_return += reward
            if done.any():
                finished["return"].extend(ep_return[done].tolist())
                finished["chests"].extend(info["chests_opened"][done].tolist())
                finished["keys"].extend(info["keys_collected"][done].tolist())
                ep_return[done] = 0.0
            obs = torch.from_numpy(next_obs)
        with torch.no_grad():
            last_value = net(obs)[1]
        adv, ret = compute_gae(rew_buf, val_buf, done_buf, last_value, cfg.gamma, cfg.gae_lambda)

        net.train()
        b_obs = obs_buf.reshape(T * B, *env.observation_shape)
        b_act, b_logp = act_buf.reshape(-1), logp_buf.reshape(-1)
        b_adv, b_ret = adv.reshape(-1), ret.reshape(-1)
        stats = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "approx_kl": 0.0, "clipfrac": 0.0}
        n_mb = 0
        for _ in range(cfg.epochs):
            perm = torch.randperm(cfg.batch_size, generator=gen)
            for i in range(cfg.minibatches):
                idx = perm[i * mb_size : (i + 1) * mb_size]
                logits, value = net(b_obs[idx])
                logp_all = F.log_softmax(logits, dim=-1)
                new_logp = logp_all.gather(1, b_act[idx, None]).squeeze(1)
                entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
                mb_adv = b_adv[idx]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = clipped_policy_loss(new_logp, b_logp[idx], mb_adv, cfg.clip)
                v_loss = 0.5 * (value - b_ret[idx]).pow(2).mean()
                loss = pg_loss - cfg.ent_coef * entropy + cfg.vf_coef * v_loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
                optimizer.step()
                with torch.no_grad():
                    log_ratio = new_logp - b_logp[idx]
                    stats["approx_kl"] += float(((log_ratio.exp() - 1) - log_ratio).mean())
                    stats["clipfrac"] += float(((log_ratio.exp() - 1).abs() > cfg.clip).float().mean())
                stats["policy_loss"] += pg_loss.item()
                stats["value_loss"] += v_loss.item()
                stats["entropy"] += entropy.item()
                n_mb += 1
        steps_done += cfg.batch_size
        elapsed = time.perf_counter() - start
        record = {
            "update": update,
            "env_steps": steps_done,
            "time": elapsed,
            "episodes": len(finished["return"]),
            "return": float(np.mean(finished["return"])) if finished["return"] else float("nan"),
            "chests": float(np.mean(finished["chests"])) if finished["chests"] else float("nan"),
            "keys": float(np.mean(finished["keys"])) if finished["keys"] else float("nan"),
            **{k: v / n_mb for k, v in stats.items()},
            "env_time_share": env_time / elapsed,
            "steps_per_s": steps_done / elapsed,
        }
        if (cfg.eval_every and update % cfg.eval_every == 0) or update == cfg.num_updates:
            t0 = time.perf_counter()
            record.update(evaluate_now())
            eval_time += time.perf_counter() - t0
        history.append(record)
        bar.update(cfg.batch_size)
        if "test_eval" in record:
            bar.set_postfix(
                ret=f"{record['return']:.2f}",
                test_chests=f"{record['test_eval']['chests_opened']:.2f}",
                test_keys=f"{record['test_eval']['keys_collected']:.2f}",
                refresh=False,
            )
        if callback is not None and callback(record):
            break
    bar.close()
    net.eval()
    with torch.no_grad():  # what a checkpoint stores (see Agent.save), so saving changes nothing
        for p in net.parameters():
            p.copy_(p.half().float())
    wall = time.perf_counter() - start
    agent.stats = {
        "wall_time_s": wall,
        "cpu_time_s": time.process_time() - cpu_start,
        "env_time_s": env_time,
        "env_time_share": env_time / wall,
        "eval_time_s": eval_time,
        "env_steps": steps_done,
        "steps_per_s": steps_done / wall,
        "threads": cfg.threads,
    }
    return agent, history
