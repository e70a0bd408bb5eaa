"""Proximal Policy Optimisation for Chests and Keys, small enough to read in one sitting.

`train(PPOConfig())` trains the default agent on `TRAIN` in about 15 seconds on two CPU cores and
returns an `Agent` (a policy like the heuristics: call it on observations, get actions) and a history
of per-update metrics, including periodic greedy evaluations on fixed `TRAIN` and `TEST` batches.

Read it top to bottom, as one would CleanRL's `ppo.py`: each update of `train`

1. collects a rollout (`collect_rollout`): `num_steps` steps of `num_envs` games with the current policy;
2. computes advantages (`compute_gae`, generalised advantage estimation);
3. updates the network (`update`): `epochs` passes over the rollout in shuffled minibatches, each a
   gradient step on `ppo_loss`, built around `clipped_policy_loss` (PPO's clipped surrogate);
4. logs (`training_record`, and every `eval_every` updates `evaluate_greedy`).

The settings are `PPOConfig`'s fields (`ppo_config.py`); the trained policy and its checkpoint file are
`Agent` (`agent.py`); what a run reports (episode figures, timings, the periodic greedy evaluation) is
in `training_log.py`. The two formulas lesson 04 turns into exercises are `compute_gae` and
`clipped_policy_loss`.

Conventions: `dones[t]` is true when the transition taken at step `t` ended its episode (terminated
*or* truncated: the observation carries no clock, so a cut-off episode is treated as an ending; lesson
04 discusses this choice against Pardo et al. 2018, "Time Limits in Reinforcement Learning"). The
environment resets in the same step, so the observation after a done step already belongs to the next
episode and must not be bootstrapped from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from mesalib.agents.adam import Adam
from mesalib.agents.agent import Agent
from mesalib.agents.nets import ActorCritic, make_network, sample_actions, use_threads

# Lessons and benchmarks import `matching_test` (and `Agent`) from here, beside `PPOConfig`.
from mesalib.agents.ppo_config import PPOConfig, matching_test  # noqa: F401
from mesalib.agents.training_log import (
    EpisodeLog,
    Stopwatch,
    evaluate_greedy,
    run_stats,
    show_progress,
    training_record,
)
from mesalib.env.vecenv import VecChestsAndKeys

LOSS_METRICS = ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac")
"""What each update reports about its minibatches (means over all of them)."""


# ----------------------------------------------------------------------------------------------
# The agent to train


def new_agent(config: PPOConfig | None = None) -> Agent:
    """An untrained agent for `config`: the network `train` starts from (seeded by `config.seed`).

    The initial weights depend on torch's thread count in the last bits; `MESALIB_THREADS` applies.
    """
    use_threads()
    return _untrained_agent(config or PPOConfig())


def _untrained_agent(cfg: PPOConfig) -> Agent:
    torch.manual_seed(cfg.seed)
    return Agent(make_network(cfg.network, cfg.dist.observation_shape, cfg.hidden), cfg, name="ppo")


# ----------------------------------------------------------------------------------------------
# 1. Collect a rollout


@dataclass
class Rollout:
    """What one rollout collects, each of shape [num_steps, num_envs] (observations: [T, B, *obs])."""

    obs: torch.Tensor
    """uint8: what the policy saw at each step."""
    actions: torch.Tensor
    """int64: the actions it sampled."""
    logp: torch.Tensor
    """Log-probability of each action under the policy that took it (PPO's `old_logp`)."""
    values: torch.Tensor
    """The critic's value of each observation."""
    rewards: torch.Tensor
    dones: torch.Tensor
    """1.0 where the step ended its episode (see the module's conventions), else 0.0."""

    @classmethod
    def empty(cls, num_steps: int, num_envs: int, obs_shape: tuple[int, ...]) -> Rollout:
        size = (num_steps, num_envs)
        return cls(
            obs=torch.zeros((*size, *obs_shape), dtype=torch.uint8),
            actions=torch.zeros(size, dtype=torch.int64),
            logp=torch.zeros(size),
            values=torch.zeros(size),
            rewards=torch.zeros(size),
            dones=torch.zeros(size),
        )


def collect_rollout(
    net: ActorCritic,
    env: VecChestsAndKeys,
    obs: torch.Tensor,
    rollout: Rollout,
    gen: torch.Generator,
    episodes: EpisodeLog,
    clock: Stopwatch,
) -> torch.Tensor:
    """Play `num_steps` steps of every game, sampling actions from the policy; fill `rollout` in place.

    Returns the observation after the last step (the one `compute_gae` bootstraps from). This is its own
    loop rather than `env.rollout.play_steps`, because training keeps tensors the policy computes on the
    way (the value and the log-probability of every sampled action), not only the actions.
    """
    net.eval()
    for t in range(rollout.obs.shape[0]):
        rollout.obs[t] = obs
        with torch.no_grad(), clock.measure("inference"):
            logits, value = net(obs)
            action = sample_actions(logits, gen)
            rollout.logp[t] = F.log_softmax(logits, dim=-1).gather(1, action[:, None]).squeeze(1)
        rollout.values[t] = value
        rollout.actions[t] = action
        with clock.measure("env"):
            next_obs, reward, term, trunc, info = env.step(action.numpy())
        done = term | trunc
        rollout.rewards[t] = torch.from_numpy(reward)
        rollout.dones[t] = torch.from_numpy(done.astype(np.float32))
        episodes.add(reward, done, info)
        obs = torch.from_numpy(next_obs)
    return obs


# ----------------------------------------------------------------------------------------------
# 2. Compute advantages


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


# ----------------------------------------------------------------------------------------------
# 3. Update


@dataclass
class Batch:
    """A rollout flattened to one axis of num_steps * num_envs samples, with its advantages and returns."""

    obs: torch.Tensor
    actions: torch.Tensor
    logp: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor

    @classmethod
    def of(cls, rollout: Rollout, advantages: torch.Tensor, returns: torch.Tensor) -> Batch:
        obs_shape = rollout.obs.shape[2:]
        return cls(
            obs=rollout.obs.reshape(-1, *obs_shape),
            actions=rollout.actions.reshape(-1),
            logp=rollout.logp.reshape(-1),
            advantages=advantages.reshape(-1),
            returns=returns.reshape(-1),
        )


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


def ppo_loss(net: ActorCritic, mb: Batch, cfg: PPOConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of one minibatch (clipped policy loss - entropy bonus + value loss) and its diagnostics.

    Advantages are normalised within the minibatch (mean 0, standard deviation 1), as CleanRL does.
    """
    logits, value = net(mb.obs)
    logp_all = F.log_softmax(logits, dim=-1)
    new_logp = logp_all.gather(1, mb.actions[:, None]).squeeze(1)
    entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
    adv = (mb.advantages - mb.advantages.mean()) / (mb.advantages.std() + 1e-8)
    pg_loss = clipped_policy_loss(new_logp, mb.logp, adv, cfg.clip)
    v_loss = 0.5 * (value - mb.returns).pow(2).mean()
    loss = pg_loss - cfg.ent_coef * entropy + cfg.vf_coef * v_loss
    with torch.no_grad():
        log_ratio = new_logp - mb.logp
        approx_kl = float(((log_ratio.exp() - 1) - log_ratio).mean())
        clipfrac = float(((log_ratio.exp() - 1).abs() > cfg.clip).float().mean())
    diagnostics = {
        "policy_loss": pg_loss.item(),
        "value_loss": v_loss.item(),
        "entropy": entropy.item(),
        "approx_kl": approx_kl,
        "clipfrac": clipfrac,
    }
    return loss, diagnostics


def update(
    net: ActorCritic, optimizer: Adam, batch: Batch, cfg: PPOConfig, gen: torch.Generator
) -> dict[str, float]:
    """`cfg.epochs` passes over the batch, each in `cfg.minibatches` shuffled minibatches, one gradient
    step (clipped to `cfg.max_grad_norm`) per minibatch. Returns the diagnostics' means."""
    net.train()
    sums = dict.fromkeys(LOSS_METRICS, 0.0)
    mb_size = cfg.batch_size // cfg.minibatches
    for _ in range(cfg.epochs):
        perm = torch.randperm(cfg.batch_size, generator=gen)
        for i in range(cfg.minibatches):
            idx = perm[i * mb_size : (i + 1) * mb_size]
            mb = Batch(
                batch.obs[idx], batch.actions[idx], batch.logp[idx], batch.advantages[idx], batch.returns[idx]
            )
            loss, diagnostics = ppo_loss(net, mb, cfg)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
            optimizer.step()
            for k, v in diagnostics.items():
                sums[k] += v
    return {k: v / (cfg.epochs * cfg.minibatches) for k, v in sums.items()}


def anneal_learning_rate(optimizer: Adam, cfg: PPOConfig, update_number: int) -> None:
    """With `cfg.anneal_lr`, decay the learning rate linearly from `cfg.lr` (update 1) towards zero."""
    if cfg.anneal_lr:
        optimizer.lr = cfg.lr * (1.0 - (update_number - 1) / cfg.num_updates)


# ----------------------------------------------------------------------------------------------
# Training


def train(
    config: PPOConfig | None = None,
    progress: bool = True,
    callback: Callable[[dict], bool | None] | None = None,
    agent: Agent | None = None,
) -> tuple[Agent, list[dict]]:
    """Train an agent with PPO. Returns (agent, history).

    `agent` (default: `new_agent(config)`) is the agent to train, in place: pass one to continue
    training it (with a fresh optimiser) or to look at its network from `callback` while it learns.

    history: one dict per update with the training-episode means (`return`, `chests`, `keys`, over the
    episodes that ended in that update's rollout), losses, and the speed figures; every
    `config.eval_every` updates (and after the last) also `train_eval` and `test_eval`, greedy
    metrics on fixed batches of `config.eval_episodes` levels. `callback(record)` is called after each
    update; returning True stops training early. `agent.stats` holds the run's totals (wall time,
    env share of it, end-to-end env steps/s). Torch uses `config.threads` threads meanwhile.
    """
    cfg = config or PPOConfig()
    previous_threads = use_threads(cfg.threads)
    try:
        return _train(cfg, progress, callback, agent if agent is not None else _untrained_agent(cfg))
    finally:
        use_threads(previous_threads)


def _train(cfg: PPOConfig, progress: bool, callback, agent: Agent) -> tuple[Agent, list[dict]]:
    gen = torch.Generator().manual_seed(cfg.seed)  # action sampling and minibatch shuffles
    env = VecChestsAndKeys(cfg.dist, cfg.num_envs, seed=cfg.seed)
    net = agent.net
    if net.obs_shape != env.observation_shape:
        raise ValueError(
            f"train: the agent sees observations of shape {net.obs_shape}, but config.dist "
            f"makes {env.observation_shape}; use a distribution with the same view and planes."
        )
    agent.config = cfg.to_dict()
    optimizer = Adam(net.parameters(), lr=cfg.lr, eps=1e-5)
    rollout = Rollout.empty(cfg.num_steps, cfg.num_envs, env.observation_shape)
    episodes = EpisodeLog(cfg.num_envs)
    history: list[dict] = []
    clock = Stopwatch()
    with clock.measure("env"):
        obs = torch.from_numpy(env.observe())
    bar = tqdm(
        total=cfg.num_updates * cfg.batch_size,
        disable=not progress,
        unit="step",
        unit_scale=True,
        desc="PPO",
        mininterval=1.0,
    )
    for update_number in range(1, cfg.num_updates + 1):
        anneal_learning_rate(optimizer, cfg, update_number)
        # 1. collect a rollout
        obs = collect_rollout(net, env, obs, rollout, gen, episodes, clock)
        with clock.measure("update"):
            # 2. compute advantages, bootstrapping from the value of the observation after the last step
            with torch.no_grad():
                last_value = net(obs)[1]
            advantages, returns = compute_gae(
                rollout.rewards, rollout.values, rollout.dones, last_value, cfg.gamma, cfg.gae_lambda
            )
            # 3. update the network
            losses = update(net, optimizer, Batch.of(rollout, advantages, returns), cfg, gen)
        # 4. log
        record = training_record(
            update_number, update_number * cfg.batch_size, episodes.means(), losses, clock
        )
        if (cfg.eval_every and update_number % cfg.eval_every == 0) or update_number == cfg.num_updates:
            with clock.measure("eval"):
                record.update(evaluate_greedy(agent, cfg))
        history.append(record)
        show_progress(bar, record, cfg.batch_size)
        if callback is not None and callback(record):
            break
    bar.close()
    _round_to_float16(net)
    agent.stats = run_stats(clock, len(history) * cfg.batch_size, cfg.threads)
    return agent, history


def _round_to_float16(net: ActorCritic) -> None:
    """Round the weights to float16 precision: what a checkpoint stores (see `Agent.save`), so that
    saving and loading the trained agent changes nothing."""
    net.eval()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
