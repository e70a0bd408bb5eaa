"""Rollouts and metrics: how many chests a policy opens, how many keys it collects, and how that compares
with the best achievable.

`evaluate` draws a fixed list of levels from a seed and plays each once on the batched environment,
so every policy evaluated with the same seed meets the very same levels; `evaluate_levels` plays a
list of levels you give it. Both return an `Evaluation`: one record per episode, and `summary()` for
the means.

Metrics per episode:
- `return`: the sum of rewards (chests opened, minus any step or wall penalties of the distribution);
- `chests_opened`, `keys_collected`, `ghost_chests_opened`, `steps`, `wall_bumps`: the game's counters;
- `best_chests`: the most chests any policy could open on the episode's starting level (the exact
  planner, `agents.planner.best_chests`), and `fraction_of_best` = chests_opened / best_chests (NaN where
  nothing could be opened; `summary` averages over the other episodes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mesalib.agents.planner import best_chests as _best_chests
from mesalib.env.levels import Level, LevelBatch, LevelDistribution, Mixture
from mesalib.env.rollout import play_levels

COUNTERS = ("chests_opened", "keys_collected", "ghost_chests_opened", "steps", "wall_bumps")
"""The game's running totals (`rules.INFO_KEYS`) that an episode record keeps: every one but `keys_held`,
which describes a state rather than an episode. In the order records and summaries list them."""

RECORD_KEYS = ("return", *COUNTERS, "best_chests", "fraction_of_best")
"""The metrics of every episode in `Evaluation.records` (see the module's docstring)."""

SUMMARY_KEYS = ("return", *COUNTERS[:-1])
"""The means a short report shows (the command line's `evaluate`): the return and every counter but
`wall_bumps`."""


@dataclass
class Evaluation:
    """Per-episode records of one policy on one distribution."""

    records: dict[str, np.ndarray]
    """One array per metric in `RECORD_KEYS`, one entry per episode, in the order of the levels."""
    policy: str = ""
    seconds: float = 0.0
    """Wall-clock time of the rollout."""

    def __len__(self) -> int:
        return len(self.records["return"])

    def summary(self) -> dict[str, float]:
        """Per-episode means: return, chests_opened, keys_collected, ghost_chests_opened, steps,
        wall_bumps, fraction_of_best (over episodes where a chest could be opened), and episodes."""
        out = {
            name: float(np.mean(self.records[name])) if len(self) else float("nan")
            for name in ("return", *COUNTERS)
        }
        frac = self.records["fraction_of_best"]
        out["fraction_of_best"] = float(np.nanmean(frac)) if np.any(~np.isnan(frac)) else float("nan")
        out["episodes"] = len(self)
        return out

    def __repr__(self) -> str:
        s = self.summary()
        body = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in s.items())
        return f"Evaluation({self.policy!r}: {body})"


_BEST_CACHE: dict[bytes, int] = {}
_BEST_CACHE_MAX = 20_000


def discounted_return(rewards, gamma: float) -> float:
    """sum_t gamma**t * rewards[t]: what an agent with discount `gamma` collects from a reward sequence.

    >>> discounted_return([0.0, 0.0, 1.0], 0.9)
    0.81
    """
    total = 0.0
    for reward in reversed(list(rewards)):
        total = float(reward) + gamma * total
    return round(total, 12)


def cached_best_chests(level: Level, dist: LevelDistribution | Mixture) -> int:
    """`agents.planner.best_chests`, remembered by the level's contents and the step limit."""
    key = (
        level.walls.tobytes()
        + level.keys.tobytes()
        + level.chests.tobytes()
        + bytes(f"{level.walls.shape}{level.agent}{dist.max_steps}", "ascii")
    )
    best = _BEST_CACHE.get(key)
    if best is None:
        if len(_BEST_CACHE) >= _BEST_CACHE_MAX:
            _BEST_CACHE.clear()
        best = _BEST_CACHE[key] = _best_chests(level, dist)
    return best


def _finish(records: dict[str, list], policy, seconds: float) -> Evaluation:
    arrays = {
        name: np.asarray(
            records[name], dtype=np.float64 if name in ("return", "fraction_of_best") else np.int64
        )
        for name in RECORD_KEYS
    }
    return Evaluation(arrays, getattr(policy, "name", type(policy).__name__), seconds)


def _add(records, ret, counters, best):
    records["return"].append(float(ret))
    for name in COUNTERS:
        records[name].append(int(counters[name]))
    records["best_chests"].append(best)
    records["fraction_of_best"].append(counters["chests_opened"] / best if best > 0 else np.nan)


def evaluate(
    policy,
    dist: LevelDistribution | Mixture,
    episodes: int,
    seed: int = 0,
    num_envs: int = 64,
    progress: bool = False,
    with_best: bool = True,
) -> Evaluation:
    """Play `episodes` levels drawn from `dist` with `seed`, one episode each.

    The levels depend only on `dist`, `episodes` and `seed`, never on the policy, so two policies
    evaluated with the same seed are compared on exactly the same levels. With `with_best=False` the
    planner's best is skipped (best_chests is 0, fraction_of_best NaN), which saves a search per level.
    """
    if not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"evaluate: episodes must be a positive integer; got {episodes!r}.")
    levels = dist.sample(np.random.default_rng(seed), int(episodes))
    return evaluate_levels(policy, levels, dist, num_envs=num_envs, progress=progress, with_best=with_best)


def evaluate_levels(
    policy,
    levels: LevelBatch | list[Level],
    dist: LevelDistribution | Mixture,
    num_envs: int = 64,
    progress: bool = False,
    with_best: bool = True,
) -> Evaluation:
    """Play each of `levels` once, `num_envs` at a time on the batched environment.

    Records are in the order of `levels`. `policy.reset(None)` is called first (which reseeds a
    stochastic policy) and `policy.reset(done)` after every step in which games finished.
    """
    if isinstance(levels, list):
        levels = LevelBatch.stack(levels)
    total = len(levels)
    returns = np.zeros(min(int(num_envs), max(total, 1)))
    results: dict[int, tuple] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=getattr(policy, "name", "policy"), unit="ep")
    t0 = time.perf_counter()
    for step in play_levels(policy, levels, dist, num_envs=num_envs):
        returns += step.reward
        for i in np.flatnonzero(step.done):
            if step.episode[i] >= 0:
                results[int(step.episode[i])] = (returns[i], {name: step.info[name][i] for name in COUNTERS})
                if bar is not None:
                    bar.update(1)
            returns[i] = 0.0
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    records: dict[str, list] = {name: [] for name in RECORD_KEYS}
    for k in range(total):
        ret, counters = results[k]
        _add(records, ret, counters, cached_best_chests(levels[k], dist) if with_best else 0)
    return _finish(records, policy, seconds)
