"""Replaying a recorded episode: a frame, the timeline of keys and chests, and the animation of both.

The episodes come from `analysis.episodes.record_episode` (one `rules.Game`, any policy); the widgets
replay the same `Episode` objects. Export an animation with `save_animation` (GIF or an HTML player).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib import animation

from mesalib.analysis.episodes import Episode, record_episode
from mesalib.drawing import render
from mesalib.drawing.style import OKABE_ITO, new_figure
from mesalib.env.levels import TRAIN, LevelDistribution, Mixture


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
    for name, label, color, style, _marker in lines:
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
        for name, _label, color, _style, marker in lines:
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
        # matplotlib's stubs say int, but a frame rate such as 2.5 (400 ms per frame) works as it is.
        anim.save(path, writer=animation.PillowWriter(fps=fps), dpi=dpi)  # type: ignore[arg-type]
    elif suffix in (".html", ".htm"):
        old = matplotlib.rcParams["savefig.dpi"]
        try:
            matplotlib.rcParams["savefig.dpi"] = dpi
            html = anim.to_jshtml(fps=fps, default_mode="loop")  # type: ignore[arg-type]  # as above
            path.write_text(html, encoding="utf-8")
        finally:
            matplotlib.rcParams["savefig.dpi"] = old
    else:
        raise ValueError(
            f"save_animation: cannot tell the format from {path.name!r}; use a .gif or .html path."
        )
    return path
