"""A `ppo.train` history read as curves: one metric against environment steps.

A history has one record per update: the means of the training episodes that ended in it (sampled
actions), and every few updates the greedy evaluations on fixed TRAIN and TEST levels (`train_eval`,
`test_eval`). `history_series` pulls one metric out of all three; `drawing.plots.plot_history` draws them.
"""

from __future__ import annotations

import numpy as np

ROLLOUT_KEYS = {"return": "return", "chests_opened": "chests", "keys_collected": "keys"}
"""metric -> the key of the training episodes' mean in a `ppo.train` record (`training_log.EpisodeLog`);
the greedy evaluations use the metric's own name."""


def history_series(history: list[dict], metric: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(env_steps, values) for "rollout" (the training episodes, sampled actions), "train" and "test"
    (the periodic greedy evaluations) of one metric (a key of `ROLLOUT_KEYS`) of a `ppo.train` history."""
    rollout_key = ROLLOUT_KEYS[metric]
    out = {}
    steps = np.array([r.get("env_steps", r.get("update", i)) for i, r in enumerate(history)], dtype=float)
    vals = np.array([r.get(rollout_key, np.nan) for r in history], dtype=float)
    out["rollout"] = (steps, vals)
    for split in ("train", "test"):
        rows = [(s, r[f"{split}_eval"][metric]) for s, r in zip(steps, history) if f"{split}_eval" in r]
        out[split] = (np.array([s for s, _ in rows], float), np.array([v for _, v in rows], float))
    return out
