"""`mesalib course`: the lessons copied into a learner's working folder, never over the learner's work.

The first run copies every lesson. A later run (after `pip install --upgrade mesalib`, say) adds the
lessons that are new and leaves every existing notebook alone: it only reports which ones differ
from the shipped version. With `fresh=True` each of those gets the shipped version beside it, as
`NN_topic.fresh.ipynb`, so the learner can compare or start again without losing anything.

"Differs" compares what a learner writes, each cell's type and source; outputs, execution counts and
metadata are left out, so a lesson that was only run is still the shipped one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mesalib.teaching.course_files import lesson_paths

__all__ = ["FRESH_SUFFIX", "CourseCopy", "copy_lessons", "folder_problem", "same_lesson"]

FRESH_SUFFIX = ".fresh.ipynb"


@dataclass
class CourseCopy:
    """What `copy_lessons` did, lesson file names in course order."""

    folder: Path
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    differ: list[str] = field(default_factory=list)  # kept as they are: the learner's work
    fresh: list[str] = field(default_factory=list)  # NN_topic.fresh.ipynb written beside them
    fresh_edited: list[str] = field(default_factory=list)  # .fresh copies edited too: left alone

    def text(self) -> str:
        lines = [f"The course's lessons are in {self.folder}:"]
        if self.added:
            lines.append(f"  copied {len(self.added)}: {', '.join(self.added)}")
        if self.unchanged:
            lines.append(f"  already there as shipped: {len(self.unchanged)}")
        if self.differ:
            lines.append(f"  kept, as they differ from the shipped version: {', '.join(self.differ)}")
            if not (self.fresh or self.fresh_edited):
                lines.append(
                    "  (run again with --fresh for the shipped version beside each, as NN_topic.fresh.ipynb)"
                )
        if self.fresh:
            lines.append(f"  the shipped version beside yours: {', '.join(self.fresh)}")
        if self.fresh_edited:
            lines.append(
                f"  not replaced, as they were edited too: {', '.join(self.fresh_edited)} "
                "(rename them and run again for a new fresh copy)"
            )
        return "\n".join(lines)


def _cells(path: Path) -> list[tuple[str, str]] | None:
    """Each cell's type and source, or None when the file is not a readable notebook."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return [
            (c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in cells
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def same_lesson(mine: Path, shipped: Path) -> bool:
    """Whether `mine` holds the same cells (type and source) as `shipped`."""
    theirs = _cells(mine)
    return theirs is not None and theirs == _cells(shipped)


def folder_problem(folder: Path, option: str = "DIR") -> str:
    """Why the lessons cannot be copied into `folder` (empty when they can), found before any work."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        return (
            f"{option} {folder}: is a file, not a folder; give a folder for the lessons (a new one is made)."
        )
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return (
            f"{option} {folder}: {existing} is a file, so no folder can be made there; choose another folder."
        )
    try:
        with tempfile.TemporaryFile(dir=existing):  # os.access says yes to root on a read-only disk
            pass
    except OSError:
        return (
            f"{option} {folder}: {existing} cannot be written to by this user; "
            "choose a folder you may write to, like ./mesalib-course."
        )
    for lesson in lesson_paths():
        for name in (lesson.name, lesson.name.removesuffix(".ipynb") + FRESH_SUFFIX):
            if (folder / name).is_dir():
                return (
                    f"{option} {folder}: {name} there is a folder where a lesson file belongs; "
                    "rename or move it, or choose another folder."
                )
    return ""


def copy_lessons(folder: Path, fresh: bool = False) -> CourseCopy:
    """Copy the shipped lessons into `folder` (made if missing), never replacing an existing file
    except a `.fresh.ipynb` that is still the shipped version. Check `folder_problem` first."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    done = CourseCopy(folder.resolve())
    for lesson in lesson_paths():
        mine = folder / lesson.name
        if not mine.exists():
            shutil.copyfile(lesson, mine)
            done.added.append(lesson.name)
        elif same_lesson(mine, lesson):
            done.unchanged.append(lesson.name)
        else:
            done.differ.append(lesson.name)
            if fresh:
                beside = folder / (lesson.name.removesuffix(".ipynb") + FRESH_SUFFIX)
                if beside.exists() and not same_lesson(beside, lesson):
                    done.fresh_edited.append(beside.name)
                else:
                    shutil.copyfile(lesson, beside)
                    done.fresh.append(beside.name)
    return done
