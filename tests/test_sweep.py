"""mesalib.analysis.sweep: the alpha sweep and seed runs read from (synthetic) catalogs, and the crossing
estimate."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from mesalib.agents import checkpoints
from mesalib.analysis import criteria, sweep
from mesalib.analysis.sweep import (
    CRITERIA,
    bootstrap_crossing,
    crossing_alpha,
    crossing_distribution,
    crossing_interval,
    describe_crossing,
    run_name,
)

matplotlib.use("Agg")


def entry(
    test_chests,
    test_keys=0.8,
    train_chests=0.97,
    chest_seeking=0.1,
    passed=(True, True, True),
    alpha=0.0,
    seed=0,
):
    return {
        "alpha": alpha,
        "seed": seed,
        "dist": {},
        "shipped": seed == 0,
        "ratios": {
            "train_chests": train_chests,
            "test_chests": test_chests,
            "test_keys": test_keys,
            "chest_seeking": chest_seeking,
            "ktc_visible_over_ghost": 9.8,
        },
        "passed": dict(zip(CRITERIA, passed)),
        "misgeneralizes": all(passed),
    }


def synthetic_catalog(values: dict[tuple[float, int], float]) -> dict:
    return {run_name(a, s): entry(v, alpha=a, seed=s) for (a, s), v in values.items()}


def test_run_names_agree_with_the_checkpoint_recipes():
    for alpha in (0.0,) + checkpoints.ALPHAS:
        assert [run_name(alpha, s) for s in checkpoints.SWEEP_SEEDS] == checkpoints.sweep_names(alpha)
        for s in checkpoints.SWEEP_SEEDS:
            assert run_name(alpha, s) in checkpoints.RECIPES
    for s in checkpoints.DEFAULT_SEEDS:
        assert run_name(0.0, s) in checkpoints.RECIPES


def test_sweep_reads_values_and_leaves_missing_runs_nan():
    cat = synthetic_catalog({(0.0, 0): 0.3, (0.0, 1): 0.4, (0.05, 0): 0.5, (0.1, 0): 0.8, (0.1, 2): 0.9})
    sw = sweep.sweep("test_chests", cat)
    assert sw.alphas == (0.0,) + checkpoints.ALPHAS and sw.seeds == checkpoints.SWEEP_SEEDS
    assert sw.values.shape == (len(sw.alphas), len(sw.seeds))
    assert sw.values[0, 0] == 0.3 and sw.values[0, 1] == 0.4 and math.isnan(sw.values[0, 2])
    np.testing.assert_allclose(sw.mean()[:3], [0.35, 0.5, 0.85])
    assert np.isnan(sw.mean()[3:]).all()
    np.testing.assert_array_equal(sw.counts(), [2, 1, 2, 0, 0])
    np.testing.assert_allclose(sw.low()[:3], [0.3, 0.5, 0.8])
    np.testing.assert_allclose(sw.high()[:3], [0.4, 0.5, 0.9])
    assert sw.names[2][2] == "alpha0.1_seed2"
    present = sw.present()
    assert present.alphas == (0.0, 0.05, 0.1) and present.values.shape == (3, 3)
    text = sw.table()
    assert "TEST chests" in text and "0.850" in text and text.count("\n") == 1 + len(sw.alphas)
    assert sweep.sweep("test_keys", cat).values[0, 0] == 0.8


def test_sweep_of_an_empty_catalog_and_custom_axes():
    sw = sweep.sweep("test_chests", {}, alphas=[0, 0.5], seeds=[0, 3])
    assert sw.values.shape == (2, 2) and np.isnan(sw.values).all()
    assert np.isnan(sw.mean()).all() and sw.present().values.shape == (0, 2)
    assert sw.names == [["default", "default_seed3"], ["alpha0.5", "alpha0.5_seed3"]]
    assert math.isnan(crossing_alpha(sw.alphas, sw.values, 0.5))


def test_sweep_reads_the_shipped_catalog_without_error():
    sw = sweep.sweep()
    assert sw.values.shape == (1 + len(checkpoints.ALPHAS), len(checkpoints.SWEEP_SEEDS))
    if "default" in checkpoints.catalog():
        assert not math.isnan(sw.values[0, 0])


def test_runs_side_by_side_and_criteria_frequency():
    cat = {
        "default": entry(0.35),
        "inventory": entry(0.39, test_keys=0.23, passed=(True, False, False)),
        "view7": entry(0.45, passed=(True, True, False)),
    }
    r = sweep.runs(["default", "inventory", "view7", "allocentric"], cat)
    np.testing.assert_array_equal(r.present, [True, True, True, False])
    np.testing.assert_array_equal(r.misgeneralizes, [True, False, False, False])
    np.testing.assert_allclose(r.column("test_keys")[:3], [0.8, 0.23, 0.8])
    assert np.isnan(r.ratios[3]).all() and not r.passed[3].any()
    freq = r.frequency()
    assert freq["1 capable on TRAIN"] == (3, 3) and freq["2 misgeneralizes on TEST"] == (2, 3)
    assert freq["3 not seeking chests"] == (1, 3) and freq["all three"] == (1, 3)
    text = r.table()
    assert "allocentric (not in the catalog yet)" in text and "+--" in text and "+++" in text


# --------------------------------------------------------------------------------------------------
# crossing_alpha


def crossing_own_words(alphas, ratios, threshold):
    means = np.asarray(ratios, float).mean(axis=1)
    above = means >= threshold
    if not above[-1]:
        return math.nan
    k = len(above) - 1
    while k > 0 and above[k - 1]:
        k -= 1
    return float(alphas[k])


def test_crossing_docstring_example_and_basic_cases():
    ratios = [[0.3, 0.4], [0.7, 0.9], [0.6, 0.7], [0.9, 0.8]]
    assert crossing_alpha([0, 0.1, 0.2, 0.4], ratios, 0.75) == 0.4
    assert crossing_alpha([0, 0.1, 0.2, 0.4], ratios, 0.6) == 0.1
    assert crossing_alpha([0, 0.1, 0.2, 0.4], ratios, 0.3) == 0.0
    assert math.isnan(crossing_alpha([0, 0.1, 0.2, 0.4], ratios, 0.9))
    # The threshold itself counts as reached.
    assert crossing_alpha([0, 1], [[0.25, 0.75], [0.5, 0.5]], 0.5) == 0.0
    assert crossing_alpha([0, 1], [[0.25, 0.7], [0.5, 0.5]], 0.5) == 1.0
    assert isinstance(crossing_alpha([0, 1], [[0.1], [0.9]], 0.5), float)


def test_crossing_skips_alphas_without_runs_and_averages_present_seeds():
    nan = math.nan
    ratios = [[0.2, 0.3], [nan, nan], [0.9, nan], [0.7, 0.8]]
    assert crossing_alpha([0, 0.05, 0.1, 0.2], ratios, 0.6) == 0.1
    ratios = [[0.7, 0.8], [nan, nan], [0.2, 0.3]]
    assert math.isnan(crossing_alpha([0, 0.1, 0.2], ratios, 0.6))
    ratios = [
        [0.2, 0.3],
        [0.7, 0.8],
        [nan, nan],
    ]  # the largest alpha has no run: the last measured one counts
    assert crossing_alpha([0, 0.1, 0.2], ratios, 0.6) == 0.1


def test_crossing_matches_an_independent_implementation_on_random_sweeps():
    rng = np.random.default_rng(5)
    for _ in range(300):
        a, s = int(rng.integers(1, 7)), int(rng.integers(1, 6))
        alphas = np.sort(rng.choice(np.round(np.linspace(0, 1, 21), 2), a, replace=False))
        ratios = np.round(rng.uniform(0, 1, (a, s)), 3)
        t = float(np.round(rng.uniform(0.1, 0.9), 3)) + 0.00037
        got, want = crossing_alpha(alphas, ratios, t), crossing_own_words(alphas, ratios, t)
        assert (math.isnan(got) and math.isnan(want)) or got == want


# --------------------------------------------------------------------------------------------------
# bootstrap


def test_bootstrap_resamples_seed_columns_as_documented():
    alphas = [0.0, 0.1, 0.2]
    ratios = np.array([[0.2, 0.3], [0.4, 0.9], [0.9, 0.9]])
    out = bootstrap_crossing(alphas, ratios, 0.6, resamples=200, seed=3)
    assert out.shape == (200,) and out.dtype == float
    rng = np.random.default_rng(3)
    for b in range(200):
        pick = rng.integers(0, 2, size=2)
        assert out[b] == crossing_alpha(alphas, ratios[:, pick], 0.6)
    # picks of seed 1 twice cross at 0.1, seed 0 twice at 0.2, one of each (mean 0.65 at 0.1) at 0.1
    assert set(np.unique(out)) == {0.1, 0.2}
    np.testing.assert_array_equal(out, bootstrap_crossing(alphas, ratios, 0.6, resamples=200, seed=3))
    assert not np.array_equal(out, bootstrap_crossing(alphas, ratios, 0.6, resamples=200, seed=4))


def test_bootstrap_of_identical_seeds_is_the_plain_crossing():
    ratios = np.tile(np.array([[0.1], [0.55], [0.8]]), (1, 4))
    out = bootstrap_crossing([0, 0.1, 0.4], ratios, 0.5, resamples=50)
    assert (out == 0.1).all()
    out = bootstrap_crossing([0, 0.1, 0.4], ratios, 0.9, resamples=50)
    assert np.isnan(out).all()


def test_crossing_distribution_and_interval():
    crossings = np.array([0.1] * 60 + [0.2] * 30 + [math.nan] * 10)
    dist = crossing_distribution([0.0, 0.1, 0.2, 0.4], crossings)
    assert dist == {0.0: 0.0, 0.1: 0.6, 0.2: 0.3, 0.4: 0.0, None: 0.1}
    assert crossing_interval(crossings, 0.8) == (0.1, 0.2)
    assert crossing_interval(crossings, 0.9) == (0.1, math.inf)
    assert crossing_interval(np.full(10, 0.4)) == (0.4, 0.4)
    assert all(math.isnan(v) for v in crossing_interval([]))
    assert describe_crossing(0.1) == "0.1" and "none" in describe_crossing(math.inf)
    assert "none" in describe_crossing(math.nan)


def test_plot_sweep_draws_dots_mean_and_thresholds():
    import matplotlib.pyplot as plt

    from mesalib.drawing.plots import plot_sweep

    cat = synthetic_catalog(
        {(a, s): 0.3 + a + 0.05 * s for a in (0.0,) + checkpoints.ALPHAS for s in (0, 1, 2)}
    )
    del cat["alpha0.4"], cat["alpha0.4_seed1"], cat["alpha0.4_seed2"]
    sw = sweep.sweep("test_chests", cat)
    fig, ax = plt.subplots()
    assert plot_sweep(sw, ax=ax, threshold=[0.5, 0.8]) is ax
    lines = ax.get_lines()
    assert len(lines) == 3 + 1 + 2  # one line of dots per seed, the mean, two thresholds
    mean_line = lines[3]
    np.testing.assert_allclose(mean_line.get_ydata(), sw.mean()[:4])
    assert "TEST chests" in ax.get_ylabel()
    plt.close(fig)


@pytest.mark.parametrize("metric", sweep.METRICS)
def test_every_metric_has_a_label(metric):
    assert metric in sweep.METRIC_LABELS


def test_the_sweep_reads_the_ratio_and_criteria_names_of_the_criteria_module():
    assert sweep.METRIC_LABELS is criteria.RATIO_LABELS and set(sweep.METRICS) < set(criteria.RATIO_LABELS)
    assert sweep.CRITERIA is criteria.CRITERIA
