"""Levels drawn as text, for tests: `mesalib.env.pictures.level_from_text`, with a default agent."""

from __future__ import annotations

from mesalib.env.pictures import level_from_text


def make_level(rows):
    """A level from text: # wall, k key, c chest, g ghost chest, A agent (at (1, 1) if none), . floor."""
    return level_from_text(rows, agent=(1, 1))
