"""The phase diagram of a sweep run by a whole class: every run a dot, each learner's dots marked.

A class sweep (course/sweeps.md) splits one grid among learners; the picture shows the mean over every
result per mixing fraction as a line, and each learner's runs as dots in their own colour and shape, so
a learner finds their own contribution and the class sees how much one run can differ from the mean.
The numbers come from `analysis.grid_sweep.collect`; a sweep run by one person is drawn by
`drawing.plots.plot_sweep` from `SweepTable.sweep(metric)`.
"""

from __future__ import annotations

import math

import numpy as np

from mesalib.analysis.grid_sweep import SweepTable
from mesalib.analysis.sweep import METRIC_LABELS
from mesalib.drawing.style import AGENT_COLORS, OKABE_ITO

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")


def learner_styles(learners) -> dict[str, tuple[str, str]]:
    """learner -> (colour, marker), distinct for the first 80 learners (8 colours x 10 shapes)."""
    return {
        name: (AGENT_COLORS[i % len(AGENT_COLORS)], MARKERS[(i // len(AGENT_COLORS)) % len(MARKERS)])
        for i, name in enumerate(learners)
    }


def plot_class_sweep(
    table: SweepTable, metric: str = "test_chests", ax=None, threshold=None, legend: bool = True, jitter=0.006
):
    """The class's phase diagram of `metric` over alpha: the mean over every result as a line, each
    learner's results as dots (shifted a little sideways per learner, learners in alphabetical order
    in the legend, outside the axes). Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 4.2), layout="constrained")
    points = [(a, v, who) for a, v, who in table.points(metric) if not math.isnan(v)]
    learners = sorted({who for _, _, who in points})  # alphabetical: a learner finds their own name
    styles = learner_styles(learners)
    alphas = np.array(sorted({a for a, _, _ in points}))
    gap = float(np.diff(alphas).min()) if len(alphas) > 1 else 0.1
    step = min(
        jitter, 0.4 * gap / max(len(learners) - 1, 1)
    )  # the dots of one alpha stay apart from the next
    shifts = {who: (k - (len(learners) - 1) / 2) * step for k, who in enumerate(learners)}
    for who in learners:
        color, marker = styles[who]
        mine = [(a, v) for a, v, w in points if w == who]
        ax.plot(
            [a + shifts[who] for a, _ in mine],
            [v for _, v in mine],
            linestyle="none",
            marker=marker,
            markersize=6,
            color=color,
            alpha=0.85,
            zorder=3,
            label=who or "(no learner named)",
        )
    means = np.array([np.mean([v for a, v, _ in points if a == x]) for x in alphas])
    if len(alphas):
        ax.plot(alphas, means, color=OKABE_ITO["black"], linewidth=2, zorder=4, label="class mean")
        ax.set_xticks(alphas, [f"{a:g}" for a in alphas])
    for t in [] if threshold is None else np.atleast_1d(threshold):
        ax.axhline(float(t), color="#555555", linestyle=(0, (4, 3)), linewidth=1, zorder=1)
    ax.set_xlabel("alpha: fraction of TEST-like levels mixed into training")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.set_title(f"{len(points)} runs by {len(learners)} learners", fontsize=11)
    ax.grid(alpha=0.25)
    if legend and learners:
        ax.legend(fontsize=9, ncols=1 + len(learners) // 16, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
