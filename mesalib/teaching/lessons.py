"""Build the exercise notebooks in `lessons/` from the answer notebooks in `solutions/`.

`solutions/` is the one source of truth. Inside a code cell, everything between a line
`### BEGIN SOLUTION` and a line `### END SOLUTION` (the markers nbgrader uses) is the answer; in
the lesson it becomes `raise NotImplementedError(...)` at the same indentation. Outputs are
cleared in both. `mesalib lessons` writes the lessons; `mesalib lessons --check` (and the tests)
fail when `lessons/` is stale.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code.")'
_MARKER = re.compile(r"^(\s*)(### BEGIN SOLUTION|### END SOLUTION)\s*$")


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace each solution region of a code cell's source with a stub at the same indentation."""
    out, inside, indent = [], False, ""
    for number, line in enumerate(source.splitlines(), 1):
        match = _MARKER.match(line)
        if match and match.group(2) == BEGIN:
            if inside:
                raise ValueError(
                    f"{where}, line {number}: {BEGIN} inside another solution region; "
                    f"close the first with {END}."
                )
            inside, indent = True, match.group(1)
            out.append(indent + STUB)
        elif match and match.group(2) == END:
            if not inside:
                raise ValueError(f"{where}, line {number}: {END} without a {BEGIN} before it.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed; add a line {END} after the answer.")
    return "\n".join(out)


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop outputs and execution counts: notebooks are committed clean."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


OUTPUT_CHECK = "# NBVAL_CHECK_OUTPUT"
"""Marks a solution cell whose printed numbers nbval compares. Lessons drop it: a learner's saved
outputs must never make correct work fail validation (their checks fail cells instead)."""


def lesson_from_solution(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    lesson = clean(nbformat.from_dict(solution))
    for i, cell in enumerate(lesson.cells):
        if cell.cell_type == "code":
            source = strip_solutions(cell.source, where=f"{name}, cell {i}")
            cell.source = "\n".join(line for line in source.split("\n") if line.strip() != OUTPUT_CHECK)
    return lesson


def _render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


BACKUPS = ".lesson-backups"
"""Where `build_lessons(force=True)` keeps a worked-on lesson before replacing it (git ignores it)."""


def worked_on(path: Path) -> bool:
    """Whether a lesson notebook holds a learner's work: a cell that ran (outputs, an execution count)
    or an exercise cell whose stub was replaced. Lessons as generated have neither."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # unreadable: treat it as someone's, never overwrite it silently
        return True
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            return True
        if (cell.get("metadata") or {}).get("mesalib", {}).get("exercise") and STUB not in cell.source:
            return True
    return False


class LearnerWork(ValueError):
    """Regenerating would overwrite lessons a learner has worked on."""


def build_lessons(solutions: Path, lessons: Path, check: bool = False, force: bool = False) -> list[str]:
    """Write (or with `check`, only compare) every lesson. Returns the names that were stale.

    A stale lesson that holds a learner's work (`worked_on`) is never overwritten silently: without
    `force` nothing is written and `LearnerWork` names the files; with `force` each is first copied to
    `.lesson-backups/` beside `lessons/`, under a name with the time.
    """
    solutions, lessons = Path(solutions), Path(lessons)
    if not solutions.is_dir():
        raise ValueError(f"No solutions folder at {solutions}; run from the repository root.")
    fresh = {}
    for path in sorted(solutions.glob("*.ipynb")):
        fresh[path.name] = _render(lesson_from_solution(nbformat.read(path, as_version=4), path.name))
    stale = [
        n for n, text in fresh.items() if not (lessons / n).exists() or (lessons / n).read_text() != text
    ]
    if not check:
        at_risk = [n for n in stale if (lessons / n).exists() and worked_on(lessons / n)]
        if at_risk and not force:
            raise LearnerWork(
                f"lessons/{', lessons/'.join(at_risk)} hold(s) your work (code in an exercise or saved "
                "outputs); nothing was written. Pass --force to regenerate anyway: a copy of each is kept "
                f"in {BACKUPS}/ first."
            )
        _back_up(lessons, at_risk)
        lessons.mkdir(parents=True, exist_ok=True)
        for name in stale:
            (lessons / name).write_text(fresh[name])
    return stale + sorted(p.name for p in lessons.glob("*.ipynb") if p.name not in fresh)


def _holds(path: Path, text: str) -> bool:
    return path.exists() and path.read_text() == text


def _back_up(lessons: Path, names: list[str]) -> None:
    """Copy each lesson in `names` to `.lesson-backups/NAME.YYYYMMDD-HHMMSS.ipynb` beside `lessons/`."""
    if not names:
        return
    folder = lessons.parent / BACKUPS
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name in names:
        shutil.copy2(lessons / name, folder / f"{Path(name).stem}.{stamp}.ipynb")
