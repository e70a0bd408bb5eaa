"""Build the exercise notebooks in `lessons/` from the answer notebooks in `solutions/`.

`solutions/` is the one source of truth. Inside a code cell, everything between a line
`### BEGIN SOLUTION` and a line `### END SOLUTION` (the markers nbgrader uses) is the answer; in
the lesson it becomes `raise NotImplementedError(...)` at the same indentation. Outputs are
cleared in both. `mesalib lessons` writes the lessons; `mesalib lessons --check` (and the tests)
fail when `lessons/` is stale.
"""

from __future__ import annotations

import re
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


def lesson_from_solution(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    lesson = clean(nbformat.from_dict(solution))
    for i, cell in enumerate(lesson.cells):
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, where=f"{name}, cell {i}")
    return lesson


def _render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def build_lessons(solutions: Path, lessons: Path, check: bool = False) -> list[str]:
    """Write (or with `check`, only compare) every lesson. Returns the names that were stale."""
    solutions, lessons = Path(solutions), Path(lessons)
    if not solutions.is_dir():
        raise ValueError(f"No solutions folder at {solutions}; run from the repository root.")
    stale = []
    expected = set()
    for path in sorted(solutions.glob("*.ipynb")):
        expected.add(path.name)
        solution = nbformat.read(path, as_version=4)
        text = _render(lesson_from_solution(solution, path.name))
        target = lessons / path.name
        if not target.exists() or target.read_text() != text:
            stale.append(path.name)
            if not check:
                lessons.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    stale += sorted(p.name for p in lessons.glob("*.ipynb") if p.name not in expected)
    return stale
