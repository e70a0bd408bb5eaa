"""Pretrained agents shipped with the package, so that lessons can skip training.

`load("default")` returns the default agent (`PPOConfig()` trained with seed 0); `names()` lists
every shipped checkpoint and `describe(name)` says what it is. Each checkpoint is a recipe in `RECIPES`
(a name, a seed and the changes to the default `PPOConfig`), so one command rebuilds them all:

    mesalib checkpoints --regenerate    # ~15 s per recipe on an idle 2-core machine, ~7 min for all 26

This package is the registry: the recipes, the files and `catalog()`, the measurements recorded when the
checkpoints were made (the alpha sweep, the seed runs and the observation variants are recorded there
for more seeds than are shipped as files, to keep the package small). Regenerating trains and measures,
which needs the analysis layer above this one, so it lives there: `mesalib.analysis.catalog.regenerate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mesalib.env.levels import TEST, TRAIN, mix

if TYPE_CHECKING:  # both import torch, which reading the registry or the catalog does not need
    from mesalib.agents.agent import Agent
    from mesalib.agents.ppo_config import PPOConfig

HERE = Path(__file__).resolve().parent
CATALOG = HERE / "catalog.json"
ALPHAS = (0.05, 0.1, 0.2, 0.4)
"""Mixing fractions of TEST-like levels in the sweep (alpha 0 is the default agent)."""
SWEEP_SEEDS = (0, 1, 2)
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
"""Seeds of the default configuration recorded in the catalog (seed-to-seed variation, lesson 08)."""


@dataclass(frozen=True)
class Recipe:
    """How a checkpoint is made: `PPOConfig(seed=seed, **config)` with distribution changes `dist`
    applied to both TRAIN and TEST, and TRAIN mixed with a fraction `alpha` of TEST levels."""

    name: str
    description: str
    seed: int = 0
    alpha: float = 0.0
    dist: dict = field(default_factory=dict)
    shipped: bool = True
    """Whether the weights are shipped as a file (otherwise only its measurements are in the catalog)."""

    def config(self) -> PPOConfig:
        from mesalib.agents.ppo_config import PPOConfig

        train, test = TRAIN.replace(**self.dist), TEST.replace(**self.dist)
        dist = mix(train, test, self.alpha) if self.alpha else train
        return PPOConfig(dist=dist, test_dist=test, seed=self.seed)


VARIANTS: dict[str, tuple[str, dict]] = {
    "inventory": (
        "Sees the keys it holds (2 inventory planes: holds >= 1, holds >= 2)",
        {"inventory_planes": 2},
    ),
    "view7": ("Partial egocentric view: a 7x7 window around the agent", {"view": 7}),
    "allocentric": ("Sees the whole 9x9 grid in fixed coordinates (no egocentric view)", {"view": None}),
}
"""The observation variants: name -> (what the agent sees, the distribution changes that make it)."""
VARIANT_SEEDS = (0, 1, 2)
"""Seeds of each observation variant recorded in the catalog (seed 0 is shipped as a file)."""


def _recipes() -> dict[str, Recipe]:
    out = [Recipe("default", "The default agent: PPOConfig() trained on TRAIN with seed 0.")]
    out += [Recipe(v, f"{text}.", dist=dist) for v, (text, dist) in VARIANTS.items()]
    out += [
        Recipe(
            f"alpha{a:g}", f"Trained on TRAIN mixed with a fraction {a:g} of TEST levels, seed 0.", alpha=a
        )
        for a in ALPHAS
    ]
    out += [
        Recipe(f"default_seed{s}", f"The default configuration with seed {s}.", seed=s, shipped=False)
        for s in DEFAULT_SEEDS[1:]
    ]
    out += [
        Recipe(
            f"alpha{a:g}_seed{s}",
            f"Trained on TRAIN mixed with a fraction {a:g} of TEST levels, seed {s}.",
            seed=s,
            alpha=a,
            shipped=False,
        )
        for a in ALPHAS
        for s in SWEEP_SEEDS[1:]
    ]
    out += [
        Recipe(f"{v}_seed{s}", f"{text}, seed {s}.", seed=s, dist=dist, shipped=False)
        for v, (text, dist) in VARIANTS.items()
        for s in VARIANT_SEEDS[1:]
    ]
    return {r.name: r for r in out}


def sweep_names(alpha: float) -> list[str]:
    """The catalog entries of one alpha, one per seed in `SWEEP_SEEDS` (alpha 0: the default agent)."""
    stem = "default" if alpha == 0 else f"alpha{alpha:g}"
    return [stem if s == 0 else f"{stem}_seed{s}" for s in SWEEP_SEEDS]


def variant_names(variant: str) -> list[str]:
    """The catalog entries of one observation variant, one per seed in `VARIANT_SEEDS`."""
    if variant not in VARIANTS:
        raise ValueError(f"No observation variant {variant!r}; there are: {', '.join(VARIANTS)}.")
    return [variant if s == 0 else f"{variant}_seed{s}" for s in VARIANT_SEEDS]


RECIPES = _recipes()


def names(shipped_only: bool = True) -> list[str]:
    """Names of the checkpoints (shipped as files, or every recipe)."""
    return [n for n, r in RECIPES.items() if r.shipped or not shipped_only]


def path(name: str) -> Path:
    """Where the checkpoint file of `name` is (or would be) in the installed package."""
    return HERE / f"{name}.pt"


def describe(name: str) -> str:
    """What the checkpoint (or catalog entry) `name` is, in one sentence."""
    return recipe(name).description


def recipe(name: str) -> Recipe:
    """The recipe called `name`; a ValueError that lists the shipped names if there is none."""
    if name not in RECIPES:
        raise ValueError(f"No checkpoint named {name!r}; shipped ones are: {', '.join(names())}.")
    return RECIPES[name]


def load(name: str, greedy: bool = True, seed: int = 0) -> Agent:
    """The shipped agent `name` (see `names()`), or the agent in a checkpoint file if `name` is a path."""
    from mesalib.agents.agent import Agent  # imports torch: only when an agent is needed

    if name.endswith(".pt") or "/" in name or "\\" in name:
        return Agent.load(name, greedy=greedy, seed=seed)
    if not recipe(name).shipped:
        raise ValueError(
            f"{name!r} is recorded in the catalog but not shipped as a file; train it with "
            f"`mesalib checkpoints --regenerate --only {name}` (about 15 seconds on an idle 2-core machine)."
        )
    file = path(name)
    if not file.exists():
        raise FileNotFoundError(
            f"The checkpoint file {file} is missing from this installation; "
            f"rebuild it with `mesalib checkpoints --regenerate --only {name}`."
        )
    return Agent.load(file, greedy=greedy, seed=seed, name=name)


def catalog() -> dict[str, dict]:
    """The measurements recorded when the checkpoints were made: name -> stats, ratios, passed."""
    return json.loads(CATALOG.read_text()) if CATALOG.exists() else {}
