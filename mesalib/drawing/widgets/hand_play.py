"""`play`: a level played by hand, with arrow buttons or letters typed into a box.

ipywidgets has no key events, so the keyboard is a small text box: each letter typed into it is one
move (w/a/s/d, or the vim keys k/h/j/l), and "r" restarts the level. The box keeps what was typed;
select and delete it if it grows long.

Every level played is recorded (`Play.recording()`: the level and the moves, an
`analysis.recorded_play.RecordedPlay`); the "save" button writes it to the file named beside it, for
`recorded_play.load_play` and lesson 06's goal attribution.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as W

from mesalib.analysis.episodes import level_for
from mesalib.analysis.recorded_play import RecordedEpisode, RecordedPlay, save_play
from mesalib.drawing import render
from mesalib.drawing.style import rgb_png
from mesalib.drawing.widgets.common import (
    DisplaysAsWidget,
    board_image,
    dist_options,
    level_pickers,
    status_panel,
)
from mesalib.env.levels import TRAIN, LevelDistribution, Mixture
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


def parse_action(action) -> Action:
    """An Action from an Action, an int 0..3, a name ("up", "RIGHT") or a key letter (w/a/s/d)."""
    if isinstance(action, str):
        text = action.strip()
        if text.lower() in KEYMAP:
            return KEYMAP[text.lower()]
        if text.upper() in Action.__members__:
            return Action[text.upper()]
        raise ValueError(f"Unknown move {action!r}: use UP/RIGHT/DOWN/LEFT, 0-3 or w/d/s/a.")
    return Action(int(action))


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


class Play(DisplaysAsWidget):
    """Play a level by hand. State: `game` (a `rules.Game`), `episode_return`, `last_reward`, `done`,
    `terminated`, `truncated`, `moves`, `played` (the episodes finished or left so far, each a
    `RecordedEpisode`); widgets: `image`, `status`, `buttons` (Action -> Button), `keyboard`,
    `dist_picker`, `seed_box`, `reset_button`, `next_button`, `save_box` (a file name), `save_button`.

    Each restart or change of level ends the current episode; one with at least one move joins
    `played`. `recording()` is everything played, the current episode included; `save()` writes it.
    """

    def __init__(
        self,
        dist: LevelDistribution | Mixture = TRAIN,
        seed: int = 0,
        cell: int = BOARD_CELL,
        save_to: str = "my_play.json",
    ):
        self.cell = int(cell)
        self.played: list[RecordedEpisode] = []
        self.dist_picker, self.seed_box = level_pickers(dist, seed)
        self.reset_button = W.Button(
            description="restart",
            icon="undo",
            tooltip="start this level again (r)",
            layout=W.Layout(width="90px"),
        )
        self.next_button = W.Button(
            description="next level", tooltip="seed + 1", layout=W.Layout(width="95px")
        )
        self.buttons = {a: self._arrow_button(a) for a in Action}
        self.keyboard = W.Text(
            value="",
            placeholder="click, then type w a s d",
            continuous_update=True,
            layout=W.Layout(width="160px"),
        )
        self.keyboard.add_class("mesalib-keyboard")
        self.save_box = W.Text(value=str(save_to), description="file", layout=W.Layout(width="210px"))
        self.save_box.style.description_width = "30px"
        self.save_button = W.Button(
            description="save", icon="save", tooltip="save every level played so far to the file"
        )
        self.save_button.layout.width = "80px"
        self.image = board_image()
        self.status = status_panel()

        self._quiet = False  # True while `reset` sets several pickers: start one new game, not two
        self.reset_button.on_click(lambda _: self.reset())
        self.next_button.on_click(lambda _: self.reset(seed=self.seed + 1))
        self.dist_picker.observe(lambda _: self._new_game(), names="value")
        self.seed_box.observe(lambda _: self._new_game(), names="value")
        self.keyboard.observe(self._typed, names="value")
        self.save_button.on_click(lambda _: self.save())
        self.widget = self._layout()
        self.widget.add_class("mesalib-play")
        self._new_game()

    def _arrow_button(self, action: Action) -> W.Button:
        button = W.Button(
            description=ARROWS[action],
            tooltip=f"{action.name} ({'wdsa'[action]})",
            layout=W.Layout(width="46px", height="38px"),
        )
        button.add_class(f"mesalib-{action.name.lower()}")
        button.on_click(lambda _: self.press(action))
        return button

    def _layout(self) -> W.VBox:
        """Pickers on top; the board, with the arrow pad, keyboard box and status beside it; a legend."""
        blank = W.Box(layout=W.Layout(width="46px"))
        b = self.buttons
        pad = W.VBox(
            [
                W.HBox([blank, b[Action.UP], blank]),
                W.HBox([b[Action.LEFT], b[Action.DOWN], b[Action.RIGHT]]),
            ],
            layout=W.Layout(align_items="center"),
        )
        side = W.VBox(
            [
                pad,
                W.HTML("<small>keyboard: type into the box</small>"),
                self.keyboard,
                self.status,
                W.HBox([self.save_box, self.save_button]),
            ],
            layout=W.Layout(margin="0 0 0 12px", width="300px"),
        )
        return W.VBox(
            [
                W.HBox([self.dist_picker, self.seed_box, self.reset_button, self.next_button]),
                W.HBox([self.image, side]),
                W.HTML(f"<small>{_LEGEND_HTML}</small>"),
            ]
        )

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
        action = parse_action(action)
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
                    self.dist_picker.options = dist_options(dist)
                self.dist_picker.value = dist
            if seed is not None:
                self.seed_box.value = int(seed)
        finally:
            self._quiet = False
        self._new_game()

    def current_episode(self) -> RecordedEpisode:
        """The episode being played: this level, the moves so far."""
        return RecordedEpisode(self.game.dist, self.level, [int(m) for m in self.moves], self.game_seed)

    def recording(self, player: str = "you") -> RecordedPlay:
        """Every episode played so far with at least one move, the current one included."""
        current = [self.current_episode()] if self.moves else []
        return RecordedPlay([*self.played, *current], player=player)

    def save(self, path: str | Path | None = None, player: str = "you") -> Path:
        """Write `recording()` to `path` (default: the file named in `save_box`); return the path."""
        play = self.recording(player)
        path = save_play(play, self.save_box.value if path is None else path)
        self.message = f"saved {len(play)} episodes, {play.decisions} moves, to {path}"
        self._redraw(board=False)
        return path

    def _new_game(self) -> None:
        if self._quiet:
            return
        if getattr(self, "moves", None):
            self.played.append(self.current_episode())
        self.game_seed = self.seed
        self.level = level_for(self.dist, self.seed)
        self.game = Game(self.level, self.dist)
        self.moves: list[Action] = []
        self.episode_return = 0.0
        self.last_reward = 0.0
        self.terminated = self.truncated = False
        self.message = "Your move: open as many chests as you can (each chest takes one key)."
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
        return rgb_png(render.rgb_array(self.game.level(), self.game.keys_held, cell=self.cell))

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


def play(dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, save_to: str = "my_play.json") -> Play:
    """Play level `seed` of `dist` by hand (see `Play`); the save button writes what you played to
    `save_to`."""
    return Play(dist, seed, save_to=save_to)
