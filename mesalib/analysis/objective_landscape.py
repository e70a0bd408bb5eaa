"""The objective landscape: how well each objective the base optimizer could select does on `TRAIN` and
on `TEST`, and which one each selection seed actually selects (Mesa != Base made visible).

`objective_landscape` plays `Planner(Objective(chest=1, key=k, step=s))` for every (s, k) of the base
optimizer's grid (`agents.selected_planner.objective_grid`) on the base optimizer's own `TRAIN` pool and
on a sample of `TEST` levels, as fractions of `key_then_chest` on the same levels, ready for two
heatmaps (rows: step weight, columns: key weight). On `TRAIN` a wide plateau of objectives ties for the
best; on `TEST` only part of the plateau stays good. The base optimizer cannot see the difference, so
the part of the plateau it lands on depends on the selection seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mesalib.agents.heuristics import KeyThenChest
from mesalib.agents.objectives import Objective
from mesalib.agents.planner import Planner
from mesalib.agents.selected_planner import (
    KEY_WEIGHTS,
    SAMPLE_SIZE,
    STEP_WEIGHTS,
    Selection,
    objective_grid,
    return_table,
    select_from_table,
    training_pool,
)
from mesalib.analysis.evaluate import evaluate, evaluate_levels
from mesalib.env.levels import TEST, TRAIN


@dataclass(frozen=True)
class Pick:
    """What one selection seed selected, and how it does where it was selected and where it was not."""

    seed: int
    objective: Objective
    row: int
    """Its cell in the landscape: row (step weight) and column (key weight)."""
    col: int
    train: float
    """Chests opened on the whole `TRAIN` pool, as a fraction of `key_then_chest`'s; likewise `test`
    on the landscape's `TEST` levels."""
    test: float


@dataclass(frozen=True, eq=False)
class Landscape:
    """`TRAIN` and `TEST` chests over a grid of objectives, and each selection seed's pick.

    `train` and `test` are float [len(step_weights), len(key_weights)]: chests opened per episode as a
    fraction of `key_then_chest`'s on the same levels (1.0: as many chests as the intended behaviour).
    """

    key_weights: np.ndarray
    step_weights: np.ndarray
    train: np.ndarray
    test: np.ndarray
    train_reference: float
    """`key_then_chest`'s chests per episode on the `TRAIN` pool; likewise `test_reference`."""
    test_reference: float
    train_episodes: int
    test_episodes: int
    picks: tuple[Pick, ...]
    seconds: float

    def near_best_on_train(self, tolerance: float = 0.03) -> np.ndarray:
        """bool [rows, cols]: the objectives within `tolerance` (a fraction of the best) of the best
        `TRAIN` score: the plateau the base optimizer cannot see into."""
        best = self.train.max()
        return self.train >= best * (1.0 - tolerance)

    def objective(self, row: int, col: int) -> Objective:
        """The objective of cell (row, col)."""
        return Objective(chest=1.0, key=float(self.key_weights[col]), step=float(self.step_weights[row]))


def objective_landscape(
    selection_seeds=range(5),
    test_episodes: int = 16,
    seed: int = 0,
    keys=KEY_WEIGHTS,
    steps=STEP_WEIGHTS,
    sample_size: int = SAMPLE_SIZE,
) -> Landscape:
    """Score every objective of the grid (`keys` x `steps`, chest weight 1) on `TRAIN` and `TEST`, and
    run the base optimizer with each of `selection_seeds`.

    `TRAIN` is the base optimizer's own pool (`agents.selected_planner.training_pool`), so the `TRAIN`
    heatmap shows exactly what its samples are drawn from; `TEST` is `test_episodes` levels drawn with
    `seed`, the same for every objective. With the default grid this plays 27 objectives on 32 + 16
    levels: 20-35 s on a busy 2-core machine, most of it planning on `TEST` boards with many keys.
    """
    t0 = time.perf_counter()
    candidates = objective_grid(keys, steps)
    shape = (len(steps), len(keys))
    pool = training_pool()
    table = return_table(candidates, pool, TRAIN)  # TRAIN has no penalties: return = chests opened
    train_reference = float(
        evaluate_levels(KeyThenChest(), pool, TRAIN, with_best=False).summary()["chests_opened"]
    )
    test_reference = float(
        evaluate(KeyThenChest(), TEST, test_episodes, seed, with_best=False).summary()["chests_opened"]
    )
    test_chests = [
        evaluate(Planner(c, max_steps=TEST.max_steps), TEST, test_episodes, seed, with_best=False).summary()[
            "chests_opened"
        ]
        for c in candidates
    ]
    train = table.mean(axis=1).reshape(shape) / train_reference
    test = np.asarray(test_chests).reshape(shape) / test_reference
    picks = tuple(
        _pick(select_from_table(table, candidates, s, sample_size), len(keys), train, test)
        for s in selection_seeds
    )
    return Landscape(
        key_weights=np.asarray(keys, dtype=float),
        step_weights=np.asarray(steps, dtype=float),
        train=train,
        test=test,
        train_reference=train_reference,
        test_reference=test_reference,
        train_episodes=len(pool),
        test_episodes=int(test_episodes),
        picks=picks,
        seconds=time.perf_counter() - t0,
    )


def _pick(selection: Selection, n_keys: int, train: np.ndarray, test: np.ndarray) -> Pick:
    row, col = divmod(selection.best_index, n_keys)
    return Pick(selection.seed, selection.best, row, col, float(train[row, col]), float(test[row, col]))
