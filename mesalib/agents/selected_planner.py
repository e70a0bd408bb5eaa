"""A mesa-optimizer that works: a planner whose objective was selected by a base optimizer.

Barnett's third level of concern is a system with explicit search, an explicit world model and an
explicit objective. `Planner` has the first two (it searches over plans and simulates the rules); here
its objective is not typed in by hand but *selected*, the way training selects a network: a base
optimizer tries every objective on a grid of weights, scores each by the only thing it can see, the
base reward (chests opened) on a sample of `TRAIN` levels, and keeps the best.

On `TRAIN` keys are scarce and chests plentiful, so "value chests" and "value keys more than chests"
open the same chests: many objectives tie for the best score, and which one wins is decided by the
seed (the levels sampled and the order candidates are tried in), not by the base reward. Only `TEST`,
where keys are plentiful, tells them apart (`analysis.objective_landscape` shows both landscapes).

The objectives: `Objective(chest=1, key=k, step=s)`, with k on `KEY_WEIGHTS` and s on `STEP_WEIGHTS`.
The chest weight is fixed at 1 because only the ratios matter: multiplying every weight by the same
positive number changes no plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mesalib.agents.objectives import Objective
from mesalib.agents.planner import Planner
from mesalib.env.levels import TRAIN, LevelBatch, LevelDistribution, Mixture
from mesalib.env.rollout import play_levels

KEY_WEIGHTS = tuple(float(w) for w in np.linspace(-1.0, 3.0, 9))
"""Weights per key collected the base optimizer tries (a chest is worth 1): from "a key costs as much as
a chest brings" (-1, nothing is worth doing) to "a key is worth three chests"."""
STEP_WEIGHTS = tuple(float(w) for w in np.linspace(0.0, -0.2, 3))
"""Weights per step: from "time is free" to "five steps cost a chest"."""

POOL_SIZE = 32
"""`TRAIN` levels the base optimizer's samples are drawn from (`training_pool`)."""
SAMPLE_SIZE = 16
"""Levels each selection scores its candidates on: a seeded subsample of the pool."""
POOL_SEED = 0
"""The seed of the pool's levels (fixed, so that a selection seed names one selection)."""

SELECTED_SEED0 = Objective(chest=1.0, key=1.0, step=-0.1)
"""What `select_objective(0)` picks, kept so that building the `selected_planner` costs nothing; the
tests recompute it (`select_objective(0).best`) and fail if the two differ."""


def objective_grid(keys=KEY_WEIGHTS, steps=STEP_WEIGHTS) -> list[Objective]:
    """The candidates: `Objective(chest=1, key=k, step=s)` for every s in `steps` and k in `keys`, rows
    by step weight, so candidate `i` sits at row `i // len(keys)`, column `i % len(keys)`."""
    return [Objective(chest=1.0, key=float(k), step=float(s)) for s in steps for k in keys]


def training_pool(
    size: int = POOL_SIZE, dist: LevelDistribution | Mixture = TRAIN, seed: int = POOL_SEED
) -> LevelBatch:
    """The `TRAIN` levels the base optimizer samples from: `size` levels drawn with `seed`."""
    return dist.sample(np.random.default_rng(seed), int(size))


def returns_per_level(
    objective: Objective, levels: LevelBatch, dist: LevelDistribution | Mixture = TRAIN
) -> np.ndarray:
    """float [len(levels)]: the return (sum of rewards) of `Planner(objective)` on each of `levels`,
    one episode each, all in one batch. This is all the base optimizer sees of a candidate: the base
    reward. (Where the plan runs out the planner moves at random, from one generator for the batch, so
    a level's return can depend on the levels played with it.)"""
    planner = Planner(objective, max_steps=int(dist.max_steps), seed=0)
    num_envs = min(64, len(levels))
    returns, running = np.zeros(len(levels)), np.zeros(num_envs)
    for step in play_levels(planner, levels, dist, num_envs=num_envs):
        running += step.reward
        for i in np.flatnonzero(step.done):
            if step.episode[i] >= 0:
                returns[step.episode[i]] = running[i]
            running[i] = 0.0
    return returns


def return_table(
    candidates: list[Objective], levels: LevelBatch, dist: LevelDistribution | Mixture = TRAIN
) -> np.ndarray:
    """float [len(candidates), len(levels)]: `returns_per_level` of every candidate."""
    return np.stack([returns_per_level(objective, levels, dist) for objective in candidates])


@dataclass(frozen=True, eq=False)
class Selection:
    """One run of the base optimizer: what it tried, on which levels, and what it kept."""

    seed: int
    candidates: tuple[Objective, ...]
    sample: np.ndarray
    """int [sample_size]: the levels it scored on (indices into the pool, by default `training_pool()`)."""
    order: np.ndarray
    """int [len(candidates)]: the order it tried the candidates in; among equal scores the first wins."""
    scores: np.ndarray
    """float [len(candidates)]: each candidate's mean return on the sample (in `candidates` order)."""

    @property
    def best_index(self) -> int:
        """The index (into `candidates`) of the objective kept: the best score, ties to the first tried."""
        best = int(self.order[0])
        for i in self.order[1:]:
            if self.scores[i] > self.scores[best]:
                best = int(i)
        return best

    @property
    def best(self) -> Objective:
        """The objective the base optimizer selected."""
        return self.candidates[self.best_index]

    @property
    def tied(self) -> list[Objective]:
        """Every candidate whose score equals the best: what `TRAIN` could not tell apart on this sample."""
        top = self.scores[self.best_index]
        return [c for c, s in zip(self.candidates, self.scores) if s == top]


def select_from_table(
    table: np.ndarray, candidates: list[Objective], seed: int, sample_size: int = SAMPLE_SIZE
) -> Selection:
    """The base optimizer's choice given every candidate's return on every pool level (`return_table`):
    score each candidate on the seed's sample of levels, keep the best (ties to the first tried)."""
    table = np.asarray(table, dtype=float)
    if table.shape[0] != len(candidates):
        raise ValueError(f"the table has {table.shape[0]} rows for {len(candidates)} candidates.")
    if not 1 <= sample_size <= table.shape[1]:
        raise ValueError(
            f"sample_size must be between 1 and the table's {table.shape[1]} levels; got {sample_size}."
        )
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(table.shape[1], size=sample_size, replace=False))
    order = rng.permutation(len(candidates))
    return Selection(int(seed), tuple(candidates), sample, order, table[:, sample].mean(axis=1))


def select_objective(
    seed: int = 0,
    candidates: list[Objective] | None = None,
    pool: LevelBatch | None = None,
    sample_size: int = SAMPLE_SIZE,
    dist: LevelDistribution | Mixture = TRAIN,
) -> Selection:
    """Run the base optimizer with `seed`: every candidate (default `objective_grid()`) is played on
    every level of `pool` (default `training_pool()`), scored by its mean return on the seed's
    `sample_size` of those levels, and the best is kept, ties going to the candidate tried first in the
    seed's order. Deterministic for a seed.

    The whole pool is played, not only the sample, because a planner with nothing worth doing moves at
    random from one generator shared by the games played together: a level's return can depend on its
    batch, and playing the same batch for every seed makes the seeds differ only in what they sample.
    It costs len(candidates) * len(pool) episodes (a few seconds for the default grid).
    """
    candidates = objective_grid() if candidates is None else list(candidates)
    pool = training_pool(dist=dist) if pool is None else pool
    return select_from_table(return_table(candidates, pool, dist), candidates, seed, sample_size)


def selected_planner(
    seed: int = 0, dist: LevelDistribution | Mixture | None = None, selection_seed: int = 0
) -> Planner:
    """A `Planner` following the objective the base optimizer selected with `selection_seed`.

    `seed` seeds the planner's random moves (when nothing is worth doing) and `dist` gives the step
    limit, as for the other policies. Selection seed 0 is read from `SELECTED_SEED0`; any other is
    computed (`select_objective`, a few seconds).
    """
    objective = SELECTED_SEED0 if selection_seed == 0 else select_objective(selection_seed).best
    max_steps = 20 if dist is None else int(dist.max_steps)
    name = "selected_planner" if selection_seed == 0 else f"selected_planner(seed={selection_seed})"
    return Planner(objective, max_steps=max_steps, seed=seed, name=name)
