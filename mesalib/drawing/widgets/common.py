"""What the widgets share: displaying as their ipywidgets container, the level pickers, the board image."""

from __future__ import annotations

import ipywidgets as W

from mesalib.env.levels import TEST, TRAIN, LevelDistribution, Mixture


class DisplaysAsWidget:
    """Displays as its `.widget` (an ipywidgets container) in Jupyter."""

    widget: W.Widget

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def dist_options(dist: LevelDistribution | Mixture) -> list[tuple[str, LevelDistribution | Mixture]]:
    """The choices of the levels dropdown: TRAIN and TEST, and `dist` first when it is neither."""
    options: list[tuple[str, LevelDistribution | Mixture]] = [("TRAIN", TRAIN), ("TEST", TEST)]
    if not any(dist == d for _, d in options):
        options.insert(0, ("custom", dist))
    return options


def level_pickers(dist: LevelDistribution | Mixture, seed: int) -> tuple[W.Dropdown, W.BoundedIntText]:
    """A levels dropdown and a seed box: together they pick one level (`analysis.episodes.level_for`)."""
    dist_picker = W.Dropdown(
        options=dist_options(dist),
        value=dist,
        description="levels",
        layout=W.Layout(width="170px"),
        style={"description_width": "45px"},
    )
    seed_box = W.BoundedIntText(
        value=int(seed),
        min=0,
        max=2**31 - 1,
        description="seed",
        layout=W.Layout(width="150px"),
        style={"description_width": "35px"},
    )
    return dist_picker, seed_box


def board_image() -> W.Image:
    """The picture every widget redraws: PNG bytes, shown at their own size."""
    image = W.Image(format="png", layout=W.Layout(width="auto", height="auto"))
    image.add_class("mesalib-board")
    return image


def status_panel() -> W.HTML:
    """The HTML text under or beside the picture."""
    status = W.HTML()
    status.add_class("mesalib-status")
    return status
