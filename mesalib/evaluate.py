"""Rollouts and metrics: how many chests a policy opens, how many keys it collects, and how that compares
with the best achievable.

`evaluate` plays a fixed number of complete episodes on the batched environment; `evaluate_levels`
plays a given batch of levels once each, so that several policies can be compared on the very same
episodes. Both return an `Evaluation`: one record per episode, and `summary()` for the means.

Metrics per episode:
- `return`: the sum of rewards (chests opened, minus any step or wall penalties of the distribution);
- `chests_opened`, `keys_collected`, `ghost_chests_opened`, `steps`, `wall_bumps`: the game's counters;
- `best_chests`: the most chests any policy could open on the episode's starting level (the exact
  planner, `policies.best_chests`), and `fraction_of_best` = chests_opened / best_chests (NaN where
  nothing could be opened; `summary` averages over the other episodes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .levels import Boards, Level, LevelBatch, LevelDistribution, Mixture
from .policies import best_chests as _best_chests
from .rules import Game
from .vecenv import VecChestsAndKeys

RECORD_KEYS = ("return", "chests_opened", "keys_collected", "ghost_chests_opened", "steps", "wall_bumps",
               "best_chests", "fraction_of_best")
_COUNTERS = ("chests_opened", "keys_collected", "ghost_chests_opened", "steps", "wall_bumps")


@dataclass
class Evaluation:
    """Per-episode records of one policy on one distribution."""

    records: dict[str, np.ndarray]
    """One array per metric in `RECORD_KEYS`, one entry per episode, in the order the episodes ended."""
    policy: str = ""
    seconds: float = 0.0
    """Wall-clock time of the rollout."""

    def __len__(self) -> int:
        return len(self.records["return"])

    def summary(self) -> dict[str, float]:
        """Per-episode means: return, chests_opened, keys_collected, ghost_chests_opened, steps,
        wall_bumps, fraction_of_best (over episodes where a chest could be opened), and episodes."""
        out = {name: float(np.mean(self.records[name])) if len(self) else float("nan")
               for name in RECORD_KEYS if name not in ("best_chests", "fraction_of_best")}
        frac = self.records["fraction_of_best"]
        out["fraction_of_best"] = (float(np.nanmean(frac)) if np.any(~np.isnan(frac)) else float("nan"))
        out["episodes"] = len(self)
        return out

    def __repr__(self) -> str:
        s = self.summary()
        body = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in s.items())
        return f"Evaluation({self.policy!r}: {body})"


_BEST_CACHE: dict[bytes, int] = {}
_BEST_CACHE_MAX = 20_000


def cached_best_chests(level: Level, dist: LevelDistribution | Mixture) -> int:
    """`policies.best_chests`, remembered by the level's contents and the step limit."""
    key = (level.walls.tobytes() + level.keys.tobytes() + level.chests.tobytes()
           + bytes(f"{level.walls.shape}{level.agent}{dist.max_steps}", "ascii"))
    best = _BEST_CACHE.get(key)
    if best is None:
        if len(_BEST_CACHE) >= _BEST_CACHE_MAX:
            _BEST_CACHE.clear()
        best = _BEST_CACHE[key] = _best_chests(level, dist)
    return best


def _reset(policy, done) -> None:
    reset = getattr(policy, "reset", None)
    if reset is not None:
        reset(done)


def _finish(records: dict[str, list], policy, seconds: float) -> Evaluation:
    arrays = {name: np.asarray(records[name], dtype=np.float64 if name in ("return", "fraction_of_best")
                               else np.int64) for name in RECORD_KEYS}
    return Evaluation(arrays, getattr(policy, "name", type(policy).__name__), seconds)


def _add(records, ret, counters, best):
    records["return"].append(float(ret))
    for name in _COUNTERS:
        records[name].append(int(counters[name]))
    records["best_chests"].append(best)
    records["fraction_of_best"].append(counters["chests_opened"] / best if best > 0 else np.nan)


def evaluate(policy, dist: LevelDistribution | Mixture, episodes: int, seed: int = 0, num_envs: int = 64,
             progress: bool = False, with_best: bool = True) -> Evaluation:
    """Play exactly `episodes` complete episodes of `policy` on `VecChestsAndKeys(dist, num_envs, seed)`.

    Which episodes count is fixed in advance: game `i` contributes its first `(episodes + i) // n`
    episodes (n = min(num_envs, episodes)). Counting whichever episodes end first would favour short
    episodes. The same arguments give the same records (`policy.reset(None)` is called first, which
    reseeds a stochastic policy). With `with_best=False` the planner's best is skipped (best_chests is
    0, fraction_of_best NaN), which saves the search on every starting level.
    """
    if episodes < 1:
        raise ValueError(f"evaluate: episodes must be at least 1; got {episodes}.")
    n = min(int(num_envs), int(episodes))
    env = VecChestsAndKeys(dist, n, seed)
    quota = (episodes + np.arange(n)) // n  # sums to `episodes`
    counted = np.zeros(n, dtype=np.int64)
    returns = np.zeros(n, dtype=np.float64)
    starts = [env.level(i) for i in range(n)] if with_best else None
    records: dict[str, list] = {name: [] for name in RECORD_KEYS}
    _reset(policy, None)
    obs = env.observe()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=episodes, desc=getattr(policy, "name", "policy"), unit="ep")
    t0 = time.perf_counter()
    while (counted < quota).any():
        actions = np.asarray(policy(obs, env.boards()))
        obs, reward, terminated, truncated, info = env.step(actions.astype(np.int64, copy=False))
        returns += reward
        done = terminated | truncated
        if not done.any():
            continue
        for i in np.flatnonzero(done):
            if counted[i] < quota[i]:
                best = cached_best_chests(starts[i], dist) if with_best else 0
                _add(records, returns[i], {name: info[name][i] for name in _COUNTERS}, best)
                counted[i] += 1
                if bar is not None:
                    bar.update(1)
            returns[i] = 0.0
            if with_best:
                starts[i] = env.level(i)
        _reset(policy, done)
    if bar is not None:
        bar.close()
    return _finish(records, policy, time.perf_counter() - t0)


def evaluate_levels(policy, levels: LevelBatch | list[Level], dist: LevelDistribution | Mixture,
                    with_best: bool = True) -> Evaluation:
    """Play each of `levels` once (all at once, as one batch), so policies can be compared on the same
    episodes. Uses `rules.Game`; records are in the order of `levels`."""
    levels = [levels[i] for i in range(len(levels))]
    games = [Game(level, dist) for level in levels]
    n = len(games)
    returns = np.zeros(n)
    active = np.ones(n, dtype=bool)
    _reset(policy, None)
    t0 = time.perf_counter()
    while active.any():
        parts = [g.boards() for g in games]
        boards = Boards(*(np.concatenate([getattr(p, name) for p in parts])
                          for name in ("walls", "keys", "chests", "ghosts", "agent", "keys_held")))
        obs = np.stack([g.observe() for g in games])
        actions = np.asarray(policy(obs, boards))
        for i in np.flatnonzero(active):
            reward, terminated, truncated = games[i].step(int(actions[i]))
            returns[i] += reward
            if terminated or truncated:
                active[i] = False
    records: dict[str, list] = {name: [] for name in RECORD_KEYS}
    for i, g in enumerate(games):
        info = g.info()
        _add(records, returns[i], info, cached_best_chests(levels[i], dist) if with_best else 0)
    return _finish(records, policy, time.perf_counter() - t0)
