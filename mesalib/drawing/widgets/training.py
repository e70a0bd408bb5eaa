"""`TrainingDashboard`: live training curves and a progress bar, or one printed line per evaluation.

It is a `ppo.train` callback: ``ppo.train(config, progress=False, callback=dash.update)``. Outside
Jupyter (a terminal, a script, the tests) it prints instead of drawing.
"""

from __future__ import annotations

import sys
import time

import ipywidgets as W
import numpy as np

from mesalib.drawing.plots import plot_history
from mesalib.drawing.style import figure_png, new_figure
from mesalib.drawing.widgets.common import DisplaysAsWidget


def in_notebook() -> bool:
    """True inside a running Jupyter kernel (where widgets can be shown), False in a terminal or script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class TrainingDashboard(DisplaysAsWidget):
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
        fig = new_figure((12.0, 3.3))
        plot_history(self.history, ax=fig.subplots(1, 3))
        return fig

    def png(self) -> bytes:
        return figure_png(self.figure(), dpi=80)

    def redraw(self) -> None:
        """Redraw the curves now."""
        if self.history:
            self.image.value = self.png()
            self.redraws += 1
        self._last_draw = time.perf_counter()
