"""How long a lesson takes a learner, estimated from the notebook itself, so stated times stay honest.

A lesson's header says "**Time:** about N minutes". Writing N by feel drifts as lessons grow; this
module estimates it from what the notebook contains: its prose at a study reading pace, a fixed time
per code cell to read it, run it and look at what it shows, and the minutes each exercise's own
header states. The test suite holds every lesson's stated time to at least this estimate.

Reading pace: Brysbaert (2019), "How many words do we read per minute? A review and meta-analysis of
reading rate", Journal of Memory and Language 109, 104047, puts adult silent reading of English
non-fiction at about 238 words per minute. Studying technical text to understand it is slower; we
assume 150 words per minute (an assumption, not a measurement of our learners; change
`STUDY_WPM` if your class reads faster or slower).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["STUDY_WPM", "CODE_CELL_MINUTES", "LessonTime", "estimate", "stated_minutes"]

STUDY_WPM = 150
"""Words of prose per minute when studying technical text (see the module's docstring)."""
CODE_CELL_MINUTES = 0.75
"""Minutes to read a code cell that is not an exercise, run it and look at its output."""

_LESSON_TIME = re.compile(r"\*\*Time:\*\*\s*about\s+(\d+)\s+minutes")
_EXERCISE_TIME = re.compile(r"\*\*Time:\*\*\s*(?:about\s+)?(\d+)(?:\s*-\s*(\d+))?\s+minutes")


@dataclass(frozen=True)
class LessonTime:
    """The parts of a lesson's estimated time, in words, cells and minutes."""

    words: int
    code_cells: int
    exercise_minutes: float

    @property
    def reading_minutes(self) -> float:
        return self.words / STUDY_WPM

    @property
    def total(self) -> float:
        return self.reading_minutes + self.code_cells * CODE_CELL_MINUTES + self.exercise_minutes


def _words(markdown: str) -> int:
    """Words of prose: markdown without link targets and markup characters."""
    text = re.sub(r"\]\([^)]*\)", "]", markdown)
    return len(re.findall(r"[A-Za-z0-9][\w'’-]*", text))


def estimate(path: str | Path) -> LessonTime:
    """The estimated time of the lesson notebook at `path`. Exercise cells count at their header's
    stated minutes (the upper end of a range), not per cell; the header of the lesson itself is not
    an exercise's."""
    nb = nbformat.read(str(path), as_version=4)
    words = code = 0
    exercise = 0.0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            words += _words(cell.source)
            if i > 0:
                for low, high in _EXERCISE_TIME.findall(cell.source):
                    exercise += float(high or low)
        elif cell.cell_type == "code" and "exercise" not in cell.metadata.get("mesalib", {}):
            code += 1
    return LessonTime(words, code, exercise)


def stated_minutes(path: str | Path) -> int:
    """The minutes the lesson's first cell states ("**Time:** about N minutes")."""
    nb = nbformat.read(str(path), as_version=4)
    match = _LESSON_TIME.search(nb.cells[0].source)
    if not match:
        raise ValueError(f"{path}: the first cell states no '**Time:** about N minutes'")
    return int(match.group(1))
