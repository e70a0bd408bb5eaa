"""Interactive widgets for the lessons (ipywidgets over the pictures of `drawing`), one module each.

Each function returns a small object that displays itself in Jupyter (put it last in a cell, or call
`display(obj)`) and whose state code can drive: call its methods or set its widgets' values, and the
picture (an `ipywidgets.Image` holding PNG bytes) is redrawn. That is how the tests check them.

- `play(dist, seed)` (`hand_play`): play a level by hand. Arrow buttons; for the keyboard, click the
  small text box and type w/a/s/d (or the vim keys k/h/j/l): each letter typed is one move; "r"
  restarts the level. Every level played is recorded (`Play.recording()`), and "save" writes it for
  `analysis.recorded_play.load_play` (lesson 06 fits goals and rules to it).
- `replay(policy, dist, seed)` (`scrubbers`): scrub through a recorded episode (slider, play/pause).
- `compare(policies, dist, seed)` (`scrubbers`): several policies on the same level, stepping together.
- `field_explorer(policy, dist, seed)` (`policy_field`): `fields.policy_field` with a level and
  keys-held picker.
- `TrainingDashboard` (`training`): live training curves;
  `ppo.train(config, progress=False, callback=dash.update)`. Outside Jupyter it prints one line per
  evaluation instead.

Seeds pick levels exactly as the batched environment does: `play(TEST, seed=3)` shows the first level of
`VecChestsAndKeys(TEST, 1, seed=3)`.
"""

from __future__ import annotations

from mesalib.drawing.widgets.hand_play import ARROWS, BOARD_CELL, KEYMAP, Play, parse_action, play
from mesalib.drawing.widgets.policy_field import FieldExplorer, field_explorer
from mesalib.drawing.widgets.scrubbers import Compare, Replay, compare, replay
from mesalib.drawing.widgets.training import TrainingDashboard, in_notebook

__all__ = [
    "ARROWS",
    "BOARD_CELL",
    "KEYMAP",
    "Compare",
    "FieldExplorer",
    "Play",
    "Replay",
    "TrainingDashboard",
    "compare",
    "field_explorer",
    "in_notebook",
    "parse_action",
    "play",
    "replay",
]
