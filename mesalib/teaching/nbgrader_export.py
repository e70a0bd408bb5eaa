"""The course as an nbgrader course directory, for instructors who already grade with nbgrader.

`export_course(out, seed)` writes `out/nbgrader_config.py` and `out/source/lessonNN/NN_topic.ipynb`
for each solution notebook. The solution notebooks already mark their answers with nbgrader's own
`### BEGIN SOLUTION` / `### END SOLUTION`, so the conversion is small:

- an exercise cell (cell metadata `mesalib.exercise`) becomes an nbgrader *solution* cell;
- the check cell after it becomes an autograded *test* cell worth the exercise's points. It runs the
  same check the lesson runs and asserts that every case passed (a check only raises under
  validation, which nbgrader does not set), then, inside nbgrader's hidden-tests region, the
  exercise's randomised cases drawn from the instructor's `seed`. `nbgrader generate_assignment`
  removes the hidden region, so the released notebook never shows the seed;
- every other cell stays as it is (learners may experiment there).

nbgrader executes learners' code in the instructor's own kernel, without the operating-system
sandbox of `mesalib grade`: it suits a class whose code is trusted (course/exports.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from mesalib.teaching.course_files import LESSON_NAME, solutions_folder
from mesalib.teaching.lessons import OUTPUT_CHECK, STUB

__all__ = ["CONFIG_FILE", "ExportError", "assignment_name", "export_course", "nbgrader_notebook"]

CONFIG_FILE = "nbgrader_config.py"
SCHEMA_VERSION = 3
"""nbgrader's cell-metadata schema (nbgrader 0.9)."""
_CHECK_CALL = re.compile(r"checks\.(lesson\d\d)\.(\w+)\(\s*(\w+)\s*\)")
"""`checks.lesson02.distance_map(distance_map)`: the lesson, the exercise and the learner's function."""

CONFIG_TEXT = f'''"""nbgrader's settings, from `mesalib export nbgrader`: yours to edit, never overwritten."""

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "mesalib"
# The released stub is the lessons' own, so learners see the same line in both.
c.ClearSolutions.code_stub = {{"python": {STUB!r}}}
# Some lessons run for minutes; nbgrader's default is 30 seconds per cell.
c.Execute.timeout = 600
'''


class ExportError(ValueError):
    """A solution notebook that cannot be converted; the message names the notebook and the cell."""


def assignment_name(notebook: Path) -> str:
    """`00_welcome.ipynb` -> `lesson00`: one nbgrader assignment per lesson."""
    return f"lesson{notebook.name[:2]}"


def _grade_metadata(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {
        "grade_id": grade_id,
        "solution": solution,
        "grade": grade,
        "locked": grade,
        "schema_version": SCHEMA_VERSION,
    }
    if grade:
        meta["points"] = points
    return meta


def graded_check_source(lesson: str, exercise: str, function: str, seed: int) -> str:
    """The autograded test cell: the lesson's check, asserted, then the hidden cases from `seed`."""
    check = f"checks.{lesson}.{exercise}"
    return (
        "from mesalib.teaching import checks\n"
        "\n"
        f"outcome = {check}({function})\n"
        "assert outcome.ok, outcome.failure\n"
        "### BEGIN HIDDEN TESTS\n"
        f"hidden = {check}.run({function}, seed={seed})\n"
        'assert hidden.ok, f"{hidden.passed} of {hidden.total} hidden cases pass"\n'
        "### END HIDDEN TESTS"
    )


def nbgrader_notebook(
    solution: nbformat.NotebookNode, seed: int, name: str = "notebook"
) -> nbformat.NotebookNode:
    """A copy of a solution notebook with nbgrader's cell metadata (see the module's docstring)."""
    nb = nbformat.from_dict(solution)
    points: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        marks = cell.metadata.get("mesalib", {})
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.source = "\n".join(line for line in cell.source.split("\n") if line.strip() != OUTPUT_CHECK)
        if "exercise" in marks:
            points[marks["exercise"]] = int(marks["points"])
            name_only = marks["exercise"].split(".")[1]
            cell.metadata["nbgrader"] = _grade_metadata(name_only, solution=True, grade=False)
        elif "check" in marks:
            call = _CHECK_CALL.search(cell.source)
            if call is None or f"{call.group(1)}.{call.group(2)}" != marks["check"]:
                raise ExportError(
                    f"{name}, cell {index}: a check cell should call checks.{marks['check']}(...)"
                )
            if marks["check"] not in points:
                raise ExportError(
                    f"{name}, cell {index}: the check of {marks['check']} comes before its exercise"
                )
            cell.source = graded_check_source(call.group(1), call.group(2), call.group(3), seed)
            cell.metadata["nbgrader"] = _grade_metadata(
                f"{call.group(2)}_test", solution=False, grade=True, points=points[marks["check"]]
            )
    return nb


def export_course(
    out: Path, seed: int, lessons: list[str] | None = None, solutions: Path | None = None, force: bool = False
) -> list[Path]:
    """Write the nbgrader course into `out` and return the notebooks written.

    `lessons` picks lessons by number ("00", "02"; default all). `solutions` defaults to the clone's
    `solutions/` (CourseFilesMissing from an installed wheel, which does not ship answers). A source
    notebook already in `out` is replaced only with `force`; an existing nbgrader_config.py is kept.
    """
    folder = solutions if solutions is not None else solutions_folder()
    found = sorted(p for p in Path(folder).iterdir() if LESSON_NAME.match(p.name))
    if lessons:
        unknown = sorted(set(lessons) - {p.name[:2] for p in found})
        if unknown:
            have = ", ".join(p.name[:2] for p in found)
            raise ExportError(f"no solution notebook for lesson(s) {', '.join(unknown)}; there are {have}")
        found = [p for p in found if p.name[:2] in lessons]
    targets = [out / "source" / assignment_name(p) / p.name for p in found]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise ExportError(
            f"{existing[0]} exists (and {len(existing) - 1} more): nothing was written. "
            "Use --force to replace the source notebooks (the gradebook and submissions are not touched)."
        )
    converted = [nbgrader_notebook(nbformat.read(p, as_version=4), seed, name=p.name) for p in found]
    out.mkdir(parents=True, exist_ok=True)
    if not (out / CONFIG_FILE).exists():
        (out / CONFIG_FILE).write_text(CONFIG_TEXT, encoding="utf-8")
    for nb, target in zip(converted, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    return targets
