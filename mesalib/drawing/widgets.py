"""Interactive widgets for the lessons (ipywidgets on top of `render.py` and `plots.py`).

Each function returns a small object that displays itself in Jupyter (put it last in a cell, or call
`display(obj)`) and whose state code can drive: call its methods or set its widgets' values, and the
picture (an `ipywidgets.Image` holding PNG bytes) is redrawn. That is how the tests check them.

- `play(dist, seed)`: play a level by hand. Arrow buttons; for the keyboard, click the small text box
  and type w/a/s/d (or the vim keys k/h/j/l): ipywidgets has no key events, so each letter typed into
  the box is one move (the box keeps what was typed; select and delete it if it grows long). "r"
  restarts the level.
- `replay(policy, dist, seed)`: scrub through a recorded episode (slider, play/pause).
- `compare(policies, dist, seed)`: several policies on the same level, stepping together.
- `field_explorer(policy, dist, seed)`: `plots.policy_field` with a level and keys-held picker.
- `TrainingDashboard`: live training curves; `ppo.train(config, progress=False, callback=dash.update)`.
  Outside Jupyter it prints one line per evaluation instead.

Seeds pick levels exactly as the batched environment does: `play(TEST, seed=3)` shows the first level of
`VecChestsAndKeys(TEST, 1, seed=3)`.
"""

from __future__ import annotations

import sys
import time

import ipywidgets as W
import numpy as np

from mesalib.drawing import plots, render
from mesalib.env.levels import TEST, TRAIN, LevelDistribution, Mixture
from mesalib.env.rules import Action, Game

BOARD_CELL = 40
"""Pixels per cell of the board in `play` (a 9x9 level is 360 pixels wide)."""

KEYMAP = {
    "w": Action.UP,
    "k": Action.UP,
    "d": Action.RIGHT,
    "l": Action.RIGHT,
    "s": Action.DOWN,
    "j": Action.DOWN,
    "a": Action.LEFT,
    "h": Action.LEFT,
}
"""Letters typed into `play`'s keyboard box, and the move each one makes."""

ARROWS = {Action.UP: "▲", Action.RIGHT: "▶", Action.DOWN: "▼", Action.LEFT: "◀"}


def _swatch(color: str, label: str, round_: bool = False) -> str:
    radius = "50%" if round_ else "2px"
    return (
        f"<span style='display:inline-block;width:10px;height:10px;background:{color};"
        f"border:1px solid #1B1B1F;border-radius:{radius};margin:0 3px 0 8px'></span>{label}"
    )


_LEGEND_HTML = (
    _swatch(render.AGENT_COLOR, "you", True)
    + _swatch(render.KEY_COLOR, "key")
    + _swatch(render.CHEST_COLOR, "chest")
    + _swatch(render.WALL_COLOR, "wall")
    + "<span style='color:#555;margin-left:12px'>keys you hold appear on the top wall</span>"
)


def _action(action) -> Action:
    """An Action from an Action, an int 0..3, a name ("up", "RIGHT") or a key letter (w/a/s/d)."""
    if isinstance(action, str):
        text = action.strip()
        if text.lower() in KEYMAP:
            return KEYMAP[text.lower()]
        if text.upper() in Action.__members__:
            return Action[text.upper()]
        raise ValueError(f"Unknown move {action!r}: use UP/RIGHT/DOWN/LEFT, 0-3 or w/d/s/a.")
    return Action(int(action))


def _dist_options(dist) -> list[tuple[str, object]]:
    options = [("TRAIN", TRAIN), ("TEST", TEST)]
    if not any(dist == d for _, d in options):
        options.insert(0, ("custom", dist))
    return options


class _Widget:
    """Displays as its `.widget` (an ipywidgets container) in Jupyter."""

    widget: W.Widget

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


# ---------------------------------------------------------------------------------------------------
# play


class Play(_Widget):
    """Play a level by hand. State: `game` (a `rules.Game`), `episode_return`, `last_reward`, `done`,
    `terminated`, `truncated`, `moves`; widgets: `image`, `status`, `buttons` (Action -> Button),
    `keyboard`, `dist_picker`, `seed_box`, `reset_button`, `next_button`."""

    def __init__(self, dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, cell: int = BOARD_CELL):
        self.cell = int(cell)
        self.dist_picker = W.Dropdown(
            options=_dist_options(dist),
            value=dist,
            description="levels",
            layout=W.Layout(width="170px"),
            style={"description_width": "45px"},
        )
        self.seed_box = W.BoundedIntText(
            value=int(seed),
            min=0,
            max=2**31 - 1,
            description="seed",
            layout=W.Layout(width="150px"),
            style={"description_width": "35px"},
        )
        self.reset_button = W.Button(
            description="restart",
            icon="undo",
            tooltip="start this level again (r)",
            layout=W.Layout(width="90px"),
        )
        self.next_button = W.Button(
            description="next level", tooltip="seed + 1", layout=W.Layout(width="95px")
        )
        self.buttons = {
            a: W.Button(
                description=ARROWS[a],
                tooltip=f"{a.name} ({'wdsa'[a]})",
                layout=W.Layout(width="46px", height="38px"),
            )
            for a in Action
        }
        for a, button in self.buttons.items():
            button.add_class(f"mesalib-{a.name.lower()}")
            button.on_click(lambda _, a=a: self.press(a))
        self.keyboard = W.Text(
            value="",
            placeholder="click, then type w a s d",
            continuous_update=True,
            layout=W.Layout(width="160px"),
        )
        self.keyboard.add_class("mesalib-keyboard")
        self.image = W.Image(format="png", layout=W.Layout(width="auto", height="auto"))
        self.image.add_class("mesalib-board")
        self.status = W.HTML()
        self.status.add_class("mesalib-status")

        self._quiet = False
        self.reset_button.on_click(lambda _: self.reset())
        self.next_button.on_click(lambda _: self.reset(seed=self.seed + 1))
        self.dist_picker.observe(lambda _: self._new_game(), names="value")
        self.seed_box.observe(lambda _: self._new_game(), names="value")
        self.keyboard.observe(self._typed, names="value")

        blank = W.Box(layout=W.Layout(width="46px"))
        pad = W.VBox(
            [
                W.HBox([blank, self.buttons[Action.UP], blank]),
                W.HBox([self.buttons[Action.LEFT], self.buttons[Action.DOWN], self.buttons[Action.RIGHT]]),
            ],
            layout=W.Layout(align_items="center"),
        )
        side = W.VBox(
            [pad, W.HTML("<small>keyboard: type into the box</small>"), self.keyboard, self.status],
            layout=W.Layout(margin="0 0 0 12px", width="300px"),
        )
        self.widget = W.VBox(
            [
                W.HBox([self.dist_picker, self.seed_box, self.reset_button, self.next_button]),
                W.HBox([self.image, side]),
                W.HTML(f"<small>{_LEGEND_HTML}</small>"),
            ]
        )
        self.widget.add_class("mesalib-play")
        self._new_game()

    # -- state
    @property
    def dist(self):
        return self.dist_picker.value

    @property
    def seed(self) -> int:
        return int(self.seed_box.value)

    @property
    def steps(self) -> int:
        return self.game.steps

    @property
    def keys_held(self) -> int:
        return self.game.keys_held

    @property
    def info(self) -> dict:
        return self.game.info()

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    # -- actions
    def press(self, action) -> float:
        """Make one move (an `Action`, 0-3, "up"... or "w"/"a"/"s"/"d"); return its reward. Ignored
        (reward 0) once the episode is over."""
        action = _action(action)
        if self.done:
            self.message = "The episode is over: press restart or pick another level."
            self._redraw(board=False)
            return 0.0
        reward, self.terminated, self.truncated = self.game.step(int(action))
        self.moves.append(action)
        self.last_reward = float(reward) + 0.0  # no "-0" when the step penalty is zero
        self.episode_return += float(reward)
        self.message = f"moved {action.name}" + (": chest opened, +1" if reward > 0 else "")
        self._redraw()
        return self.last_reward

    def reset(self, seed: int | None = None, dist=None) -> None:
        """Start again: the same level, or the level of `seed` (and `dist`) when given."""
        self._quiet = True
        try:
            if dist is not None:
                if not any(dist == d for _, d in self.dist_picker.options):
                    self.dist_picker.options = _dist_options(dist)
                self.dist_picker.value = dist
            if seed is not None:
                self.seed_box.value = int(seed)
        finally:
            self._quiet = False
        self._new_game()

    def _new_game(self) -> None:
        if self._quiet:
            return
        self.level = plots.level_for(self.dist, self.seed)
        self.game = Game(self.level, self.dist)
        self.moves: list[Action] = []
        self.episode_return = 0.0
        self.last_reward = 0.0
        self.terminated = self.truncated = False
        self.message = "Your move: collect keys, then open chests."
        self._redraw()

    def _typed(self, change) -> None:
        # Only the letters appended since the last value count. The kernel never writes to the box:
        # clearing it from here would race with fast typing in the browser and replay letters.
        old, new = change["old"] or "", change["new"] or ""
        if len(new) <= len(old) or not new.startswith(old):
            return
        for ch in new[len(old) :].lower():
            if ch in KEYMAP:
                self.press(KEYMAP[ch])
            elif ch == "r":
                self.reset()

    # -- drawing
    def png(self) -> bytes:
        """The board as PNG bytes (what `image` shows)."""
        return plots.rgb_png(render.rgb_array(self.game.level(), self.game.keys_held, cell=self.cell))

    def status_text(self) -> str:
        """The status panel as plain text."""
        info = self.game.info()
        lines = [
            f"step {info['steps']} / {self.dist.max_steps}",
            f"keys held {info['keys_held']}",
            f"keys collected {info['keys_collected']} · chests opened {info['chests_opened']}",
            f"return {self.episode_return:g} (last reward {self.last_reward:+g})",
        ]
        if self.terminated:
            lines.append("episode over: no chest can be opened any more")
        elif self.truncated:
            lines.append("episode over: step limit reached")
        else:
            lines.append("playing")
        lines.append(self.message)
        return "\n".join(lines)

    def _redraw(self, board: bool = True) -> None:
        if board:
            self.image.value = self.png()
        first, *rest = self.status_text().split("\n")
        color = "#D55E00" if self.done else "#333"
        body = "<br>".join(rest[:-2]) + f"<br><b style='color:{color}'>{rest[-2]}</b><br><i>{rest[-1]}</i>"
        self.status.value = f"<div style='line-height:1.5'><b>{first}</b><br>{body}</div>"
        for button in self.buttons.values():
            button.disabled = self.done


def play(dist: LevelDistribution | Mixture = TRAIN, seed: int = 0) -> Play:
    """Play level `seed` of `dist` by hand (see `Play`)."""
    return Play(dist, seed)


# ---------------------------------------------------------------------------------------------------
# replay and compare


class _Scrubber(_Widget):
    """A step slider with play/pause, kernel-side linked (so setting either from code works too)."""

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
        self._link = W.link((self.player, "value"), (self.slider, "value"))
        self.slider.observe(lambda _: self._redraw(), names="value")
        self.image = W.Image(format="png", layout=W.Layout(width="auto", height="auto"))
        self.image.add_class("mesalib-board")
        self.status = W.HTML()
        self.status.add_class("mesalib-status")
        self._cache: dict[int, bytes] = {}

    @property
    def t(self) -> int:
        """The step shown."""
        return int(self.slider.value)

    def show(self, t: int) -> None:
        """Show step t (clamped to the episode)."""
        self.slider.value = max(self.slider.min, min(int(t), self.slider.max))

    def step(self, n: int = 1) -> None:
        self.show(self.t + n)

    def png(self, t: int | None = None) -> bytes:
        t = self.t if t is None else int(t)
        if t not in self._cache:
            self._cache[t] = self._render(t)
        return self._cache[t]

    def _redraw(self) -> None:
        self.image.value = self.png()
        self.status.value = self._status_html()


class Replay(_Scrubber):
    """One recorded episode (`episode`, a `plots.Episode`), scrubbed with `slider` / `player`."""

    def __init__(
        self,
        policy,
        dist: LevelDistribution | Mixture = TRAIN,
        seed: int = 0,
        *,
        show_ghosts: bool = False,
        interval: int = 500,
        episode: plots.Episode | None = None,
    ):
        self.episode = episode if episode is not None else plots.record_episode(policy, dist, seed)
        self.show_ghosts = show_ghosts
        self._make_controls(self.episode.steps, interval)
        self.widget = W.VBox([W.HBox([self.player, self.slider]), self.status, self.image])
        self.widget.add_class("mesalib-replay")
        self._redraw()

    def status_text(self, t: int | None = None) -> str:
        return self.episode.describe(self.t if t is None else t)

    def _status_html(self) -> str:
        return f"<b>{self.episode.policy}</b> · {self.status_text()}"

    def _render(self, t: int) -> bytes:
        fig = plots.new_figure((9.0, 3.9))
        ax_board, ax_time = fig.subplots(1, 2, width_ratios=[1.25, 1])
        plots.draw_frame(ax_board, self.episode, t, self.show_ghosts)
        plots.draw_timeline(ax_time, self.episode, t)
        return plots.figure_png(fig, dpi=85)


def replay(policy, dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, **kwargs) -> Replay:
    """Record one episode of `policy` (an object or a name in `policies.POLICIES`) on level `seed` of
    `dist` and scrub through it (see `Replay`)."""
    return Replay(policy, dist, seed, **kwargs)


class Compare(_Scrubber):
    """Several policies on the same level, all shown at the same step. `episodes` holds one
    `plots.Episode` per policy; `step_button` moves all one step, `back_button` one back,
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
        if isinstance(policies, dict):
            items = list(policies.items())
        else:
            items = [(None, p) for p in policies]
        if len(items) < 1:
            raise ValueError("compare: give at least one policy (two or more to compare).")
        self.episodes = []
        for label, p in items:
            ep = plots.record_episode(p, dist, seed)
            if label is not None:
                ep.policy = str(label)
            self.episodes.append(ep)
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
        self.widget = W.VBox(
            [
                W.HBox([self.start_button, self.back_button, self.step_button, self.player, self.slider]),
                self.status,
                self.image,
            ]
        )
        self.widget.add_class("mesalib-compare")
        self._redraw()

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
        fig = plots.new_figure((3.6 * n + 1.6, 3.9))
        axes = np.atleast_1d(fig.subplots(1, n))
        for i, (ax, ep) in enumerate(zip(axes, self.episodes)):
            shown = min(t, ep.steps)
            info = ep.infos[shown]
            title = f"{ep.policy}\nchests {info['chests_opened']} · keys {info['keys_collected']}" + (
                " · done" if t >= ep.steps and t > 0 else ""
            )
            plots.draw_frame(ax, ep, shown, self.show_ghosts, title=title)
            if i < n - 1 and ax.get_legend() is not None:
                ax.get_legend().remove()
        return plots.figure_png(fig, dpi=85)


def compare(policies, dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, **kwargs) -> Compare:
    """Two or more policies (a list of objects or names, or a dict label -> policy) on level `seed` of
    `dist`, side by side, stepping together (see `Compare`)."""
    return Compare(policies, dist, seed, **kwargs)


# ---------------------------------------------------------------------------------------------------
# policy field explorer


class FieldExplorer(_Widget):
    """`plots.policy_field` for a level picked by distribution and seed, with a keys-held slider."""

    def __init__(
        self,
        policy,
        dist: LevelDistribution | Mixture = TRAIN,
        seed: int = 0,
        keys_held: int = 0,
        obs_dist: LevelDistribution | Mixture | None = None,
    ):
        self.policy = plots.resolve_policy(policy, dist)
        self.obs_dist = obs_dist
        self.dist_picker = W.Dropdown(
            options=_dist_options(dist),
            value=dist,
            description="levels",
            layout=W.Layout(width="170px"),
            style={"description_width": "45px"},
        )
        self.seed_box = W.BoundedIntText(
            value=int(seed),
            min=0,
            max=2**31 - 1,
            description="seed",
            layout=W.Layout(width="150px"),
            style={"description_width": "35px"},
        )
        self.keys_slider = W.IntSlider(value=int(keys_held), min=0, max=3, description="keys held")
        self.image = W.Image(format="png", layout=W.Layout(width="auto", height="auto"))
        self.image.add_class("mesalib-board")
        for w in (self.dist_picker, self.seed_box, self.keys_slider):
            w.observe(lambda _: self._redraw(), names="value")
        self.widget = W.VBox([W.HBox([self.dist_picker, self.seed_box, self.keys_slider]), self.image])
        self._redraw()

    @property
    def level(self):
        return plots.level_for(self.dist_picker.value, int(self.seed_box.value))

    def png(self) -> bytes:
        fig = plots.new_figure((6.8, 4.6))
        plots.policy_field(
            self.policy, self.level, int(self.keys_slider.value), ax=fig.add_subplot(), dist=self.obs_dist
        )
        return plots.figure_png(fig, dpi=85)

    def _redraw(self) -> None:
        self.image.value = self.png()


def field_explorer(
    policy, dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, keys_held: int = 0, **kwargs
) -> FieldExplorer:
    """A policy field (see `plots.policy_field`) with pickers for the level and the keys held."""
    return FieldExplorer(policy, dist, seed, keys_held, **kwargs)


# ---------------------------------------------------------------------------------------------------
# training dashboard


def in_notebook() -> bool:
    """True inside a running Jupyter kernel (where widgets can be shown), False in a terminal or script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class TrainingDashboard(_Widget):
    """Live training curves and a progress bar for `ppo.train`:

        dash = TrainingDashboard(config)
        agent, history = ppo.train(config, progress=False, callback=dash.update)

    Every record goes to `history`; the curves (`plots.plot_history`: return, chests opened, keys
    collected, on TRAIN and TEST) are redrawn on each evaluation record and at most every
    `redraw_seconds` otherwise. In Jupyter it shows itself on the first `update` (or where you display
    it); elsewhere (`mode="text"`, the default outside a kernel) it prints one line per evaluation
    and one at the end. `update` returns None, so it never stops training.
    """

    def __init__(
        self,
        config=None,
        total_steps: int | None = None,
        mode: str = "auto",
        redraw_seconds: float = 5.0,
        file=None,
        title: str = "PPO training",
    ):
        if mode not in ("auto", "widget", "text"):
            raise ValueError(f"TrainingDashboard: mode must be 'auto', 'widget' or 'text'; got {mode!r}.")
        self.mode = ("widget" if in_notebook() else "text") if mode == "auto" else mode
        if total_steps is None and config is not None:
            total_steps = config.num_updates * config.batch_size
        self.total_steps = total_steps
        self.title = title
        self.redraw_seconds = redraw_seconds
        self.file = file
        self.history: list[dict] = []
        self.lines: list[str] = []
        self.redraws = 0
        self._last_draw = -float("inf")
        self._displayed = False
        self.progress = W.FloatProgress(
            value=0.0,
            min=0.0,
            max=1.0,
            description="progress",
            bar_style="info",
            layout=W.Layout(width="420px"),
        )
        self.label = W.HTML(f"<b>{title}</b>: waiting for the first update")
        self.image = W.Image(format="png", layout=W.Layout(width="auto", height="auto"))
        self.widget = W.VBox([W.HBox([self.progress, self.label]), self.image])
        self.widget.add_class("mesalib-dashboard")

    def _ipython_display_(self):
        self._displayed = True
        super()._ipython_display_()

    def update(self, record: dict) -> None:
        """Take one `ppo.train` record (use as `callback=dash.update`)."""
        self.history.append(record)
        done = self.total_steps is not None and record.get("env_steps", 0) >= self.total_steps
        evaluated = "train_eval" in record or "test_eval" in record
        if self.mode == "text":
            if evaluated or done or len(self.history) == 1:
                self._print(self.text_line(record))
            return None
        if not self._displayed:
            self._ipython_display_()
        if self.total_steps:
            self.progress.value = min(1.0, record.get("env_steps", 0) / self.total_steps)
        if done:
            self.progress.bar_style = "success"
        self.label.value = f"<b>{self.title}</b>: {self.text_line(record)}"
        now = time.perf_counter()
        if evaluated or done or now - self._last_draw >= self.redraw_seconds:
            self.redraw()
        return None

    __call__ = update

    def text_line(self, record: dict) -> str:
        """One line about a record: progress, speed, training return and the latest evaluations."""
        steps = record.get("env_steps", 0)
        parts = [f"update {record.get('update', len(self.history))}"]
        if self.total_steps:
            parts.append(f"{steps:,} / {self.total_steps:,} steps ({100 * steps / self.total_steps:.0f}%)")
        else:
            parts.append(f"{steps:,} steps")
        if "steps_per_s" in record:
            parts.append(f"{record['steps_per_s']:,.0f} steps/s")
        if np.isfinite(record.get("return", np.nan)):
            parts.append(f"return {record['return']:.2f}")
        for split in ("train", "test"):
            last = next((r[f"{split}_eval"] for r in reversed(self.history) if f"{split}_eval" in r), None)
            if last is not None:
                parts.append(
                    f"{split.upper()} chests {last['chests_opened']:.2f} keys {last['keys_collected']:.2f}"
                )
        return " | ".join(parts)

    def _print(self, line: str) -> None:
        self.lines.append(line)
        print(line, file=self.file or sys.stdout, flush=True)

    def figure(self):
        """The curves so far as a new (pyplot-free) figure."""
        fig = plots.new_figure((12.0, 3.3))
        plots.plot_history(self.history, ax=fig.subplots(1, 3))
        return fig

    def png(self) -> bytes:
        return plots.figure_png(self.figure(), dpi=80)

    def redraw(self) -> None:
        """Redraw the curves now."""
        if self.history:
            self.image.value = self.png()
            self.redraws += 1
        self._last_draw = time.perf_counter()
