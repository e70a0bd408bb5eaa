"""Figures of measurements: the 2-D robustness plot, training curves and the mixing-fraction sweep.

Plain matplotlib, so a figure can go into a notebook, a slide or a file; colours and the TRAIN/TEST
styles come from `drawing.style`. The numbers come from the analysis layer
(`analysis.robustness.robustness_coordinates`, `analysis.training_history.history_series`,
`analysis.sweep.Sweep`); pictures of episodes are in `drawing.replay`, policy fields in
`drawing.fields`.
"""

from __future__ import annotations

import math

import matplotlib
import matplotlib.ticker
import numpy as np

from mesalib.analysis.robustness import robustness_coordinates
from mesalib.analysis.sweep import METRIC_LABELS, Sweep
from mesalib.analysis.training_history import ROLLOUT_KEYS, history_series
from mesalib.drawing.style import AGENT_COLORS as AGENT_COLORS  # lessons read these through plots
from mesalib.drawing.style import OKABE_ITO, SPLIT_STYLE, agent_colors
from mesalib.drawing.style import agent_color as agent_color

# ---------------------------------------------------------------------------------------------------
# The 2-D robustness plot


def robustness_2d(
    results: dict,
    reference="nearest_key",
    best=None,
    ax=None,
    title: str | None = None,
    capability: str = "pace",
):
    """The 2-D robustness plot (Mikulik 2019, "2-D Robustness"): one arrow per agent, TRAIN -> TEST.

    results: agent name -> {"train": summary, "test": summary}, each an `Evaluation.summary()` dict
    (keys_collected, chests_opened, fraction_of_best). reference: the key collector the x axis is
    relative to, either a name in `results` or {"train": summary, "test": summary}. best: optional
    planner summaries {"train": ..., "test": ...}; without them y is `fraction_of_best`. capability:
    "pace" (default) or "keys", see `analysis.robustness.robustness_coordinates`.

    Axes:
    - x, capability robustness: items picked up per step / `nearest_key`'s, on the same levels;
    - y, objective robustness: chests opened / the most chests that could be opened.
    An agent is a hollow circle on TRAIN and a filled square on TEST, joined by an arrow. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 5.2), layout="constrained")
    points = _robustness_points(results, reference, best, capability)
    xmax = max([1.15] + [v * 1.08 for p in points.values() for (v, _) in p.values() if math.isfinite(v)])
    ymax = max([1.14] + [v * 1.05 for p in points.values() for (_, v) in p.values() if math.isfinite(v)])
    _draw_quadrants(ax, xmax, ymax)
    colors = agent_colors(points)
    for name, p in points.items():
        _draw_agent(ax, p, colors[name])
    _robustness_legend(ax, colors)
    ref_name = reference if isinstance(reference, str) else "nearest_key"
    ax.set_xlabel(
        f"capability: keys collected / {ref_name}'s keys (same levels)"
        if capability == "keys"
        else f"capability: items per step / {ref_name}'s (same levels)"
    )
    ax.set_ylabel("objective robustness: chests opened / best possible")
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, ymax)
    ax.set_title(title or "2-D robustness: does the skill or the goal generalize?")
    ax.grid(alpha=0.2)
    return ax


def _robustness_points(results: dict, reference, best, capability: str) -> dict[str, dict]:
    """name -> {"train": (x, y), "test": (x, y)} for the splits each agent has."""
    refs = results[reference] if isinstance(reference, str) else reference
    return {
        name: {
            split: robustness_coordinates(
                by_split[split], refs[split], None if best is None else best[split], capability
            )
            for split in ("train", "test")
            if split in by_split
        }
        for name, by_split in results.items()
    }


def _draw_quadrants(ax, xmax: float, ymax: float) -> None:
    """Light guides at 1 (as capable as the key collector; as good as the best possible), and the
    names of three corners."""
    ax.axvline(1.0, color="#999999", linewidth=1, linestyle=(0, (4, 3)), zorder=0)
    ax.axhline(1.0, color="#999999", linewidth=1, linestyle=(0, (4, 3)), zorder=0)
    guide = dict(fontsize="small", color="#666666", zorder=0)
    ax.text(
        xmax - 0.015, 0.03, "capable, wrong goal\n(goal misgeneralization)", ha="right", va="bottom", **guide
    )
    ax.text(0.02, 0.03, "incapable", ha="left", va="bottom", **guide)
    ax.text(xmax - 0.015, ymax - 0.012, "robust: capable, right goal", ha="right", va="top", **guide)


def _draw_agent(ax, p: dict, color: str) -> None:
    """One agent: a hollow circle on TRAIN, a filled square on TEST, an arrow from one to the other."""
    if "train" in p and "test" in p and all(map(math.isfinite, p["train"] + p["test"])):
        ax.annotate(
            "",
            xy=p["test"],
            xytext=p["train"],
            zorder=3,
            arrowprops=dict(
                arrowstyle="-|>", color=color, linewidth=1.8, shrinkA=6, shrinkB=7, mutation_scale=16
            ),
        )
    if "train" in p:
        ax.plot(
            *p["train"],
            marker="o",
            markersize=9,
            markerfacecolor="white",
            markeredgecolor=color,
            markeredgewidth=2.2,
            linestyle="none",
            zorder=4,
        )
    if "test" in p:
        ax.plot(
            *p["test"],
            marker="s",
            markersize=9,
            color=color,
            markeredgecolor="white",
            markeredgewidth=0.8,
            linestyle="none",
            zorder=5,
        )


def _robustness_legend(ax, colors: dict[str, str]) -> None:
    """One colour per agent (name -> colour), and what the circle and the square mean, to the right."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=color, linewidth=2.5, label=name) for name, color in colors.items()]
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            markersize=8,
            markerfacecolor="white",
            markeredgecolor="#333333",
            markeredgewidth=2,
            linestyle="none",
            label="on TRAIN",
        ),
        Line2D([], [], marker="s", markersize=8, color="#333333", linestyle="none", label="on TEST"),
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        title="agent (arrow: TRAIN → TEST)",
        alignment="left",
    )


# ---------------------------------------------------------------------------------------------------
# Training curves


HISTORY_LABELS = {
    "return": "return per episode",
    "chests_opened": "chests opened per episode",
    "keys_collected": "keys collected per episode",
}
"""metric -> axis label, for the metrics `analysis.training_history.history_series` reads."""


def plot_history(history: list[dict], ax=None, metrics=("return", "chests_opened", "keys_collected")):
    """Training curves from `ppo.train`'s history: the greedy evaluations on TRAIN (blue, solid,
    circles) and TEST (vermillion, dashed, squares), and the training episodes' mean (grey).

    ax: None (a new row of one Axes per metric), a sequence of one Axes per metric, or a single Axes
    (then every metric shares it, told apart by colour; line style and marker tell TRAIN from TEST).
    Returns the list of Axes.
    """
    import matplotlib.pyplot as plt

    metrics = tuple(metrics)
    for m in metrics:
        if m not in ROLLOUT_KEYS:
            raise ValueError(f"plot_history: unknown metric {m!r}; choose from {tuple(ROLLOUT_KEYS)}.")
    if ax is None:
        _, ax = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), layout="constrained")
    shared = not isinstance(ax, (list, tuple, np.ndarray))
    axes = [ax] * len(metrics) if shared else list(np.ravel(ax))
    if len(axes) != len(metrics):
        raise ValueError(f"plot_history: got {len(axes)} Axes for {len(metrics)} metrics.")
    formatter = matplotlib.ticker.EngFormatter(sep="")
    metric_colors = (OKABE_ITO["black"], OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["reddish_purple"])
    for i, (a, metric) in enumerate(zip(axes, metrics)):
        series = history_series(history, metric)
        label = HISTORY_LABELS[metric]
        steps, vals = series["rollout"]
        prefix = f"{metric}: " if shared else ""
        if np.isfinite(vals).any():
            a.plot(
                steps,
                vals,
                color="#8C8C8C",
                linewidth=1.0,
                alpha=0.8,
                label=f"{prefix}training episodes (sampled)",
            )
        for split in ("train", "test"):
            x, y = series[split]
            if len(x):
                style = dict(SPLIT_STYLE[split])
                style["label"] = f"{prefix}{style['label']} (greedy eval)"
                if shared:
                    style["color"] = metric_colors[i % len(metric_colors)]
                a.plot(x, y, linewidth=2, markersize=4.5, **style)
        a.xaxis.set_major_formatter(formatter)
        a.set_xlabel("environment steps")
        a.set_ylabel("per episode" if shared else label)
        if not shared:
            a.set_title(label)
        a.grid(alpha=0.25)
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize="small", frameon=False)
    return axes[:1] if shared else axes


# ---------------------------------------------------------------------------------------------------
# The mixing-fraction sweep


def plot_sweep(sw: Sweep, ax=None, threshold=None, color=None, marker="o", label=None, jitter: float = 0.004):
    """Every seed of `sw` as a small dot (shifted a little sideways per seed so that dots do not hide
    each other), the mean over seeds as a line with larger markers, the range over seeds as a bar.
    `threshold` (a number or a list of them) adds dashed horizontal lines. Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
    color = color or OKABE_ITO["vermillion"]
    alphas = np.asarray(sw.alphas, dtype=float)
    shifts = (np.arange(len(sw.seeds)) - (len(sw.seeds) - 1) / 2) * jitter
    for j in range(len(sw.seeds)):
        ax.plot(
            alphas + shifts[j],
            sw.values[:, j],
            linestyle="none",
            marker=marker,
            markersize=4.5,
            markerfacecolor="white",
            markeredgecolor=color,
            alpha=0.9,
            zorder=3,
        )
    mean, low, high = sw.mean(), sw.low(), sw.high()
    ok = ~np.isnan(mean)
    ax.vlines(alphas[ok], low[ok], high[ok], color=color, linewidth=2.5, alpha=0.35, zorder=2)
    ax.plot(
        alphas[ok],
        mean[ok],
        color=color,
        marker=marker,
        markersize=8,
        linewidth=1.8,
        zorder=4,
        label=label or f"{METRIC_LABELS.get(sw.metric, sw.metric)} (mean over seeds)",
    )
    for t in [] if threshold is None else np.atleast_1d(threshold):
        ax.axhline(float(t), color="#555555", linestyle=(0, (4, 3)), linewidth=1, zorder=1)
    ax.set_xticks(alphas, [f"{a:g}" for a in alphas])
    ax.set_xlabel("alpha: fraction of TEST-like levels mixed into training")
    ax.set_ylabel(METRIC_LABELS.get(sw.metric, sw.metric))
    ax.grid(alpha=0.25)
    return ax
