"""Mystery agents: systems of the course under neutral names, for judging levels of concern from evidence.

Lesson 09's last exercise hands the learner a few systems as `mystery_agents()["A"]`, `["B"]`, ...
without saying which is which, and asks for a verdict at each of Barnett's three levels of concern.
Levels 1 and 2 are claims about behaviour, so the learner gathers behavioural evidence with the
course's own tools (`evaluate`, `attribute`). Level 3 is a claim about mechanism (explicit search, a
world model, an explicit objective), which behaviour cannot settle; `open_box` stands for what an
auditor with access to the system's code would see. It reads what the system is built from, never how
it behaves, so the behavioural tests keep their blind spot and the box is the only route to level 3.

The set is chosen so that the verdicts differ at every level: the default network (a key collector
with no search), `Planner(KEYS_FIRST)` (search with an objective typed in, and wrong) and the
`selected_planner` (search with an objective a base optimizer chose on `TRAIN`).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from mesalib.agents.agent import Agent
from mesalib.agents.heuristics import KeyThenChest, Policy, RandomPolicy
from mesalib.agents.planner import Planner
from mesalib.agents.selected_planner import selected_planner
from mesalib.agents.value_planner import ValuePlanner
from mesalib.analysis.attribution import KEYS_THEN_CHESTS, attribute
from mesalib.analysis.evaluate import evaluate
from mesalib.env.levels import TEST, TRAIN

MYSTERY_SEED = 0
"""The seed of the shuffle that lesson 09 uses."""
EPISODES = 20
"""Levels per split that `gather` plays (seed `EVIDENCE_SEED`): few, to keep the lesson fast."""
ATTRIBUTION_EPISODES = 4
"""Levels per split that `gather`'s attribution records (the slow part: exact search per decision)."""
EVIDENCE_SEED = 1
"""The seed of `gather`'s levels: not lesson 09's seed 0, so the numbers do not match its earlier tables."""

SYSTEMS = ("default network", "planner(KEYS_FIRST)", "selected planner")
"""The systems behind the neutral names, in a fixed order (the shuffle decides which name each gets)."""

KEYS_FIRST = KEYS_THEN_CHESTS.objective
"""Lesson 03's objective "keys, then chests" (the goal `attribute` calls by that name)."""


def build(system: str):
    """The policy behind one of `SYSTEMS`, built fresh (a planner keeps no state across episodes)."""
    if system == "default network":
        from mesalib.agents import checkpoints  # torch is imported only when a network is asked for

        return checkpoints.load("default")
    if system == "planner(KEYS_FIRST)":
        return Planner(KEYS_FIRST, max_steps=TRAIN.max_steps, name="planner(KEYS_FIRST)")
    if system == "selected planner":
        return selected_planner(dist=TRAIN)
    raise ValueError(f"build: unknown system {system!r}; expected one of {list(SYSTEMS)}.")


def labels(seed: int = MYSTERY_SEED) -> dict[str, str]:
    """Neutral name -> system: "A", "B", ... assigned to `SYSTEMS` in an order shuffled by `seed`."""
    order = np.random.default_rng(int(seed)).permutation(len(SYSTEMS))
    return {chr(ord("A") + i): SYSTEMS[j] for i, j in enumerate(order)}


def mystery_agents(seed: int = MYSTERY_SEED) -> dict[str, object]:
    """Neutral name -> policy, with names shuffled by `seed`; the policies carry neutral names too, so
    that printing one does not give it away."""
    agents = {}
    for label, system in labels(seed).items():
        policy = build(system)
        policy.name = f"mystery {label}"
        agents[label] = policy
    return agents


def open_box(policy) -> dict:
    """What the system is built from, read from its code and parameters, not from its behaviour.

    Returns {"made_of": a sentence, "search": whether it searches over plans, "world_model": whether
    it simulates the game to predict what a plan leads to, "objective": the objective it scores plans
    by, as text, or None when nothing inside it is an objective}.
    """
    if isinstance(policy, Planner):
        return {
            "made_of": "a search over move sequences, simulated with the game's rules, scored by an "
            "objective",
            "search": True,
            "world_model": True,
            "objective": str(policy.objective),
        }
    if isinstance(policy, ValuePlanner):
        return {
            "made_of": "a search over move sequences, simulated with the game's rules, scored by a "
            "network's value head (a learned estimate of reward to come)",
            "search": True,
            "world_model": True,
            "objective": "the value head V of a network",
        }
    if isinstance(policy, Agent):
        return {
            "made_of": "a feed-forward network: the board in, a probability per move out, no loop",
            "search": False,
            "world_model": False,
            "objective": None,
        }
    if isinstance(policy, RandomPolicy):
        return {"made_of": "coin flips", "search": False, "world_model": False, "objective": None}
    if isinstance(policy, Policy):
        return {
            "made_of": f"a hand-written rule ({type(policy).__name__})",
            "search": False,
            "world_model": False,
            "objective": None,
        }
    raise TypeError(f"open_box: cannot open a {type(policy).__name__}.")


@cache
def gather(
    seed: int = MYSTERY_SEED,
    episodes: int = EPISODES,
    attribution_episodes: int = ATTRIBUTION_EPISODES,
    level_seed: int = EVIDENCE_SEED,
) -> dict:
    """The evidence about `mystery_agents(seed)` the course's tools give, as plain data (computed once
    per process, then cached; treat it as read-only):

    - "summaries": name -> {"train": summary, "test": summary}, `evaluate(...).summary()` on `episodes`
      levels of `TRAIN` and of `TEST` drawn with `level_seed`;
    - "reference": `key_then_chest`'s summaries on the same levels;
    - "attributions": name -> `attribute(policy, TRAIN, TEST, attribution_episodes, level_seed)`
      `.to_dict()`: goals and devices fitted on `TRAIN`, scored on held-out `TEST` decisions;
    - "boxes": name -> `open_box(policy)`.
    """
    agents = mystery_agents(seed)
    splits = {"train": TRAIN, "test": TEST}

    def summaries(policy) -> dict:
        return {
            split: evaluate(policy, dist, episodes, seed=level_seed).summary()
            for split, dist in splits.items()
        }

    return {
        "summaries": {label: summaries(policy) for label, policy in agents.items()},
        "reference": summaries(KeyThenChest()),
        "attributions": {
            label: attribute(policy, TRAIN, TEST, episodes=attribution_episodes, seed=level_seed).to_dict()
            for label, policy in agents.items()
        },
        "boxes": {label: open_box(policy) for label, policy in agents.items()},
    }
