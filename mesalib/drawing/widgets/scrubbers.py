"""`replay` and `compare`: recorded episodes scrubbed step by step with a slider and play/pause.

Both record first (`analysis.episodes.record_episode`) and draw later: each step's picture is
drawn on demand and cached, so scrubbing back and forth is instant after the first pass.

The slider's number never runs ahead of the picture. ipywidgets sends a changed value to the browser
before it calls the code that observes it, so a slider linked to the player (and redrawing when it
changes) showed step t + 1 over the picture of step t for as long as drawing took. Here the player
and the slider only ask for a step; the picture and the status line are drawn and sent first, and
the numbers are set after them.
"""

from __future__ import annotations

import ipywidgets as W
import numpy as np

from mesalib.analysis.episodes import Episode, record_episode
from mesalib.drawing.replay import draw_frame, draw_timeline
from mesalib.drawing.style import figure_png, new_figure
from mesalib.drawing.widgets.common import DisplaysAsWidget, board_image, status_panel
from mesalib.env.levels import TRAIN, LevelDistribution, Mixture


class _Scrubber(DisplaysAsWidget):
    """A step slider with play/pause: either asks for a step, `show` draws it and then moves both
    (so setting either from code, or calling `show`, works too).

    Subclasses say what one step looks like (`_render`, PNG bytes) and what the status line says
    (`_status_html`)."""

    def _make_controls(self, last: int, interval: int):
        self.slider = W.IntSlider(
            value=0,
            min=0,
            max=last,
            description="step",
            continuous_update=True,
            layout=W.Layout(width="420px"),
        )
        self.player = W.Play(value=0, min=0, max=last, interval=interval, description="play")
        self.image = board_image()
        self.status = status_panel()
        self._cache: dict[int, bytes] = {}
        self._shown = -1
        self.slider.observe(self._on_step, names="value")
        self.player.observe(self._on_step, names="value")

    def _render(self, t: int) -> bytes:
        raise NotImplementedError

    def _status_html(self) -> str:
        raise NotImplementedError

    @property
    def t(self) -> int:
        """The step whose picture is shown."""
        return self._shown

    def show(self, t: int) -> None:
        """Show step t (clamped to the episode): its picture and status line, then the slider's number."""
        t = max(self.slider.min, min(int(t), self.slider.max))
        if t != self._shown:
            picture = self.png(t)  # drawing takes a while the first time: before anything changes
            self._shown = t
            self.image.value = picture
            self.status.value = self._status_html()
        self.slider.value = t
        self.player.value = t

    def _on_step(self, change) -> None:
        """The slider (dragged) or the player (playing) asks for a step."""
        self.show(change["new"])

    def step(self, n: int = 1) -> None:
        self.show(self.t + n)

    def png(self, t: int | None = None) -> bytes:
        t = self.t if t is None else int(t)
        if t not in self._cache:
            self._cache[t] = self._render(t)
        return self._cache[t]


# ---------------------------------------------------------------------------------------------------
# replay


class Replay(_Scrubber):
    """One recorded episode (`episode`, a `Episode`), scrubbed with `slider` / `player`."""

    def __init__(
        self,
        policy,
        dist: LevelDistribution | Mixture = TRAIN,
        seed: int = 0,
        *,
        show_ghosts: bool = False,
        interval: int = 500,
        episode: Episode | None = None,
    ):
        self.episode = episode if episode is not None else record_episode(policy, dist, seed)
        self.show_ghosts = show_ghosts
        self._make_controls(self.episode.steps, interval)
        self.widget = W.VBox([W.HBox([self.player, self.slider]), self.status, self.image])
        self.widget.add_class("mesalib-replay")
        self.show(0)

    def status_text(self, t: int | None = None) -> str:
        return self.episode.describe(self.t if t is None else t)

    def _status_html(self) -> str:
        return f"<b>{self.episode.policy}</b> · {self.status_text()}"

    def _render(self, t: int) -> bytes:
        fig = new_figure((9.0, 3.9))
        ax_board, ax_time = fig.subplots(1, 2, width_ratios=[1.25, 1])
        draw_frame(ax_board, self.episode, t, self.show_ghosts)
        draw_timeline(ax_time, self.episode, t)
        return figure_png(fig, dpi=85)


def replay(policy, dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, **kwargs) -> Replay:
    """Record one episode of `policy` (an object or a name in `policies.POLICIES`) on level `seed` of
    `dist` and scrub through it (see `Replay`)."""
    return Replay(policy, dist, seed, **kwargs)


# ---------------------------------------------------------------------------------------------------
# compare


def _record_all(policies, dist: LevelDistribution | Mixture, seed: int) -> list[Episode]:
    """One episode per policy on the same level; a dict's keys become the episodes' names."""
    items = list(policies.items()) if isinstance(policies, dict) else [(None, p) for p in policies]
    if len(items) < 1:
        raise ValueError("compare: give at least one policy (two or more to compare).")
    episodes = []
    for label, policy in items:
        episode = record_episode(policy, dist, seed)
        if label is not None:
            episode.policy = str(label)
        episodes.append(episode)
    return episodes


class Compare(_Scrubber):
    """Several policies on the same level, all shown at the same step. `episodes` holds one
    `Episode` per policy; `step_button` moves all one step, `back_button` one back,
    `start_button` to the start."""

    def __init__(
        self,
        policies,
        dist: LevelDistribution | Mixture = TRAIN,
        seed: int = 0,
        *,
        show_ghosts: bool = False,
        interval: int = 600,
    ):
        self.episodes = _record_all(policies, dist, seed)
        self.show_ghosts = show_ghosts
        self._make_controls(max(ep.steps for ep in self.episodes), interval)
        self.step_button = W.Button(description="step", icon="step-forward", tooltip="all policies: one step")
        self.back_button = W.Button(
            description="back", icon="step-backward", tooltip="all policies: one step back"
        )
        self.start_button = W.Button(description="start", icon="fast-backward", tooltip="back to step 0")
        self.step_button.add_class("mesalib-step")
        self.step_button.on_click(lambda _: self.step(1))
        self.back_button.on_click(lambda _: self.step(-1))
        self.start_button.on_click(lambda _: self.show(0))
        buttons = [self.start_button, self.back_button, self.step_button]
        self.widget = W.VBox([W.HBox([*buttons, self.player, self.slider]), self.status, self.image])
        self.widget.add_class("mesalib-compare")
        self.show(0)

    def frame(self, i: int, t: int | None = None) -> dict:
        """Policy i's running totals at step t (its last ones once its episode is over)."""
        ep = self.episodes[i]
        return ep.infos[min(self.t if t is None else int(t), ep.steps)]

    def status_text(self) -> str:
        lines = []
        for i, ep in enumerate(self.episodes):
            info = self.frame(i)
            end = f" · finished at step {ep.steps} ({ep.ending()[7:]})" if self.t >= ep.steps else ""
            lines.append(
                f"{ep.policy}: chests opened {info['chests_opened']} · keys collected "
                f"{info['keys_collected']} · keys held {info['keys_held']}{end}"
            )
        return f"step {self.t} / {self.slider.max}\n" + "\n".join(lines)

    def _status_html(self) -> str:
        first, *rest = self.status_text().split("\n")
        return f"<b>{first}</b><br>" + "<br>".join(rest)

    def _render(self, t: int) -> bytes:
        n = len(self.episodes)
        fig = new_figure((3.6 * n + 1.6, 3.9))
        axes = np.atleast_1d(fig.subplots(1, n))
        for i, (ax, ep) in enumerate(zip(axes, self.episodes)):
            shown = min(t, ep.steps)
            info = ep.infos[shown]
            title = f"{ep.policy}\nchests {info['chests_opened']} · keys {info['keys_collected']}" + (
                " · done" if t >= ep.steps and t > 0 else ""
            )
            draw_frame(ax, ep, shown, self.show_ghosts, title=title)
            legend = ax.get_legend()
            if i < n - 1 and legend is not None:  # one legend, on the right, is enough
                legend.remove()
        return figure_png(fig, dpi=85)


def compare(policies, dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, **kwargs) -> Compare:
    """Two or more policies (a list of objects or names, or a dict label -> policy) on level `seed` of
    `dist`, side by side, stepping together (see `Compare`)."""
    return Compare(policies, dist, seed, **kwargs)
