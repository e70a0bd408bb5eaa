"""Lesson 08's checks accept the answer written in other words and reject plausible wrong answers."""

from __future__ import annotations

import math

import numpy as np

from mesalib.teaching import checks

CROSSING = checks.lesson08.crossing_alpha
BOOTSTRAP = checks.lesson08.bootstrap_crossing


# --------------------------------------------------------------------------------------------------
# Exercise 8.1: crossing_alpha


def crossing_own_words(alphas, ratios, threshold):
    means = [sum(row) / len(row) for row in np.asarray(ratios, float).tolist()]
    answer = math.nan
    for alpha, mean in reversed(list(zip(alphas, means))):
        if mean < threshold:
            break
        answer = float(alpha)
    return answer


def test_crossing_in_own_words_passes():
    assert CROSSING.run(crossing_own_words).ok
    assert CROSSING.run(crossing_own_words, seed=99).ok


def _first_index(flags):
    hits = np.flatnonzero(flags)
    return int(hits[0]) if len(hits) else None


def _from_which_on(alphas, means, threshold, offset=0):
    k = None
    for i in range(len(means) - 1, -1, -1):
        if means[i] < threshold:
            break
        k = i
    if k is None:
        return math.nan
    return float(alphas[min(max(k + offset, 0), len(alphas) - 1)])


def test_crossing_mutants_are_rejected():
    def rows(reduce):
        return lambda alphas, ratios, threshold: _from_which_on(
            alphas, reduce(np.asarray(ratios), axis=1), threshold
        )

    def first_above(alphas, ratios, threshold):
        k = _first_index(np.asarray(ratios).mean(axis=1) >= threshold)
        return math.nan if k is None else float(alphas[k])

    def first_below(alphas, ratios, threshold):
        k = _first_index(np.asarray(ratios).mean(axis=1) < threshold)
        return math.nan if k is None else float(alphas[k])

    def strict(alphas, ratios, threshold):
        return _from_which_on(alphas, np.asarray(ratios).mean(axis=1), np.nextafter(threshold, 2.0))

    def off_by_one(offset):
        return lambda alphas, ratios, threshold: _from_which_on(
            alphas, np.asarray(ratios).mean(axis=1), threshold, offset
        )

    def index_not_alpha(alphas, ratios, threshold):
        a = _from_which_on(alphas, np.asarray(ratios).mean(axis=1), threshold)
        return math.nan if math.isnan(a) else float(list(alphas).index(a))

    def mean_over_alphas(alphas, ratios, threshold):  # averages the wrong axis, then reads it per seed
        means = np.asarray(ratios).mean(axis=0)
        return _from_which_on(alphas, np.resize(means, len(alphas)), threshold)

    def zero_when_never(alphas, ratios, threshold):
        a = _from_which_on(alphas, np.asarray(ratios).mean(axis=1), threshold)
        return 0.0 if math.isnan(a) else a

    mutants = {
        "max over seeds instead of the mean": rows(np.max),
        "median over seeds instead of the mean": rows(np.median),
        "min over seeds instead of the mean": rows(np.min),
        "first alpha at or above the threshold (ignores a later dip)": first_above,
        "first alpha below the threshold": first_below,
        "strictly above the threshold": strict,
        "off by one: the next alpha": off_by_one(+1),
        "off by one: the previous alpha": off_by_one(-1),
        "returns the index instead of the alpha": index_not_alpha,
        "mean over the wrong axis": mean_over_alphas,
        "0 instead of NaN when it never crosses": zero_when_never,
    }
    for name, mutant in mutants.items():
        for seed in (0, 1234):
            assert not CROSSING.run(mutant, seed=seed).ok, (name, seed)


# --------------------------------------------------------------------------------------------------
# Exercise 8.2: bootstrap_crossing


def bootstrap_own_words(alphas, ratios, threshold, resamples, seed):
    ratios = np.asarray(ratios, dtype=float)
    n_seeds = ratios.shape[1]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(resamples):
        columns = rng.choice(n_seeds, size=n_seeds)  # with replacement, the same as rng.integers(0, S, S)
        out.append(crossing_own_words(alphas, ratios[:, columns], threshold))
    return np.array(out)


def test_bootstrap_in_own_words_passes():
    assert BOOTSTRAP.run(bootstrap_own_words).ok
    assert BOOTSTRAP.run(bootstrap_own_words, seed=7).ok


def test_bootstrap_mutants_are_rejected():
    def unseeded(alphas, ratios, threshold, resamples, seed):
        return bootstrap_own_words(alphas, ratios, threshold, resamples, None)

    def seeded_inside_the_loop(alphas, ratios, threshold, resamples, seed):
        ratios = np.asarray(ratios)
        out = []
        for _ in range(resamples):
            pick = np.random.default_rng(seed).integers(0, ratios.shape[1], ratios.shape[1])
            out.append(crossing_own_words(alphas, ratios[:, pick], threshold))
        return np.array(out)

    def resample_alphas(alphas, ratios, threshold, resamples, seed):
        ratios = np.asarray(ratios)
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, ratios.shape[0], size=(resamples, ratios.shape[0]))
        return np.array([crossing_own_words(alphas, ratios[p], threshold) for p in picks])

    def columns_drawn_per_alpha(alphas, ratios, threshold, resamples, seed):
        ratios = np.asarray(ratios)
        a, s = ratios.shape
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, s, size=(resamples, a, s))
        return np.array(
            [crossing_own_words(alphas, np.take_along_axis(ratios, p, axis=1), threshold) for p in picks]
        )

    def transposed_draw(alphas, ratios, threshold, resamples, seed):
        ratios = np.asarray(ratios)
        s = ratios.shape[1]
        picks = np.random.default_rng(seed).integers(0, s, size=(s, resamples)).T
        return np.array([crossing_own_words(alphas, ratios[:, p], threshold) for p in picks])

    def without_replacement(alphas, ratios, threshold, resamples, seed):
        ratios = np.asarray(ratios)
        rng = np.random.default_rng(seed)
        return np.array(
            [
                crossing_own_words(alphas, ratios[:, rng.permutation(ratios.shape[1])], threshold)
                for _ in range(resamples)
            ]
        )

    def max_inside(alphas, ratios, threshold, resamples, seed):
        ratios = np.asarray(ratios)
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, ratios.shape[1], size=(resamples, ratios.shape[1]))
        return np.array([_from_which_on(alphas, ratios[:, p].max(axis=1), threshold) for p in picks])

    def one_resample_short(alphas, ratios, threshold, resamples, seed):
        return bootstrap_own_words(alphas, ratios, threshold, resamples - 1, seed)

    def sorted_output(alphas, ratios, threshold, resamples, seed):
        out = bootstrap_own_words(alphas, ratios, threshold, resamples, seed)
        return np.sort(out)

    mutants = {
        "unseeded generator": unseeded,
        "generator re-made from the seed inside the loop": seeded_inside_the_loop,
        "resamples alphas (the wrong axis) instead of seeds": resample_alphas,
        "draws the seed columns separately for every alpha": columns_drawn_per_alpha,
        "draws the index table transposed": transposed_draw,
        "without replacement (a permutation)": without_replacement,
        "max over seeds inside the crossing": max_inside,
        "one resample short": one_resample_short,
        "sorted output": sorted_output,
    }
    for name, mutant in mutants.items():
        for seed in (0, 1234):
            assert not BOOTSTRAP.run(mutant, seed=seed).ok, (name, seed)


def test_bootstrap_cases_vary_so_that_seeding_matters():
    # Most cases must give more than one crossing across resamples, else seeding mistakes go unseen.
    varied = 0
    cases = BOOTSTRAP.cases(0)
    for case in cases:
        out = BOOTSTRAP.expected(case)
        varied += len(np.unique(np.where(np.isnan(out), -1.0, out))) > 1
    assert varied >= len(cases) // 2


def test_crossing_random_cases_have_no_ties_and_vary():
    crossings = []
    for case in CROSSING.cases(0)[len(CROSSING.fixed_cases()) :]:
        means = np.asarray(case.args["ratios"]).mean(axis=1)
        assert np.abs(means - case.args["threshold"]).min() > 1e-6
        crossings.append(CROSSING.expected(case))
    finite = [c for c in crossings if not math.isnan(c)]
    assert len(finite) >= 10 and len(set(finite)) >= 3 and len(finite) < len(crossings)
