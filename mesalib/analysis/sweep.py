"""The mixing-fraction sweep and the seed runs, read from the checkpoint catalog (lesson 08).

`mesalib checkpoints --regenerate` trains one agent per recipe in `checkpoints.RECIPES` and records its
criteria ratios in `catalog.json`: the default configuration with several seeds, the observation
variants, and the *alpha sweep*, agents trained on `mix(TRAIN, TEST, alpha)` for each alpha in
`checkpoints.ALPHAS` and each seed in `checkpoints.SWEEP_SEEDS` (alpha 0 is the default configuration).
This module turns those records into tables and answers one question about them: from which mixing
fraction on does the agent generalize correctly, and how sure can we be with a handful of seeds?

- `sweep(metric)`: one criteria ratio (such as "test_chests") as a `Sweep`, a float array
  [alphas, seeds] with NaN where a run is not (yet) in the catalog, with per-alpha means and ranges.
- `runs(names)`: several catalog entries side by side (the observation variants, the default seeds),
  their ratios and which criteria hold, as `Runs`.
- `spread_table(variant_seeds())`: each observation variant over its seeds, every ratio's mean and
  range and how often each criterion holds (one run per recipe is an anecdote).
- `crossing_alpha(alphas, ratios, threshold)`: the smallest alpha from which on the mean ratio over
  seeds stays at or above `threshold`.
- `bootstrap_crossing(...)`: the same on seeds resampled with replacement (a seeded bootstrap), which
  gives a distribution of crossing alphas; `crossing_distribution` and `crossing_interval` condense it.

Everything here takes and returns plain numbers and arrays (`drawing.plots.plot_sweep` draws a
`Sweep`), and works on any catalog (a dict as `checkpoints.catalog()` returns it), so it can be tested
on synthetic ones and used while a regeneration is still filling the catalog in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mesalib.analysis.criteria import CRITERIA, RATIO_LABELS

METRIC_LABELS = RATIO_LABELS
"""Every criteria ratio recorded per catalog entry (`criteria.Report.ratios`), with its label."""

METRICS = tuple(name for name in RATIO_LABELS if name != "ktc_visible_over_ghost")
"""The agent's own ratios, the columns `runs` shows (the fifth ratio is a check on key_then_chest)."""


def run_name(alpha: float, seed: int) -> str:
    """The catalog name of the sweep run with mixing fraction `alpha` and `seed`: "default",
    "default_seed1", "alpha0.1", "alpha0.1_seed2", ... (the names of `checkpoints.RECIPES`)."""
    stem = "default" if alpha == 0 else f"alpha{alpha:g}"
    return stem if seed == 0 else f"{stem}_seed{seed}"


def _catalog(catalog: dict | None) -> dict:
    if catalog is None:
        from mesalib.agents import checkpoints

        return checkpoints.catalog()
    return catalog


def _value(entry: dict | None, metric: str) -> float:
    if not entry:
        return math.nan
    value = entry.get("ratios", {}).get(metric)
    return math.nan if value is None else float(value)


# --------------------------------------------------------------------------------------------------
# The sweep as a table


@dataclass(frozen=True)
class Sweep:
    """One ratio of every sweep run: `values[i, j]` for alpha `alphas[i]` and seed `seeds[j]`, NaN
    where that run is not in the catalog."""

    metric: str
    alphas: tuple[float, ...]
    seeds: tuple[int, ...]
    values: np.ndarray
    """float [A, S]."""

    @property
    def names(self) -> list[list[str]]:
        """names[i][j]: the catalog name of run (alphas[i], seeds[j])."""
        return [[run_name(a, s) for s in self.seeds] for a in self.alphas]

    def counts(self) -> np.ndarray:
        """int [A]: how many seeds of each alpha are in the catalog."""
        return (~np.isnan(self.values)).sum(axis=1)

    def mean(self) -> np.ndarray:
        """float [A]: the mean over the seeds present (NaN for an alpha without any)."""
        return _nanmean_rows(self.values)

    def low(self) -> np.ndarray:
        """float [A]: the smallest value over the seeds present (NaN for an alpha without any)."""
        return _reduce_rows(self.values, np.min)

    def high(self) -> np.ndarray:
        """float [A]: the largest value over the seeds present (NaN for an alpha without any)."""
        return _reduce_rows(self.values, np.max)

    def present(self) -> Sweep:
        """The same sweep without the alphas that have no run at all in the catalog."""
        keep = self.counts() > 0
        return Sweep(
            self.metric, tuple(a for a, k in zip(self.alphas, keep) if k), self.seeds, self.values[keep]
        )

    def table(self, digits: int = 3) -> str:
        """Aligned text: one line per alpha, each seed's value ("-" if missing), mean, min and max."""
        w = digits + 4
        head = (
            f"{'alpha':>6s} "
            + " ".join(f"{'seed ' + str(s):>{w}s}" for s in self.seeds)
            + f" {'mean':>{w}s} {'min':>{w}s} {'max':>{w}s}"
        )
        lines = [METRIC_LABELS.get(self.metric, self.metric), head]
        for i, a in enumerate(self.alphas):
            cells = [_fmt(v, w, digits) for v in self.values[i]]
            stats = [_fmt(v, w, digits) for v in (self.mean()[i], self.low()[i], self.high()[i])]
            lines.append(f"{a:6g} " + " ".join(cells) + " " + " ".join(stats))
        return "\n".join(lines)


def sweep(metric: str = "test_chests", catalog: dict | None = None, alphas=None, seeds=None) -> Sweep:
    """The sweep's values of `metric` from `catalog` (default: the shipped `checkpoints.catalog()`).

    alphas: default 0 (the default configuration) and `checkpoints.ALPHAS`; seeds: default
    `checkpoints.SWEEP_SEEDS`. Runs missing from the catalog are NaN.
    """
    from mesalib.agents import checkpoints

    catalog = _catalog(catalog)
    alphas = (0.0,) + tuple(checkpoints.ALPHAS) if alphas is None else tuple(float(a) for a in alphas)
    seeds = tuple(checkpoints.SWEEP_SEEDS) if seeds is None else tuple(int(s) for s in seeds)
    values = np.array(
        [[_value(catalog.get(run_name(a, s)), metric) for s in seeds] for a in alphas], dtype=float
    ).reshape(len(alphas), len(seeds))
    return Sweep(metric, alphas, seeds, values)


# --------------------------------------------------------------------------------------------------
# Several catalog entries side by side


@dataclass(frozen=True)
class Runs:
    """Catalog entries side by side: `ratios[i, m]` of entry `names[i]` and metric `metrics[m]` (NaN if
    the entry is missing), `passed[i, c]` whether criterion `CRITERIA[c]` holds (False if missing)."""

    names: tuple[str, ...]
    metrics: tuple[str, ...]
    ratios: np.ndarray
    """float [N, M]."""
    passed: np.ndarray
    """bool [N, 3]."""
    present: np.ndarray
    """bool [N]: whether the entry is in the catalog."""

    @property
    def misgeneralizes(self) -> np.ndarray:
        """bool [N]: all three criteria hold (False for a missing entry)."""
        return self.passed.all(axis=1) & self.present

    def column(self, metric: str) -> np.ndarray:
        """float [N]: one metric of every entry."""
        return self.ratios[:, self.metrics.index(metric)]

    def frequency(self) -> dict[str, tuple[int, int]]:
        """For each criterion (and "all three"): (entries where it holds, entries present)."""
        n = int(self.present.sum())
        out = {c: (int(self.passed[self.present, k].sum()), n) for k, c in enumerate(CRITERIA)}
        out["all three"] = (int(self.misgeneralizes.sum()), n)
        return out

    def table(self, digits: int = 3) -> str:
        """Aligned text: one line per entry with its ratios, the criteria that hold and the verdict."""
        w = max(digits + 4, 13)
        width = max([len(n) for n in self.names] + [5])
        head = (
            f"{'name':{width}s} "
            + " ".join(f"{m[:w]:>{w}s}" for m in self.metrics)
            + "  criteria  misgeneralizes"
        )
        lines = [head]
        for i, name in enumerate(self.names):
            if not self.present[i]:
                lines.append(f"{name:{width}s} (not in the catalog yet)")
                continue
            marks = "".join("+" if p else "-" for p in self.passed[i])
            lines.append(
                f"{name:{width}s} "
                + " ".join(_fmt(v, w, digits) for v in self.ratios[i])
                + f"  {marks:>8s}  {'yes' if self.misgeneralizes[i] else 'no'}"
            )
        return "\n".join(lines)


def runs(names, catalog: dict | None = None, metrics=METRICS) -> Runs:
    """The catalog entries `names` (default catalog: `checkpoints.catalog()`), side by side."""
    catalog = _catalog(catalog)
    names, metrics = tuple(names), tuple(metrics)
    ratios = np.array([[_value(catalog.get(n), m) for m in metrics] for n in names], dtype=float).reshape(
        len(names), len(metrics)
    )
    passed = np.array(
        [[bool(catalog.get(n, {}).get("passed", {}).get(c, False)) for c in CRITERIA] for n in names],
        dtype=bool,
    ).reshape(len(names), len(CRITERIA))
    present = np.array([n in catalog for n in names], dtype=bool)
    return Runs(names, metrics, ratios, passed, present)


def variant_seeds(variants=None) -> dict[str, list[str]]:
    """The observation variants (default: the default configuration and every `checkpoints.VARIANTS`),
    each with the catalog names of its seeds (`checkpoints.VARIANT_SEEDS`)."""
    from mesalib.agents import checkpoints

    variants = ["default", *checkpoints.VARIANTS] if variants is None else list(variants)
    return {
        v: [run_name(0.0, s) for s in checkpoints.VARIANT_SEEDS]
        if v == "default"
        else checkpoints.variant_names(v)
        for v in variants
    }


def spread_table(
    groups: dict[str, list[str]], catalog: dict | None = None, metrics=METRICS, digits: int = 3
) -> str:
    """Aligned text: one line per group of catalog entries (one recipe trained with several seeds, as
    `variant_seeds` gives), each metric's mean and [smallest, largest] over the entries present, and for
    how many of them each criterion holds. A single run per recipe hides how much a verdict owes to the
    seed; this table shows it next to the mean."""
    catalog = _catalog(catalog)
    metrics = tuple(metrics)
    cell = 3 * digits + 10
    width = max([len(g) for g in groups] + [7])
    head = (
        f"{'recipe':{width}s} {'seeds':>5s} "
        + " ".join(f"{m[:cell]:>{cell}s}" for m in metrics)
        + "  criteria 1/2/3 hold  misgeneralizes"
    )
    lines = [head]
    for group, names in groups.items():
        found = runs(names, catalog, metrics)
        n = int(found.present.sum())
        if n == 0:
            lines.append(f"{group:{width}s} {0:5d} (not in the catalog yet)")
            continue
        cells = []
        for m in metrics:
            v = found.column(m)[found.present]
            cells.append(f"{f'{v.mean():.{digits}f} [{v.min():.{digits}f}, {v.max():.{digits}f}]':>{cell}s}")
        counts = found.frequency()
        held = "/".join(str(counts[c][0]) for c in CRITERIA)
        lines.append(
            f"{group:{width}s} {n:5d} "
            + " ".join(cells)
            + f"  {held + ' of ' + str(n):>19s}  {counts['all three'][0]:>7d} of {n}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Where does the sweep cross a threshold?


def crossing_alpha(alphas, ratios, threshold: float) -> float:
    """The smallest mixing fraction from which on the agent generalizes, on average over seeds.

    alphas: [A] increasing mixing fractions. ratios: float [A, S], ratios[i, j] the measured ratio
    (e.g. TEST chests / key_then_chest's) of the run with alpha alphas[i] and seed j. threshold: a ratio.
    Let m[i] be the mean of ratios[i] over seeds. Returns alphas[k] for the smallest k such that
    m[j] >= threshold for every j >= k (the mean reaches the threshold at alphas[k] and never falls
    below it again at larger alphas), as a float; NaN if m at the largest alpha is below the threshold.

    Missing runs may be NaN: a mean is then taken over the seeds present, and an alpha with no run at
    all is left out (it neither breaks nor starts a crossing).
    Example: crossing_alpha([0, 0.1, 0.2, 0.4], [[0.3, 0.4], [0.7, 0.9], [0.6, 0.7], [0.9, 0.8]], 0.75)
             -> 0.4 (the mean at 0.1 is 0.8, but at 0.2 it drops to 0.65).
    """
    alphas = np.asarray(alphas, dtype=float)
    ratios = np.asarray(ratios, dtype=float).reshape(len(alphas), -1)
    means = _nanmean_rows(ratios)
    crossing = math.nan
    for i in range(len(alphas) - 1, -1, -1):  # from the largest alpha down
        if math.isnan(means[i]):
            continue
        if means[i] < threshold:
            break
        crossing = float(alphas[i])
    return crossing


def bootstrap_crossing(alphas, ratios, threshold: float, resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """The crossing alpha on seeds resampled with replacement: how much it depends on which seeds ran.

    alphas, ratios [A, S], threshold: as for `crossing_alpha`. With rng = np.random.default_rng(seed),
    draw picks = rng.integers(0, S, size=(resamples, S)) in one call (the same as drawing
    rng.integers(0, S, size=S) once per resample, in order). Resample b keeps the seed columns
    picks[b] (the same columns for every alpha, since seed j of every alpha is one "replicate" of the
    whole sweep) and its answer is crossing_alpha(alphas, ratios[:, picks[b]], threshold).
    Returns float [resamples]: one crossing alpha per resample (NaN where that resample never crosses).
    Example: with ratios [[0.2, 0.3], [0.4, 0.9], [0.9, 0.9]] at alphas [0, 0.1, 0.2] and threshold 0.6,
    a resample that picks seed 1 twice crosses at 0.1, one that picks seed 0 twice at 0.2.
    """
    alphas = np.asarray(alphas, dtype=float)
    ratios = np.asarray(ratios, dtype=float).reshape(len(alphas), -1)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, ratios.shape[1], size=(int(resamples), ratios.shape[1]))
    return np.array([crossing_alpha(alphas, ratios[:, p], threshold) for p in picks], dtype=float)


def crossing_distribution(alphas, crossings) -> dict:
    """How often each alpha is the crossing among bootstrap `crossings` (from `bootstrap_crossing`):
    {alpha: fraction, ..., None: fraction that never cross}. Fractions sum to 1."""
    crossings = np.asarray(crossings, dtype=float)
    n = max(len(crossings), 1)
    out: dict = {float(a): float(np.sum(crossings == a) / n) for a in alphas}
    out[None] = float(np.sum(np.isnan(crossings)) / n)
    return out


def crossing_interval(crossings, level: float = 0.9) -> tuple[float, float]:
    """An equal-tailed interval holding at least `level` of the bootstrap crossings: the
    (1 - level)/2 and (1 + level)/2 quantiles, each an alpha that occurs among `crossings` (numpy's
    "inverted_cdf" quantile). A resample that never crosses counts as beyond every alpha: an upper end
    of inf means "above the largest alpha tried"."""
    values = np.asarray(crossings, dtype=float)
    if not len(values):
        return (math.nan, math.nan)
    values = np.where(np.isnan(values), np.inf, values)
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return (float(lo), float(hi))


def describe_crossing(alpha: float) -> str:
    """Text for a crossing alpha: "0.1", or "none within the sweep" for NaN or inf."""
    return "none within the sweep" if not math.isfinite(alpha) else f"{alpha:g}"


# --------------------------------------------------------------------------------------------------
# Helpers


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Row means over the non-NaN entries, NaN for an all-NaN row (without numpy's RuntimeWarning)."""
    values = np.asarray(values, dtype=float)
    count = (~np.isnan(values)).sum(axis=1)
    total = np.where(np.isnan(values), 0.0, values).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _reduce_rows(values: np.ndarray, fn) -> np.ndarray:
    return np.array(
        [fn(row[~np.isnan(row)]) if (~np.isnan(row)).any() else np.nan for row in values], dtype=float
    )


def _fmt(value: float, width: int, digits: int) -> str:
    return f"{'-':>{width}s}" if math.isnan(value) else f"{value:{width}.{digits}f}"
