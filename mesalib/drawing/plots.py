"""Figures for the lessons: the 2-D robustness plot, policy fields, episode animations, training curves.

Everything here is plain matplotlib on top of `render.draw`, so a figure can go into a notebook, a
slide or a file. The conventions, shared by every figure:

- colours from the Okabe-Ito palette (`OKABE_ITO`), which stays distinguishable under the common
  colour-vision deficiencies, and a second cue (marker shape or line style) wherever colour carries
  meaning; labelled axes and a legend on every plot;
- deterministic: the same arguments give the same picture, byte for byte (`figure_png` strips the
  PNG's software/version stamp so files can be compared).

Episodes are recorded by `record_episode` (one `rules.Game`, any policy that follows the protocol of
`policies.py`); the widgets in `widgets.py` replay the same `Episode` objects.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import animation
from matplotlib.figure import Figure

from mesalib.drawing import render
from mesalib.env.levels import TRAIN, Boards, Level, LevelDistribution, Mixture
from mesalib.env.rules import Action, Game

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
"""The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"): safe for colour-blind readers."""

AGENT_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
"""Colours given to agents in order (blue, vermillion, bluish green, reddish purple, orange, ...)."""

SPLIT_STYLE = {
    "train": dict(color=OKABE_ITO["blue"], linestyle="-", marker="o", label="TRAIN"),
    "test": dict(color=OKABE_ITO["vermillion"], linestyle="--", marker="s", label="TEST"),
}
"""How TRAIN and TEST look in every figure: blue solid circles, vermillion dashed squares."""

ARROW_COLOR = "#000000"
ACTION_NAMES = tuple(a.name for a in Action)
_MOVES_XY = np.array([(0, -1), (1, 0), (0, 1), (-1, 0)], dtype=float)  # (dx, dy) per action, y down


# ---------------------------------------------------------------------------------------------------
# Small helpers shared with widgets.py


def level_for(dist: LevelDistribution | Mixture = TRAIN, seed: int = 0) -> Level:
    """The level `seed` draws from `dist`: the first level of `VecChestsAndKeys(dist, 1, seed)` too."""
    return dist.sample(np.random.default_rng(int(seed)), 1)[0]


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes, without the software stamp, so the same figure gives the same bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def rgb_png(image: np.ndarray) -> bytes:
    """A uint8 RGB array (for example `render.rgb_array`) as PNG bytes (Pillow, which matplotlib needs)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def new_figure(figsize=(6, 4)) -> Figure:
    """A matplotlib Figure that pyplot does not track (it never pops up by itself in a notebook)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def resolve_policy(policy, dist: LevelDistribution | Mixture = TRAIN):
    """A policy object from a policy or a name in `policies.POLICIES` ("nearest_key", "planner", ...)."""
    if isinstance(policy, str):
        from mesalib.agents.registry import POLICIES

        if policy not in POLICIES:
            raise ValueError(f"Unknown policy name {policy!r}; known: {', '.join(POLICIES)}.")
        return POLICIES[policy](seed=0, dist=dist)
    if not callable(policy):
        raise TypeError(
            f"A policy must be callable as policy(obs, boards) -> actions, or a name; got {policy!r}."
        )
    return policy


def policy_name(policy) -> str:
    return getattr(policy, "name", None) or type(policy).__name__


# ---------------------------------------------------------------------------------------------------
# Recording an episode


@dataclass
class Episode:
    """One recorded episode. Frame t is the game after t steps (frame 0 is the start)."""

    policy: str
    """The policy's name."""
    dist: LevelDistribution | Mixture
    seed: int
    boards: list[Level] = field(default_factory=list)
    """The board at each frame (items already taken are gone); `steps + 1` entries."""
    keys_held: list[int] = field(default_factory=list)
    """Keys held at each frame."""
    infos: list[dict] = field(default_factory=list)
    """The game's running totals (`rules.INFO_KEYS`) at each frame."""
    actions: list[int] = field(default_factory=list)
    """The action taken from frame t to frame t + 1; `steps` entries."""
    rewards: list[float] = field(default_factory=list)
    """The reward of each step."""
    terminated: bool = False
    """The episode ended because no chest could be opened any more."""
    truncated: bool = False
    """The episode hit the step limit."""

    @property
    def steps(self) -> int:
        return len(self.actions)

    @property
    def path(self) -> list[tuple[int, int]]:
        """The agent's cell at each frame."""
        return [b.agent for b in self.boards]

    @property
    def chests_opened(self) -> int:
        return int(self.infos[-1]["chests_opened"])

    @property
    def keys_collected(self) -> int:
        return int(self.infos[-1]["keys_collected"])

    def series(self, name: str) -> np.ndarray:
        """One running total (`keys_held`, `keys_collected`, `chests_opened`, ...) at every frame."""
        return np.array([info[name] for info in self.infos])

    def describe(self, t: int) -> str:
        """One line about frame t: the step, the last action and reward, the inventory and the chests."""
        t = max(0, min(int(t), self.steps))
        info = self.infos[t]
        parts = [f"step {t} / {self.steps}"]
        if t > 0:
            parts.append(f"action {ACTION_NAMES[self.actions[t - 1]]} (reward {self.rewards[t - 1]:+g})")
        parts += [
            f"keys held {info['keys_held']}",
            f"keys collected {info['keys_collected']}",
            f"chests opened {info['chests_opened']}",
        ]
        if t == self.steps:
            parts.append(self.ending())
        return " · ".join(parts)

    def ending(self) -> str:
        if self.terminated:
            return "ended: no chest can be opened any more"
        if self.truncated:
            return "ended: step limit reached"
        return "not finished"


def record_episode(
    policy,
    dist: LevelDistribution | Mixture = TRAIN,
    seed: int = 0,
    level: Level | None = None,
    max_steps: int | None = None,
) -> Episode:
    """Play one episode of `policy` (a policy object or a name in `policies.POLICIES`) and record it.

    The level is `level_for(dist, seed)` unless `level` is given. The policy is `reset(None)` first, so
    the same arguments record the same episode. `max_steps` (default: the distribution's step limit)
    can only shorten the episode.
    """
    policy = resolve_policy(policy, dist)
    start = level if level is not None else level_for(dist, seed)
    game = Game(start, dist)
    if hasattr(policy, "reset"):
        policy.reset(None)
    ep = Episode(policy_name(policy), dist, int(seed))

    def snapshot():
        ep.boards.append(game.level())
        ep.keys_held.append(game.keys_held)
        ep.infos.append(game.info())

    snapshot()
    limit = int(dist.max_steps if max_steps is None else min(max_steps, dist.max_steps))
    for _ in range(limit):
        action = int(np.asarray(policy(game.observe()[None], game.boards()))[0])
        reward, terminated, truncated = game.step(action)
        ep.actions.append(action)
        ep.rewards.append(float(reward) + 0.0)  # + 0.0 turns -0.0 (a zero step penalty) into 0.0
        snapshot()
        if terminated or truncated:
            ep.terminated, ep.truncated = bool(terminated), bool(truncated)
            break
    return ep


def draw_frame(ax, episode: Episode, t: int, show_ghosts: bool = False, title: str | None = None):
    """Draw frame t of an episode on `ax`: the board then, and the path walked so far."""
    t = max(0, min(int(t), episode.steps))
    if title is None:
        title = f"{episode.policy}: step {t}/{episode.steps}"
    return render.draw(
        ax,
        episode.boards[t],
        episode.keys_held[t],
        show_ghosts=show_ghosts,
        trajectory=episode.path[: t + 1],
        title=title,
    )


def draw_timeline(ax, episode: Episode, t: int | None = None):
    """Keys held (grey bars), keys collected (orange, dashed) and chests opened (blue, solid) at every
    step, with a marker at step t."""
    x = np.arange(episode.steps + 1)
    held = episode.series("keys_held")
    ax.bar(
        x, held, width=0.55, color="#DDDDDD", edgecolor="#999999", linewidth=0.6, label="keys held", zorder=1
    )
    lines = (
        ("keys_collected", "keys collected", OKABE_ITO["orange"], "--", "o"),
        ("chests_opened", "chests opened", OKABE_ITO["blue"], "-", "s"),
    )
    for name, label, color, style, marker in lines:
        ax.step(
            x,
            episode.series(name),
            where="mid",
            color=color,
            linestyle=style,
            linewidth=2.4,
            label=label,
            zorder=3,
            dash_capstyle="round",
        )
    if t is not None:
        t = max(0, min(int(t), episode.steps))
        ax.axvline(t, color="#555555", linewidth=1, linestyle=":", zorder=0)
        for name, label, color, style, marker in lines:
            ax.plot(
                [t],
                [episode.series(name)[t]],
                marker=marker,
                color=color,
                markeredgecolor="white",
                markersize=8,
                linestyle="none",
                zorder=4,
            )
    top = max(1, int(max(held.max(), *(episode.series(n).max() for n, *_ in lines))))
    ax.set_xlim(-0.6, max(episode.steps, 1) + 0.6)
    ax.set_ylim(-0.25, top + 0.6)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("step")
    ax.set_ylabel("count")
    ax.set_title("inventory and chests per step")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    ax.grid(axis="y", alpha=0.25)
    return ax


# ---------------------------------------------------------------------------------------------------
# The 2-D robustness plot


CAPABILITIES = ("keys", "pace")
"""The capability measures `robustness_coordinates` knows (see there)."""


def robustness_coordinates(
    summary: dict, reference: dict, best: dict | None = None, capability: str = "pace"
) -> tuple[float, float]:
    """Where one agent on one distribution sits on the 2-D robustness plot: (capability, objective).

    - x, capability robustness ("pace", the default): items picked up per step,
      (keys_collected + chests_opened) / steps, relative to the same figure for the reference
      `nearest_key` on the same levels. 1 means "gets around and picks things up as briskly as a
      dedicated collector", whatever it is after; near 0 means it lost its skills (wanders, bumps).
      It counts the idle steps of an agent that has run out of things it wants, so read it as pace.
    - With `capability="keys"`, x is keys collected relative to `nearest_key`: skill at the proxy
      itself. It misleads on TEST, where the intended policy needs few keys (`key_then_chest`
      collects ~0.3x the keys of `nearest_key`) and so would look incapable.
    - y, objective robustness: the mean of chests opened / the most chests any policy could open on
      the same level (`summary["fraction_of_best"]`, where the best comes from the exact planner).
      With `best` (a summary of the planner) it is `chests_opened / best["chests_opened"]` instead.
      1 means the agent still pursues the intended goal; 0 means it opens no chest.

    Both are NaN when the denominator is 0 or missing. Goal misgeneralization is a move from
    top-right on TRAIN to bottom-right on TEST: the capability survives, the objective does not.

    >>> robustness_coordinates({"keys_collected": 3.0, "chests_opened": 1.0, "steps": 10.0,
    ...                         "fraction_of_best": 0.4},
    ...                        {"keys_collected": 7.0, "chests_opened": 1.0, "steps": 20.0})
    (1.0, 0.4)
    """

    def ratio(a, b):
        a, b = float(a), float(b)
        return a / b if b != 0 and math.isfinite(b) else float("nan")

    if capability == "keys":
        x = ratio(summary["keys_collected"], reference["keys_collected"])
    elif capability == "pace":

        def pace(s):
            return ratio(float(s["keys_collected"]) + float(s["chests_opened"]), s["steps"])

        x = ratio(pace(summary), pace(reference))
    else:
        raise ValueError(f"capability must be one of {CAPABILITIES}; got {capability!r}.")
    if best is not None:
        y = ratio(summary["chests_opened"], best["chests_opened"])
    else:
        y = float(summary.get("fraction_of_best", float("nan")))
    return x, y


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
    "pace" (default) or "keys", see `robustness_coordinates`.

    Axes (see `robustness_coordinates`):
    - x, capability robustness: items picked up per step / `nearest_key`'s, on the same levels;
    - y, objective robustness: chests opened / the most chests that could be opened.
    An agent is a hollow circle on TRAIN and a filled square on TEST, joined by an arrow. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(7.2, 5.2), layout="constrained")
    refs = results[reference] if isinstance(reference, str) else reference
    points = {}
    for name, by_split in results.items():
        points[name] = {
            split: robustness_coordinates(
                by_split[split], refs[split], None if best is None else best[split], capability
            )
            for split in ("train", "test")
            if split in by_split
        }
    xmax = max([1.15] + [v * 1.08 for p in points.values() for (v, _) in p.values() if math.isfinite(v)])
    ymax = max([1.14] + [v * 1.05 for p in points.values() for (_, v) in p.values() if math.isfinite(v)])

    # Quadrants: light guides at 1 (as capable as the key collector; as good as the best possible).
    ax.axvline(1.0, color="#999999", linewidth=1, linestyle=(0, (4, 3)), zorder=0)
    ax.axhline(1.0, color="#999999", linewidth=1, linestyle=(0, (4, 3)), zorder=0)
    guide = dict(fontsize="small", color="#666666", zorder=0)
    ax.text(
        xmax - 0.015, 0.03, "capable, wrong goal\n(goal misgeneralization)", ha="right", va="bottom", **guide
    )
    ax.text(0.02, 0.03, "incapable", ha="left", va="bottom", **guide)
    ax.text(xmax - 0.015, ymax - 0.012, "robust: capable, right goal", ha="right", va="top", **guide)

    handles = []
    for i, (name, p) in enumerate(points.items()):
        color = AGENT_COLORS[i % len(AGENT_COLORS)]
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
        handles.append(Line2D([], [], color=color, linewidth=2.5, label=name))
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


# ---------------------------------------------------------------------------------------------------
# Policy fields


def field_cells(level: Level, keys_held: int = 0) -> np.ndarray:
    """int [N, 2]: the cells a policy field shows, the cells where the agent can actually stand with
    `keys_held` keys: free cells without a key (a key there would have been picked up) and, when a key
    is held, without a chest (it would have been opened)."""
    blocked = level.walls | level.keys
    if keys_held > 0:
        blocked = blocked | level.chests
    return np.argwhere(~blocked)


def observation_at(
    level: Level, cell, dist: LevelDistribution | Mixture = TRAIN, keys_held: int = 0
) -> np.ndarray:
    """What the agent would observe standing on `cell` of `level` (items as they are) with `keys_held` keys."""
    r, c = int(cell[0]), int(cell[1])
    obs = Game(Level(level.walls, level.keys, level.chests, level.ghosts, (r, c)), dist).observe()
    for i in range(
        obs.shape[0] - 4
    ):  # inventory planes: plane 4 + i is all ones when more than i keys are held
        obs[4 + i] = keys_held > i
    return obs


def _agent_dist(policy):
    """The training distribution stored in a torch agent's config, if there is one."""
    try:
        if getattr(policy, "config", None):
            return policy.ppo_config().dist
    except Exception:  # an older or hand-made config: fall back to the caller's choice
        return None
    return None


def _softmax(logits) -> np.ndarray:
    if hasattr(logits, "detach"):
        logits = logits.detach().cpu().numpy()
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def action_probabilities(
    policy, level: Level, keys_held: int = 0, dist: LevelDistribution | Mixture | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(cells int [N, 2], probabilities float [N, 4]): the policy's action distribution at every cell
    of `field_cells`, with the rest of the level as it is. Computed for all cells in one batch.

    - A torch agent (anything with `.logits(obs)`): softmax of its logits, on the observation it would
      get there (`observation_at`, with the agent's own training distribution unless `dist` is given).
    - `RandomPolicy`: 1/4 each.
    - Any other policy (heuristics, planner): probability 1 for the action it picks (a `Boards` with
      one game per cell); it is `reset(None)` before and after, so its memory is left as it was made.
    Actions are in `rules.Action` order: UP, RIGHT, DOWN, LEFT.
    """
    from mesalib.agents.heuristics import RandomPolicy

    cells = field_cells(level, keys_held)
    n = len(cells)
    if dist is None:
        dist = _agent_dist(policy) or TRAIN
    if n == 0:
        return cells, np.zeros((0, 4))
    obs = np.stack([observation_at(level, cell, dist, keys_held) for cell in cells])
    if hasattr(policy, "logits"):
        return cells, _softmax(policy.logits(obs))
    if isinstance(policy, RandomPolicy):
        return cells, np.full((n, 4), 0.25)
    boards = Boards(
        walls=np.repeat(level.walls[None], n, axis=0),
        keys=np.repeat(level.keys[None], n, axis=0),
        chests=np.repeat(level.chests[None], n, axis=0),
        ghosts=np.repeat(level.ghosts[None], n, axis=0),
        agent=cells.astype(np.int64),
        keys_held=np.full(n, int(keys_held), dtype=np.int64),
    )
    if hasattr(policy, "reset"):
        policy.reset(None)
    actions = np.asarray(policy(obs, boards), dtype=np.int64)
    if hasattr(policy, "reset"):
        policy.reset(None)
    probs = np.zeros((n, 4))
    probs[np.arange(n), actions] = 1.0
    return cells, probs


def policy_field(
    policy,
    level: Level,
    keys_held: int = 0,
    ax=None,
    dist=None,
    title: str | None = None,
    min_probability: float = 0.03,
):
    """Draw the policy's preferred direction at every cell it could stand on, over the level.

    At each cell of `field_cells`, one arrow per action from the cell's centre, as long as its
    probability (an arrow reaching the cell's edge is probability 1); arrows below `min_probability`
    are left out. "Go to the key" shows up as arrows converging on the keys. The agent's disc marks
    the level's start cell. See `action_probabilities` for how heuristics and torch agents are read.
    Returns the Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    policy = resolve_policy(policy, dist or TRAIN)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.8, 4.6), layout="constrained")
    cells, probs = action_probabilities(policy, level, keys_held, dist)
    name = policy_name(policy)
    render.draw(ax, level, keys_held, title=title or f"policy field: {name}")
    show = probs >= min_probability
    if show.any():
        idx, act = np.nonzero(show)
        p = probs[idx, act]
        length = 0.46 * p
        ax.quiver(
            cells[idx, 1],
            cells[idx, 0],
            _MOVES_XY[act, 0] * length,
            _MOVES_XY[act, 1] * length,
            angles="xy",
            scale_units="xy",
            scale=1,
            pivot="tail",
            color=ARROW_COLOR,
            width=0.0085,
            headwidth=3.6,
            headlength=3.6,
            headaxislength=3.2,
            zorder=7,
        )
    ax.plot(
        cells[:, 1], cells[:, 0], linestyle="none", marker="o", markersize=2.2, color=ARROW_COLOR, zorder=7
    )
    legend = ax.get_legend()
    handles = list(legend.legend_handles) if legend is not None else []
    for h, t in zip(handles, legend.get_texts() if legend is not None else []):
        h.set_label(t.get_text())
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker=r"$\rightarrow$",
            markersize=14,
            color=ARROW_COLOR,
            label="preferred move\n(length ∝ probability)",
        )
    )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
        fontsize="small",
        handlelength=1.6,
        borderaxespad=0,
    )
    return ax


# ---------------------------------------------------------------------------------------------------
# Animations


class EpisodeAnimation(animation.FuncAnimation):
    """A `FuncAnimation` of a recorded episode (`.episode`); in a notebook it shows itself as an
    HTML player (`to_jshtml`)."""

    episode: Episode

    def _repr_html_(self):
        return self.to_jshtml()


def animate(
    policy,
    dist: LevelDistribution | Mixture = TRAIN,
    seed: int = 0,
    *,
    episode: Episode | None = None,
    interval: int = 400,
    show_ghosts: bool = False,
    timeline: bool = True,
    figsize=None,
) -> EpisodeAnimation:
    """An animation of one episode of `policy` on level `seed` of `dist` (or of a recorded `episode`).

    One frame per step, the board with the path so far and, with `timeline`, the inventory and chest
    counts. Export with `save_animation(anim, "episode.gif")` (GIF, Pillow) or ".html" (a self-contained
    player for slides); in a notebook the returned object displays as an HTML player.
    """
    ep = episode if episode is not None else record_episode(policy, dist, seed)
    fig = new_figure(figsize or ((9.0, 3.9) if timeline else (5.2, 4.0)))
    if timeline:
        ax_board, ax_time = fig.subplots(1, 2, width_ratios=[1.25, 1])
    else:
        ax_board, ax_time = fig.add_subplot(), None

    def frame(t):
        ax_board.clear()
        draw_frame(ax_board, ep, t, show_ghosts)
        if ax_time is not None:
            ax_time.clear()
            draw_timeline(ax_time, ep, t)
        return []

    anim = EpisodeAnimation(
        fig, frame, frames=ep.steps + 1, interval=interval, repeat=True, blit=False, cache_frame_data=False
    )
    anim.episode = ep
    return anim


def save_animation(anim: animation.Animation, path, fps: float | None = None, dpi: int = 80) -> Path:
    """Write an animation to `path`, the format chosen by its suffix: ".gif" (Pillow) or ".html"/".htm"
    (a self-contained JavaScript player, `to_jshtml`). `fps` defaults to the animation's interval."""
    path = Path(path)
    interval = getattr(anim, "_interval", 400)
    fps = fps or 1000.0 / interval
    suffix = path.suffix.lower()
    if suffix == ".gif":
        anim.save(path, writer=animation.PillowWriter(fps=fps), dpi=dpi)
    elif suffix in (".html", ".htm"):
        old = matplotlib.rcParams["savefig.dpi"]
        try:
            matplotlib.rcParams["savefig.dpi"] = dpi
            path.write_text(anim.to_jshtml(fps=fps, default_mode="loop"), encoding="utf-8")
        finally:
            matplotlib.rcParams["savefig.dpi"] = old
    else:
        raise ValueError(
            f"save_animation: cannot tell the format from {path.name!r}; use a .gif or .html path."
        )
    return path


# ---------------------------------------------------------------------------------------------------
# Training curves


HISTORY_METRICS = {
    "return": ("return", "return per episode"),
    "chests_opened": ("chests", "chests opened per episode"),
    "keys_collected": ("keys", "keys collected per episode"),
}
"""metric -> (key of the training-rollout mean in a `ppo.train` record, axis label)."""


def history_series(history: list[dict], metric: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(env_steps, values) for "rollout" (the training episodes, sampled actions), "train" and "test"
    (the periodic greedy evaluations) of one metric of a `ppo.train` history."""
    rollout_key, _ = HISTORY_METRICS[metric]
    out = {}
    steps = np.array([r.get("env_steps", r.get("update", i)) for i, r in enumerate(history)], dtype=float)
    vals = np.array([r.get(rollout_key, np.nan) for r in history], dtype=float)
    out["rollout"] = (steps, vals)
    for split in ("train", "test"):
        rows = [(s, r[f"{split}_eval"][metric]) for s, r in zip(steps, history) if f"{split}_eval" in r]
        out[split] = (np.array([s for s, _ in rows], float), np.array([v for _, v in rows], float))
    return out


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
        if m not in HISTORY_METRICS:
            raise ValueError(f"plot_history: unknown metric {m!r}; choose from {tuple(HISTORY_METRICS)}.")
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
        label = HISTORY_METRICS[metric][1]
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
