"""Fixes tested off their own test set: agents trained on each mixing fraction, played on every named
distribution (lesson 08).

The diversity fix of lesson 08 trains on `mix(TRAIN, TEST, alpha)` and is judged on `TEST`, the very
distribution it mixed in. The *generalization matrix* asks what the fix does elsewhere: for each alpha
and each training seed of the sweep (`checkpoints.sweep_names`), the chests opened (and keys taken) on
each distribution in `COLUMNS` (`TRAIN`, `TEST`, `BALANCED`, `MAZE`, `LONG` from `env.levels.NAMED`),
with the heuristics as reference rows, and the agent's choice on lesson 06's preference levels with
empty hands (does it head for the chest, which it cannot open, or for the key?).

Training the runs that are not shipped takes minutes, so `benchmarks/generalization_matrix.py` computes
the matrix once and ships it as `TABLE` (`mesalib/agents/checkpoints/generalization.json`); the lesson
reads it with `load_table` and recomputes one cell live with `measure_cell`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mesalib.agents import checkpoints
from mesalib.agents.registry import resolve, training_distribution
from mesalib.analysis.criteria import split_distributions
from mesalib.analysis.evaluate import evaluate
from mesalib.analysis.stance.preferences import preference_probabilities
from mesalib.env.levels import NAMED, LevelDistribution, Mixture, seen_as

COLUMNS = ("train", "test", "balanced", "maze", "long")
"""The evaluation distributions (names in `env.levels.NAMED`), in the matrix's column order."""
ALPHAS = (0.0, 0.1, 0.2, 0.4)
"""Mixing fractions of the matrix (a subset of the catalog's sweep; 0 is the default configuration)."""
REFERENCES = ("key_then_chest", "nearest_key", "random")
"""Heuristics measured on the same levels, for scale."""
TABLE = checkpoints.HERE / "generalization.json"
"""The shipped matrix, written by `benchmarks/generalization_matrix.py`."""
METRICS = ("chests_opened", "keys_collected", "return")
"""Per-episode means recorded for every cell."""


def evaluation_distribution(name: str, trained_on: LevelDistribution | Mixture) -> LevelDistribution:
    """The distribution called `name` (in `levels.NAMED`) as an agent trained on `trained_on` meets it:
    "train" and "test" are its own splits (`criteria.split_distributions`: its layout, step limit and
    observation with `TRAIN`'s or `TEST`'s item counts), any other name the named levels seen with the
    agent's view and inventory planes. `mesalib evaluate AGENT --on NAME` plays these levels."""
    if name not in NAMED:
        raise ValueError(f"unknown distribution {name!r}; named ones are: {', '.join(NAMED)}.")
    if name in ("train", "test"):
        return split_distributions(trained_on)[name]
    return seen_as(NAMED[name], trained_on)


def measure_cell(policy, column: str, episodes: int, seed: int = 0) -> dict[str, float]:
    """`policy` (a policy or a name for `registry.resolve`) on `episodes` levels of the named
    distribution `column` (`evaluation_distribution`): the per-episode means in `METRICS`. The levels
    depend only on `column`, `episodes` and `seed`, so every row meets the same levels."""
    probe = resolve(policy)
    dist = evaluation_distribution(column, training_distribution(probe))
    summary = evaluate(resolve(policy, dist), dist, episodes, seed=seed, with_best=False).summary()
    return {name: summary[name] for name in METRICS}


def empty_handed_preference(policy) -> dict[str, float]:
    """On lesson 06's preference levels (one key, one chest, on opposite sides), holding no key: the
    mean probability of the first move towards the chest (which it cannot open yet) and towards the key,
    over every pair of distances. An agent that learned "keys, then chests" heads for the key."""
    policy = resolve(policy)
    pref = preference_probabilities(policy, keys_held=0, dist=training_distribution(policy))
    return {
        "toward_chest": float(np.nanmean(pref.toward_chest)),
        "toward_key": float(np.nanmean(pref.toward_key)),
    }


def train_or_load(name: str, cache_dir: Path | None = None, progress: bool = False):
    """The sweep agent `name`: the shipped file if there is one, else a file in `cache_dir` from an
    earlier run, else trained now from its recipe (and saved to `cache_dir` when given)."""
    from mesalib.agents.agent import Agent  # torch: only when agents are needed
    from mesalib.agents.ppo import train

    recipe = checkpoints.recipe(name)
    if recipe.shipped:
        return checkpoints.load(name)
    cached = None if cache_dir is None else Path(cache_dir) / f"{name}.pt"
    if cached is not None and cached.exists():
        return Agent.load(cached, name=name)
    agent, _ = train(recipe.config(), progress=progress)
    agent.name = name
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        agent.save(cached)
    return agent


def generalization_matrix(
    alphas=ALPHAS,
    seeds=checkpoints.SWEEP_SEEDS,
    columns=COLUMNS,
    episodes: int = 500,
    seed: int = 0,
    cache_dir: Path | None = None,
    log=print,
) -> dict:
    """Measure every sweep run (`checkpoints.sweep_names(alpha)`, one per training seed in `seeds`, a
    subset of `checkpoints.SWEEP_SEEDS`) and the `REFERENCES` on every column: a plain dict, as `TABLE`
    stores it:

    {"alphas", "columns", "episodes", "seed", "runs": {name: {"alpha", "seed", "cells": {column:
    {metric: value}}, "preference": {...}}}, "references": {name: {column: {metric: value}}}}.
    """
    table: dict = {
        "alphas": [float(a) for a in alphas],
        "columns": list(columns),
        "episodes": int(episodes),
        "seed": int(seed),
        "runs": {},
        "references": {},
    }
    for name in REFERENCES:
        table["references"][name] = {c: measure_cell(name, c, episodes, seed) for c in columns}
        log(f"{name}: measured")
    for alpha in alphas:
        for training_seed, name in zip(checkpoints.SWEEP_SEEDS, checkpoints.sweep_names(alpha)):
            if training_seed not in seeds:
                continue
            agent = train_or_load(name, cache_dir)
            table["runs"][name] = {
                "alpha": float(alpha),
                "seed": int(training_seed),
                "cells": {c: measure_cell(agent, c, episodes, seed) for c in columns},
                "preference": empty_handed_preference(agent),
            }
            cells = table["runs"][name]["cells"]
            log(f"{name}: " + ", ".join(f"{c} {cells[c]['chests_opened']:.2f}" for c in columns))
    return table


def save_table(table: dict, path: Path = TABLE) -> None:
    Path(path).write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


def load_table(path: Path = TABLE) -> dict:
    """The shipped matrix (see `generalization_matrix` for its layout)."""
    return json.loads(Path(path).read_text())


@dataclass(frozen=True)
class Matrix:
    """One metric of the table over training seeds: `mean[i, j]`, `spread[i, j]` (the standard deviation
    over seeds, ddof 1) and `values[i, j, k]` for alpha `alphas[i]`, column `columns[j]`, seed k."""

    metric: str
    alphas: tuple[float, ...]
    columns: tuple[str, ...]
    values: np.ndarray
    mean: np.ndarray
    spread: np.ndarray


def matrix(table: dict, metric: str = "chests_opened") -> Matrix:
    """The table's runs as arrays over (alpha, column, seed), with mean and spread over seeds."""
    alphas, columns = tuple(table["alphas"]), tuple(table["columns"])
    by_alpha: dict[float, list[dict]] = {a: [] for a in alphas}
    for run in table["runs"].values():
        by_alpha[run["alpha"]].append(run)
    seeds = max(len(runs) for runs in by_alpha.values())
    values = np.full((len(alphas), len(columns), seeds), np.nan)
    for i, a in enumerate(alphas):
        for k, run in enumerate(sorted(by_alpha[a], key=lambda r: r["seed"])):
            values[i, :, k] = [run["cells"][c][metric] for c in columns]
    spread = np.nanstd(values, axis=2, ddof=1) if seeds > 1 else np.zeros(values.shape[:2])
    return Matrix(metric, alphas, columns, values, np.nanmean(values, axis=2), spread)


def preferences(table: dict) -> dict[float, np.ndarray]:
    """alpha -> float [seeds, 2]: (P towards the chest, P towards the key) with empty hands, per seed."""
    out: dict[float, list] = {}
    for run in sorted(table["runs"].values(), key=lambda r: (r["alpha"], r["seed"])):
        pref = run["preference"]
        out.setdefault(run["alpha"], []).append((pref["toward_chest"], pref["toward_key"]))
    return {a: np.array(v) for a, v in out.items()}
