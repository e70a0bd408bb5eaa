"""What every figure shares: the colour-blind-safe palette, how TRAIN and TEST look, and figures that
turn into the same bytes for the same picture.

The conventions: colours from the Okabe-Ito palette (`OKABE_ITO`), which stays distinguishable under
the common colour-vision deficiencies, and a second cue (marker shape or line style) wherever colour
carries meaning; labelled axes and a legend on every plot; deterministic output (`figure_png` strips
the PNG's software/version stamp so files can be compared).
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

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


def new_figure(figsize=(6, 4)) -> Figure:
    """A matplotlib Figure that pyplot does not track (it never pops up by itself in a notebook)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


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
