"""Behavioural objectives: score what a policy *did* under an objective it might be pursuing.

An evaluation (`evaluate.Evaluation.records`) counts the events of every episode: chests opened, keys
collected, steps, ghost chests opened. An objective (`agents.objectives.Objective`) weighs those events. Put
together, they answer "how well did this behaviour do, *if* the goal were this objective?". Scoring the
same episodes under the environment's reward (`objectives.CHESTS`) and under a candidate behavioural
objective (for example `objectives.KEYS`) shows which of the two a policy's behaviour fits: lesson 05
uses it to rank the trained agent next to the heuristics under each.

    from mesalib.analysis.behaviour import score_episodes, mean_scores
    score_episodes(evaluation.records, KEYS)            # one score per episode
    mean_scores({"agent": ev_a, "nearest_key": ev_n}, {"keys": KEYS, "chests": CHESTS})
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mesalib.agents.objectives import Objective

EVENTS = {"chest": "chests_opened", "key": "keys_collected", "step": "steps", "ghost": "ghost_chests_opened"}
"""Objective weight name (a field of `Objective`) -> the evaluation record it multiplies (one of
`evaluate.COUNTERS`)."""


def as_objective(weights) -> Objective:
    """An `Objective` from an `Objective` or a mapping of weight names (`chest`, `key`, `step`,
    `ghost`; missing ones are 0). Unknown names are an error, so a typo cannot silently weigh nothing."""
    if isinstance(weights, Objective):
        return weights
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be an Objective or a mapping such as {{'key': 1.0}}; got {weights!r}.")
    unknown = set(weights) - set(EVENTS)
    if unknown:
        raise ValueError(f"unknown weight name(s) {sorted(unknown)}; known: {', '.join(EVENTS)}.")
    return Objective(**{name: float(value) for name, value in weights.items()})


def score_episodes(records: Mapping, weights) -> np.ndarray:
    """The score of each episode under a weighted objective: what that objective would have paid.

    records: a mapping of per-episode counts, as `Evaluation.records`: arrays (or lists) of length N
    under "chests_opened", "keys_collected", "steps" and "ghost_chests_opened"; other entries (such
    as "return") are ignored. A record whose weight is 0 or missing may be absent.
    weights: a `agents.objectives.Objective`, or a mapping with any of "chest", "key", "step", "ghost" (the
    weight per chest opened, key collected, step taken, ghost chest opened; missing ones are 0).
    Returns float [N]: chest * chests_opened + key * keys_collected + step * steps
    + ghost * ghost_chests_opened, episode by episode.

    >>> score_episodes({"chests_opened": [1, 0], "keys_collected": [2, 5], "steps": [20, 20]},
    ...                {"key": 1.0, "chest": 0.5})
    array([2.5, 5. ])
    """
    objective = as_objective(weights)
    lengths = {len(np.atleast_1d(records[name])) for name in EVENTS.values() if name in records}
    if not lengths:
        raise ValueError(f"records hold none of {', '.join(EVENTS.values())}.")
    if len(lengths) > 1:
        raise ValueError(f"records of different lengths: {sorted(lengths)}.")
    n = lengths.pop()
    counts = {}
    for weight_name, record in EVENTS.items():
        if getattr(objective, weight_name) == 0 and record not in records:
            counts[weight_name] = np.zeros(n)
            continue
        if record not in records:
            raise KeyError(f"the objective weighs {weight_name!r} but the records have no {record!r}.")
        counts[weight_name] = np.asarray(records[record], dtype=float).reshape(n)
    # `Objective.score` is annotated for one episode's counts; a weighted sum, it works on arrays alike.
    scores = objective.score(
        chests=counts["chest"],  # type: ignore[arg-type]
        keys=counts["key"],  # type: ignore[arg-type]
        steps=counts["step"],  # type: ignore[arg-type]
        ghosts=counts["ghost"],  # type: ignore[arg-type]
    )
    return np.asarray(scores, dtype=np.float64).reshape(n)


def mean_scores(evaluations: Mapping, objectives: Mapping) -> dict[str, dict[str, float]]:
    """The mean episode score of each policy under each objective.

    evaluations: policy name -> an `Evaluation` (or its `records`); objectives: objective name ->
    weights (see `score_episodes`). Returns scores[objective][policy]. Compare policies evaluated on
    the same levels (the same `evaluate` seed), or the means mix up policy and luck of the draw.
    """
    out: dict[str, dict[str, float]] = {}
    for obj_name, weights in objectives.items():
        out[obj_name] = {}
        for policy, ev in evaluations.items():
            records = getattr(ev, "records", ev)
            out[obj_name][policy] = float(np.mean(score_episodes(records, weights)))
    return out
