"""What a PPO run reports while it trains: kept apart from `ppo.py`, so that the algorithm reads alone.

- `EpisodeLog`: the episodes the training games finish (return, chests, keys), per update.
- `first_episode_metrics` / `evaluate_greedy`: the periodic greedy evaluation on fixed TRAIN and TEST
  levels, played by the shared rollout loop (`env.rollout.play_levels`).
- `training_record`, `run_stats`: one line of the history, and the run's totals (`Agent.stats`).
- `Stopwatch`: wall and CPU time, and the share spent in the environment and in evaluations.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from mesalib.agents.agent import Agent
from mesalib.agents.ppo_config import PPOConfig
from mesalib.env.levels import LevelDistribution, Mixture
from mesalib.env.rollout import play_levels

EVAL_SEED = 20_240
"""Seed of the fixed evaluation levels used during training (the same for every run and seed)."""

EVAL_METRICS = ("return", "chests_opened", "keys_collected", "ghost_chests_opened", "steps")
"""What the periodic evaluations report: per-episode means of these."""


class EpisodeLog:
    """Returns of the episodes being played, and the totals of those that ended since the last `means()`."""

    def __init__(self, num_envs: int):
        self.running = np.zeros(num_envs)
        self.ended: dict[str, list[float]] = {"return": [], "chests": [], "keys": []}

    def add(self, reward: np.ndarray, done: np.ndarray, info: dict[str, np.ndarray]) -> None:
        """Record one step of every game (`done`: the games whose episode ended in it)."""
        self.running += reward
        if done.any():
            self.ended["return"].extend(self.running[done].tolist())
            self.ended["chests"].extend(info["chests_opened"][done].tolist())
            self.ended["keys"].extend(info["keys_collected"][done].tolist())
            self.running[done] = 0.0

    def means(self) -> dict[str, float]:
        """Episodes ended, and their mean return, chests and keys (nan if none); then starts afresh."""
        out: dict[str, float] = {"episodes": len(self.ended["return"])}
        out.update({k: float(np.mean(v)) if v else float("nan") for k, v in self.ended.items()})
        self.ended = {k: [] for k in self.ended}
        return out


def first_episode_metrics(
    policy, dist: LevelDistribution | Mixture, episodes: int, seed: int
) -> dict[str, float]:
    """Means of `EVAL_METRICS` over one episode on each of `episodes` levels drawn with `seed`.

    The levels are those `VecChestsAndKeys(dist, episodes, seed=seed)` starts with. The policy is reset
    with `reset(None)` first, as in every evaluation: a sampling `Agent` starts from its seed.
    `analysis.evaluate` has the full version with per-episode records (a layer above this one).
    """
    levels = dist.sample(np.random.default_rng(seed), episodes)
    totals = {name: np.zeros(episodes) for name in EVAL_METRICS}
    for step in play_levels(policy, levels, dist, num_envs=episodes):
        playing = step.episode >= 0
        totals["return"][step.episode[playing]] += step.reward[playing]
        ended = step.done & playing
        for name in EVAL_METRICS[1:]:
            totals[name][step.episode[ended]] = step.info[name][ended]
    return {name: float(v.mean()) for name, v in totals.items()}


def evaluate_greedy(agent: Agent, cfg: PPOConfig) -> dict[str, dict[str, float]]:
    """`train_eval` and `test_eval`: the agent on the fixed TRAIN and TEST evaluation levels."""
    agent.net.eval()
    out = {
        "train_eval": first_episode_metrics(agent, cfg.dist, cfg.eval_episodes, EVAL_SEED),
        "test_eval": first_episode_metrics(agent, cfg.eval_test_dist, cfg.eval_episodes, EVAL_SEED + 1),
    }
    agent.net.train()
    return out


PROFILE_PARTS = ("inference", "env", "update", "eval", "other")
"""Where a training second goes: the policy choosing actions in the rollout, the environment, the PPO
update (advantages, forward, backward, optimiser), the periodic evaluation, and everything else."""


class Stopwatch:
    """Wall and CPU time since it was made, and the wall time spent inside `measure(name)` blocks."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.spent = dict.fromkeys(PROFILE_PARTS[:-1], 0.0)

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - t0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def cpu(self) -> float:
        return time.process_time() - self.cpu_start


def training_record(
    update_number: int, env_steps: int, episodes: dict[str, float], losses: dict[str, float], clock: Stopwatch
) -> dict:
    """One line of the history: the rollout's finished episodes, the update's losses and the speed."""
    elapsed = clock.elapsed()
    return {
        "update": update_number,
        "env_steps": env_steps,
        "time": elapsed,
        **episodes,
        **losses,
        "env_time_share": clock.spent["env"] / elapsed,
        "steps_per_s": env_steps / elapsed,
    }


def run_stats(clock: Stopwatch, env_steps: int, threads: int) -> dict[str, Any]:
    """The run's totals, kept in `Agent.stats` (and in its checkpoint)."""
    wall = clock.elapsed()
    return {
        "wall_time_s": wall,
        "cpu_time_s": clock.cpu(),
        "env_time_s": clock.spent["env"],
        "env_time_share": clock.spent["env"] / wall,
        "eval_time_s": clock.spent["eval"],
        "profile_s": clock.spent | {"other": wall - sum(clock.spent.values())},
        "env_steps": env_steps,
        "steps_per_s": env_steps / wall,
        "threads": threads,
    }


def show_progress(bar, record: dict, steps: int) -> None:
    """Advance the progress bar; after an evaluation, show the latest return and TEST figures."""
    bar.update(steps)
    if "test_eval" in record:
        bar.set_postfix(
            ret=f"{record['return']:.2f}",
            test_chests=f"{record['test_eval']['chests_opened']:.2f}",
            test_keys=f"{record['test_eval']['keys_collected']:.2f}",
            refresh=False,
        )
