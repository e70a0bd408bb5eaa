"""Playing a policy on the batched environment: the one rollout loop the library's analyses share.

A policy is any callable `policy(obs, boards) -> actions` with an optional `reset(done)` (see
`agents.heuristics`). Two ways to play:

- `play_levels(policy, levels, dist)`: each of a given list of levels once, `num_envs` at a time.
  Evaluations use it so that every policy meets exactly the same levels.
- `play_steps(policy, env, steps)`: a fixed number of steps of every game, finished games starting
  new levels by themselves (the environment's autoreset).

Both are generators of `Step`s, so each caller keeps only what it needs (episode totals, every
decision, activations, value estimates) and the loop itself is written once. The policy is reset with
`reset(None)` before the first step and with `reset(done)` after every step in which games finished.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mesalib.env.levels import Boards, Level, LevelBatch, LevelDistribution, Mixture
from mesalib.env.vecenv import VecChestsAndKeys


@dataclass
class Step:
    """One step of every game: what the policy saw and chose, and what happened."""

    obs: np.ndarray
    """uint8 [B, *observation_shape]: what the policy saw."""
    boards: Boards | None
    """The boards the policy saw (None when the rollout was asked not to build them)."""
    actions: np.ndarray
    """int64 [B]: the moves chosen."""
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    info: dict[str, np.ndarray]
    """The running totals of each game's episode, as `VecChestsAndKeys.step` returns them."""
    episode: np.ndarray
    """int [B]: the episode each game was playing. In `play_levels` the index of its level in the list,
    or -1 for a game that has finished its share and plays on unrecorded; in `play_steps` a running
    count, starting from 0..B-1 for the first episodes."""

    @property
    def done(self) -> np.ndarray:
        """bool [B]: the games whose episode ended in this step."""
        return self.terminated | self.truncated


def reset_policy(policy, done: np.ndarray | None = None) -> None:
    """`policy.reset(done)` for policies that have memory; memoryless callables need no reset."""
    reset = getattr(policy, "reset", None)
    if reset is not None:
        reset(done)


def play_levels(
    policy,
    levels: LevelBatch | list[Level],
    dist: LevelDistribution | Mixture,
    num_envs: int = 64,
    boards: bool = True,
) -> Iterator[Step]:
    """Play each of `levels` once, `num_envs` games at a time, yielding every step until all are done.

    A game that finishes its level takes the next one not yet started; once none is left, it keeps
    playing the environment's own fresh levels with `Step.episode == -1` (ignore those rows).
    """
    if isinstance(levels, list):
        levels = LevelBatch.stack(levels)
    total = len(levels)
    if total < 1:
        raise ValueError("play_levels: no levels to play.")
    n = min(int(num_envs), total)
    env = VecChestsAndKeys(dist, n, seed=0)  # its own level draws are only played by idle games
    playing = np.arange(n)  # game i plays levels[playing[i]]; `total` means it has finished its share
    env.load(np.arange(n), levels.take(playing))
    next_level, finished = n, 0
    reset_policy(policy, None)
    obs = env.observe()
    while finished < total:
        seen = env.boards() if boards else None
        actions = np.asarray(policy(obs, seen)).astype(np.int64, copy=False)
        next_obs, reward, terminated, truncated, info = env.step(actions)
        episode = np.where(playing < total, playing, -1)
        yield Step(obs, seen, actions, reward, terminated, truncated, info, episode)
        obs = next_obs
        done = np.flatnonzero(terminated | truncated)
        if not len(done):
            continue
        finished += int(np.count_nonzero(playing[done] < total))
        for i in done:
            playing[i], next_level = (
                (next_level, next_level + 1) if next_level < total else (total, next_level)
            )
        fresh = done[playing[done] < total]
        if len(fresh):
            env.load(fresh, levels.take(playing[fresh]))
            obs = env.observe()
        mask = np.zeros(n, dtype=bool)
        mask[done] = True
        reset_policy(policy, mask)


def play_steps(policy, env: VecChestsAndKeys, steps: int, boards: bool = True) -> Iterator[Step]:
    """Play `steps` steps of every game of `env` from where it stands, new levels starting by themselves."""
    reset_policy(policy, None)
    episode = np.arange(env.num_envs)
    next_episode = env.num_envs
    obs = env.observe()
    for _ in range(int(steps)):
        seen = env.boards() if boards else None
        actions = np.asarray(policy(obs, seen)).astype(np.int64, copy=False)
        next_obs, reward, terminated, truncated, info = env.step(actions)
        yield Step(obs, seen, actions, reward, terminated, truncated, info, episode.copy())
        obs = next_obs
        done = terminated | truncated
        if done.any():
            episode[done] = next_episode + np.arange(int(done.sum()))
            next_episode += int(done.sum())
            reset_policy(policy, done)
