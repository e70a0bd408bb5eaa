"""`field_explorer`: a policy's field of preferred moves (`fields.policy_field`) on a level you pick."""

from __future__ import annotations

import ipywidgets as W

from mesalib.agents.registry import resolve
from mesalib.analysis.episodes import level_for
from mesalib.drawing.fields import policy_field
from mesalib.drawing.style import figure_png, new_figure
from mesalib.drawing.widgets.common import DisplaysAsWidget, board_image, level_pickers
from mesalib.env.levels import TRAIN, LevelDistribution, Mixture


class FieldExplorer(DisplaysAsWidget):
    """`fields.policy_field` for a level picked by distribution and seed, with a keys-held slider."""

    def __init__(
        self,
        policy,
        dist: LevelDistribution | Mixture = TRAIN,
        seed: int = 0,
        keys_held: int = 0,
        obs_dist: LevelDistribution | Mixture | None = None,
    ):
        self.policy = resolve(policy, dist)
        self.obs_dist = obs_dist
        self.dist_picker, self.seed_box = level_pickers(dist, seed)
        self.keys_slider = W.IntSlider(value=int(keys_held), min=0, max=3, description="keys held")
        self.image = board_image()
        for w in (self.dist_picker, self.seed_box, self.keys_slider):
            w.observe(lambda _: self._redraw(), names="value")
        self.widget = W.VBox([W.HBox([self.dist_picker, self.seed_box, self.keys_slider]), self.image])
        self._redraw()

    @property
    def level(self):
        return level_for(self.dist_picker.value, int(self.seed_box.value))

    def png(self) -> bytes:
        fig = new_figure((6.8, 4.6))
        policy_field(
            self.policy, self.level, int(self.keys_slider.value), ax=fig.add_subplot(), dist=self.obs_dist
        )
        return figure_png(fig, dpi=85)

    def _redraw(self) -> None:
        self.image.value = self.png()


def field_explorer(
    policy, dist: LevelDistribution | Mixture = TRAIN, seed: int = 0, keys_held: int = 0, **kwargs
) -> FieldExplorer:
    """A policy field (see `fields.policy_field`) with pickers for the level and the keys held."""
    return FieldExplorer(policy, dist, seed, keys_held, **kwargs)
