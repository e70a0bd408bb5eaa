"""Checks for lesson 08 (what fixes it): where the mixing-fraction sweep crosses a threshold, and how
much that crossing depends on which seeds were run (a seeded bootstrap over seeds).

References: `mesalib.analysis.sweep.crossing_alpha` and `mesalib.analysis.sweep.bootstrap_crossing`. Cases
are plain data: a list of increasing alphas, a float array of ratios [alphas, seeds] (no missing runs), a
threshold, and for the bootstrap a number of resamples and a seed.
"""

from __future__ import annotations

import numpy as np

from mesalib.analysis.sweep import bootstrap_crossing as _reference_bootstrap_crossing
from mesalib.analysis.sweep import crossing_alpha as _reference_crossing_alpha
from mesalib.teaching.checks import Case, Exercise, close_number, same_array

COURSE_ALPHAS = [0.0, 0.05, 0.1, 0.2, 0.4]
_GRID = np.round(np.arange(0, 1.0001, 0.05), 2)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8)


def _sweep(rng: np.random.Generator, a: int, s: int, threshold: float) -> tuple[list[float], np.ndarray]:
    """A noisy, mostly rising sweep of `a` alphas and `s` seeds whose mean never ties with `threshold`."""
    alphas = [float(x) for x in np.sort(rng.choice(_GRID, a, replace=False))]
    while True:
        lo, hi = rng.uniform(0.1, threshold - 0.1), rng.uniform(threshold + 0.05, 1.1)
        mid = float(rng.choice(alphas)) + rng.uniform(-0.05, 0.05)
        width = rng.uniform(0.03, 0.2)
        curve = lo + (hi - lo) / (1 + np.exp(-(np.asarray(alphas) - mid) / width))
        seed_offset = rng.normal(0, rng.choice([0.08, 0.15, 0.25]), s)
        noise = rng.normal(0, 0.05, (a, s))
        ratios = np.round(np.clip(curve[:, None] + seed_offset[None, :] + noise, 0.0, 1.2), 3)
        if np.abs(ratios.mean(axis=1) - threshold).min() > 1e-6:
            return alphas, ratios


# --------------------------------------------------------------------------------------------------
# Exercise 8.1: crossing_alpha


def _compare_alpha(expected, actual) -> str | None:
    """A number equal to `expected`, NaN exactly where `expected` is NaN (`close_number` alone lets any
    number pass for an expected NaN)."""
    problem = close_number(expected, actual)
    if problem is None and np.isnan(float(expected)) and not np.isnan(float(actual)):
        problem = f"{float(actual)!r} instead of nan (the mean never stays at or above the threshold)"
    return problem


def _crossing_fixed() -> list[Case]:
    r = np.array
    return [
        Case(
            {
                "alphas": [0.0, 0.1, 0.2, 0.4],
                "ratios": r([[0.3, 0.4], [0.7, 0.9], [0.6, 0.7], [0.9, 0.8]]),
                "threshold": 0.75,
            },
            "the docstring's example: the mean reaches 0.8 at 0.1 but drops to 0.65 at 0.2, "
            "so it crosses for good at 0.4",
        ),
        Case(
            {
                "alphas": COURSE_ALPHAS,
                "ratios": r(
                    [
                        [0.33, 0.36, 0.41],
                        [0.45, 0.52, 0.40],
                        [0.61, 0.72, 0.55],
                        [0.83, 0.79, 0.90],
                        [0.95, 0.92, 0.97],
                    ]
                ),
                "threshold": 0.5,
            },
            "a clean rising sweep, 3 seeds: the mean passes 0.5 at alpha 0.1",
        ),
        Case(
            {
                "alphas": COURSE_ALPHAS,
                "ratios": r(
                    [
                        [0.33, 0.36, 0.41],
                        [0.45, 0.52, 0.40],
                        [0.61, 0.72, 0.55],
                        [0.83, 0.79, 0.90],
                        [0.95, 0.92, 0.97],
                    ]
                ),
                "threshold": 0.8,
            },
            "the same sweep with threshold 0.8: crosses at 0.2",
        ),
        Case(
            {
                "alphas": [0.0, 0.1, 0.2],
                "ratios": r([[0.2, 0.3, 0.95], [0.3, 0.4, 0.5], [0.85, 0.9, 0.8]]),
                "threshold": 0.7,
            },
            "one lucky seed: the best seed passes at every alpha, but the mean only at 0.2",
        ),
        Case(
            {
                "alphas": [0.0, 0.1, 0.2],
                "ratios": r([[0.3, 0.3, 0.3], [0.85, 0.9, 0.2], [0.9, 0.95, 0.85]]),
                "threshold": 0.7,
            },
            "one failed seed pulls the mean at 0.1 down to 0.65 (the median, 0.85, would hide it)",
        ),
        Case(
            {
                "alphas": [0.0, 0.05, 0.1],
                "ratios": r([[0.25, 0.75], [0.4, 0.7], [0.5, 0.6]]),
                "threshold": 0.5,
            },
            "means exactly at the threshold count as reaching it (>=)",
        ),
        Case(
            {
                "alphas": [0.0, 0.1, 0.4],
                "ratios": r([[0.9, 0.85], [0.95, 0.8], [0.9, 0.99]]),
                "threshold": 0.8,
            },
            "already above the threshold without any mixing: the crossing is alpha 0",
        ),
        Case(
            {
                "alphas": [0.0, 0.1, 0.2, 0.4],
                "ratios": r([[0.3, 0.35], [0.5, 0.45], [0.55, 0.6], [0.7, 0.75]]),
                "threshold": 0.8,
            },
            "never reaches the threshold: NaN",
        ),
        Case(
            {
                "alphas": [0.0, 0.1, 0.2, 0.4],
                "ratios": r([[0.3, 0.35], [0.5, 0.45], [0.55, 0.6], [0.8, 0.85]]),
                "threshold": 0.8,
            },
            "reaches it only at the largest alpha",
        ),
        Case(
            {"alphas": [0.0, 0.1, 0.2, 0.4], "ratios": r([[0.3], [0.9], [0.4], [0.2]]), "threshold": 0.5},
            "one seed, above the threshold only in the middle: it falls below again, so NaN",
        ),
        Case({"alphas": [0.2], "ratios": r([[0.6, 0.7, 0.65]]), "threshold": 0.6}, "a single alpha"),
    ]


def _crossing_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        threshold = float(rng.choice(THRESHOLDS))
        alphas, ratios = _sweep(rng, int(rng.integers(2, 8)), int(rng.integers(1, 7)), threshold)
        cases.append(Case({"alphas": alphas, "ratios": ratios, "threshold": threshold}, f"random #{i + 1}"))
    return cases


crossing_alpha = Exercise(
    lesson="08",
    name="crossing_alpha",
    points=2,
    reference=_reference_crossing_alpha,
    fixed_cases=_crossing_fixed,
    random_cases=_crossing_random,
    compare=_compare_alpha,
    nudge=(
        "Average over the seeds first. Then look for the smallest alpha from which every larger alpha "
        "also meets the threshold."
    ),
    hint="Average each row of `ratios` over the seeds (axis 1), then walk from the LARGEST alpha down: "
    "while the mean is >= threshold, that alpha is the crossing so far; stop at the first mean below "
    "it. Return alphas[k] (the alpha, not its index) as a float, or float('nan') if the mean at the "
    "largest alpha is already below the threshold.",
)


# --------------------------------------------------------------------------------------------------
# Exercise 8.2: bootstrap_crossing


def _bootstrap_fixed() -> list[Case]:
    r = np.array
    course = r(
        [[0.33, 0.36, 0.41], [0.42, 0.58, 0.40], [0.51, 0.72, 0.45], [0.83, 0.69, 0.90], [0.95, 0.92, 0.97]]
    )
    return [
        Case(
            {
                "alphas": [0.0, 0.1, 0.2],
                "ratios": r([[0.2, 0.3], [0.4, 0.9], [0.9, 0.9]]),
                "threshold": 0.6,
                "resamples": 20,
                "seed": 0,
            },
            "the docstring's example: seed 1 alone crosses at 0.1, seed 0 alone at 0.2",
        ),
        Case(
            {"alphas": COURSE_ALPHAS, "ratios": course, "threshold": 0.5, "resamples": 30, "seed": 0},
            "a course-sized sweep (5 alphas, 3 seeds), threshold 0.5",
        ),
        Case(
            {"alphas": COURSE_ALPHAS, "ratios": course, "threshold": 0.5, "resamples": 30, "seed": 1},
            "the same with seed 1: other resamples (the answer depends on `seed`, and only on it)",
        ),
        Case(
            {"alphas": COURSE_ALPHAS, "ratios": course, "threshold": 0.8, "resamples": 30, "seed": 0},
            "threshold 0.8: some resamples cross at 0.2, some only at 0.4",
        ),
        Case(
            {
                "alphas": [0.0, 0.1, 0.4],
                "ratios": r([[0.3, 0.3, 0.3], [0.7, 0.7, 0.7], [0.9, 0.9, 0.9]]),
                "threshold": 0.6,
                "resamples": 10,
                "seed": 0,
            },
            "all seeds agree: every resample crosses where the plain crossing does",
        ),
        Case(
            {
                "alphas": [0.0, 0.1, 0.2, 0.4],
                "ratios": r([[0.3], [0.5], [0.7], [0.9]]),
                "threshold": 0.6,
                "resamples": 10,
                "seed": 3,
            },
            "a single seed: nothing to resample, every resample is the sweep itself",
        ),
        Case(
            {
                "alphas": [0.0, 0.2, 0.4],
                "ratios": r(
                    [[0.2, 0.3, 0.4, 0.3, 0.35], [0.5, 0.9, 0.4, 0.6, 0.3], [0.9, 0.5, 0.45, 0.85, 0.6]]
                ),
                "threshold": 0.65,
                "resamples": 40,
                "seed": 7,
            },
            "five noisy seeds: some resamples never cross (NaN)",
        ),
    ]


def _bootstrap_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        threshold = float(rng.choice(THRESHOLDS))
        alphas, ratios = _sweep(rng, int(rng.integers(2, 7)), int(rng.integers(2, 7)), threshold)
        cases.append(
            Case(
                {
                    "alphas": alphas,
                    "ratios": ratios,
                    "threshold": threshold,
                    "resamples": int(rng.choice([10, 25, 40])),
                    "seed": int(rng.integers(0, 1000)),
                },
                f"random #{i + 1}",
            )
        )
    return cases


bootstrap_crossing = Exercise(
    lesson="08",
    name="bootstrap_crossing",
    points=2,
    reference=_reference_bootstrap_crossing,
    fixed_cases=_bootstrap_fixed,
    random_cases=_bootstrap_random,
    compare=same_array,
    nudge=(
        "Resample seeds, not single numbers: each resample draws seed columns with replacement and keeps "
        "each column whole across the alphas."
    ),
    hint="Make ONE generator, rng = np.random.default_rng(seed), before the loop, and draw "
    "picks = rng.integers(0, S, size=(resamples, S)) where S = ratios.shape[1] (the seeds, axis 1). "
    "Resample b is ratios[:, picks[b]]: the same seed columns for every alpha, drawn with replacement. "
    "Its answer is crossing_alpha(alphas, ratios[:, picks[b]], threshold). Return a float array of "
    "length `resamples` (NaN where a resample never crosses).",
)
