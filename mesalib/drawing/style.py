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
"""The palette in the order agents without a colour of their own (`COLOR_BY_AGENT`) take it (blue,
vermillion, bluish green, reddish purple, orange, sky blue, black, yellow)."""

COLOR_BY_AGENT = {
    "default": OKABE_ITO["blue"],
    "nearest_key": OKABE_ITO["vermillion"],
    "key_then_chest": OKABE_ITO["bluish_green"],
    "inventory": OKABE_ITO["reddish_purple"],
    "wall_follower": OKABE_ITO["orange"],
    "random": OKABE_ITO["yellow"],
    "planner": OKABE_ITO["black"],
    "you": OKABE_ITO["sky_blue"],
}
"""One colour per agent the lessons keep coming back to, the same in every figure of every lesson:
the trained agent blue, the key proxy vermillion, the intended behaviour green, the best possible
(`Planner(CHESTS)`) black, a person's own play (or its stand-in) sky blue; pale yellow goes to random
moves, the agent that matters least. `agent_color` reads it."""

_AGENT_ALIASES = {
    "default agent": "default",
    "agent": "default",
    "inventory agent": "inventory",
    "nearestkey": "nearest_key",
    "keythenchest": "key_then_chest",
    "wallfollower": "wall_follower",
    "randompolicy": "random",
    "planner(chests)": "planner",
    "best": "planner",
    "stand-in": "you",
    "stand-in (a script)": "you",
    "player": "you",
}


def _agent_key(name: str) -> str:
    """The `COLOR_BY_AGENT` key of a display name ("default agent", "NearestKey", "Planner(CHESTS)")."""
    key = str(name).strip().lower()
    return _AGENT_ALIASES.get(key, _AGENT_ALIASES.get(key.replace("_", ""), key))


def agent_color(name: str) -> str | None:
    """The colour of agent `name` in every figure (`COLOR_BY_AGENT`, common spellings of the names
    accepted), or None for an agent without one."""
    return COLOR_BY_AGENT.get(_agent_key(name))


def agent_colors(names) -> dict[str, str]:
    """name -> colour for the agents of one figure: each its own colour where it has one, the others
    the palette colours (`AGENT_COLORS` order) no agent of this figure uses, so that no two agents of
    a figure share a colour while there are colours left."""
    own = {name: agent_color(name) for name in names}
    free = [c for c in AGENT_COLORS if c not in own.values()] or list(AGENT_COLORS)
    out, k = {}, 0
    for name, color in own.items():
        if color is None:
            color, k = free[k % len(free)], k + 1
        out[name] = color
    return out


SPLIT_STYLE = {
    "train": dict(color=OKABE_ITO["blue"], linestyle="-", marker="o", label="TRAIN"),
    "test": dict(color=OKABE_ITO["vermillion"], linestyle="--", marker="s", label="TEST"),
}
"""How TRAIN and TEST look in every figure: blue solid circles, vermillion dashed squares."""

ARROW_COLOR = "#000000"

INLINE_DPI = 100
"""Pixels per inch of a figure shown inline in Jupyter: matplotlib's `figure.dpi`, which the inline
backend keeps."""

NOTEBOOK_WIDTH_PX = 900
"""The width of a notebook's output area on a laptop (a window 1280 px wide with JupyterLab's file
browser open). A figure wider than this is shrunk to fit, and its text with it, so a figure meant to
be read at its true size is at most `NOTEBOOK_WIDTH_PX / INLINE_DPI` = 9 inches wide."""

MIN_TEXT_PX = 11.0
"""The smallest font size, in screen pixels, of any text a figure shows: 8 pt at `INLINE_DPI` shown at
its true size (matplotlib's own "small" is 8.3 pt). Its digits are about 8 px tall; smaller ones
cannot be read without zooming."""

CELL_NUMBER_PT = 9.0
"""The font size of a number written in a grid cell, for figures at most 9 inches wide: 12.5 px,
about JupyterLab's own output text (13 px)."""


def display_scale(fig: Figure) -> float:
    """How much the inline display shrinks `fig`: 1 while its tight bounding box (what the inline
    backend shows) fits in `NOTEBOOK_WIDTH_PX`, less for a wider figure. Draw the figure first."""
    width_px = fig.get_tightbbox().width * INLINE_DPI
    return min(1.0, NOTEBOOK_WIDTH_PX / width_px)


def shown_text_px(text, fig: Figure, scale: float | None = None) -> float:
    """The font size of a matplotlib Text in screen pixels, as a learner sees `fig` inline: its size
    in points at `INLINE_DPI`, times `display_scale(fig)` (pass `scale` to reuse it)."""
    return text.get_fontsize() * INLINE_DPI / 72 * (display_scale(fig) if scale is None else scale)


def small_texts(fig: Figure) -> list[tuple[str, float]]:
    """(text, shown size in px) of every visible, non-empty text of `fig` smaller than `MIN_TEXT_PX`:
    the ones a learner cannot read. Draws the figure first."""
    from matplotlib.text import Text

    fig.canvas.draw()
    scale = display_scale(fig)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    sizes = [(t.get_text(), shown_text_px(t, fig, scale)) for t in texts]
    return [(s, px) for s, px in sizes if px < MIN_TEXT_PX]


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
