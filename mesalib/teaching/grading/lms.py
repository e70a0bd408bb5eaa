"""The gradebook in a learning management system's import format: Canvas's gradebook CSV.

`mesalib grade` writes `gradebook.csv` (`learner`, `lesson`, a column per exercise, `total`, `max`,
`status`). Canvas imports a CSV whose first columns say who the student is (`Student`, `ID`, `SIS
User ID`, `SIS Login ID`, `Section`; Canvas matches a row by one of the first three) and whose other
columns are assignments, named `Assignment name (Canvas assignment ID)`; a column without an ID
creates a new assignment. A second row, `Points Possible`, gives each assignment's maximum. Sources:
the Canvas gradebook export format, described in Ohio State's guide "Import a CSV file into Carmen
grades" (teaching.resources.osu.edu) and VCU's "Gradebook Action Menu" (ts.vcu.edu); course/exports.md.

The learners' names in the gradebook are folder names; an optional roster CSV maps each (column
`learner`) to the Canvas columns, so that Canvas finds the right student.
"""

from __future__ import annotations

import csv
import io

__all__ = ["CANVAS_IDENTITY", "LmsExportError", "canvas_gradebook"]

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
"""The columns that identify a student in Canvas's gradebook CSV, in Canvas's order."""
GRADEBOOK_COLUMNS = ("learner", "lesson", "total", "max")
"""What this export reads from `mesalib grade`'s gradebook.csv."""
POINTS_POSSIBLE = "Points Possible"


class LmsExportError(ValueError):
    """An input this export cannot use; the message names the file, the column or the learner."""


def _read(text: str, what: str, needed: tuple[str, ...]) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    columns = rows[0].keys() if rows else next(csv.reader(io.StringIO(text)), [])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise LmsExportError(
            f"{what} has no column {', '.join(missing)} (it has: {', '.join(columns) or 'nothing'})"
        )
    return rows


def _roster(text: str) -> dict[str, dict[str, str]]:
    rows = _read(text, "the roster", ("learner",))
    known = [c for c in CANVAS_IDENTITY[:3] if c in rows[0]] if rows else []
    if rows and not known:
        raise LmsExportError(
            "the roster needs a column Canvas can match a student by: Student, ID or SIS User ID"
        )
    by_learner: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["learner"] in by_learner:
            raise LmsExportError(f"the roster lists learner {row['learner']!r} twice")
        by_learner[row["learner"]] = {c: row.get(c) or "" for c in CANVAS_IDENTITY}
    return by_learner


def canvas_gradebook(gradebook: str, roster: str | None = None, assignment: str | None = None) -> str:
    """Canvas's import CSV for a gradebook.csv's text: one row per learner, one assignment column per
    lesson holding the learner's total, and the Points Possible row.

    `roster` (CSV text, column `learner` and any of CANVAS_IDENTITY) says who each learner is in
    Canvas; without it the learner's name goes in `Student`. `assignment` names the column (for one
    lesson only; default "mesalib lesson NN"): "Lesson 2 (4711)" updates Canvas assignment 4711.
    """
    rows = _read(gradebook, "the gradebook", GRADEBOOK_COLUMNS)
    if not rows:
        raise LmsExportError("the gradebook has no learners")
    lessons = sorted({row["lesson"] for row in rows})
    if assignment is not None and len(lessons) > 1:
        raise LmsExportError(
            f"--assignment names one column, but the gradebook holds lessons {', '.join(lessons)}: "
            "export one lesson's gradebook at a time"
        )
    names = {lesson: assignment or f"mesalib lesson {lesson}" for lesson in lessons}
    maximum: dict[str, str] = {}
    for row in rows:
        if maximum.setdefault(row["lesson"], row["max"]) != row["max"]:
            raise LmsExportError(
                f"lesson {row['lesson']} has two maxima ({maximum[row['lesson']]}, {row['max']})"
            )
    people = _roster(roster) if roster is not None else None
    if people is not None:
        unknown = sorted({row["learner"] for row in rows} - people.keys())
        if unknown:
            raise LmsExportError(f"the roster has no row for learner(s) {', '.join(unknown)}")
    totals: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["lesson"] in totals.setdefault(row["learner"], {}):
            raise LmsExportError(f"learner {row['learner']!r} has two rows for lesson {row['lesson']}")
        totals[row["learner"]][row["lesson"]] = row["total"]

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CANVAS_IDENTITY, *(names[lesson] for lesson in lessons)])
    writer.writerow([POINTS_POSSIBLE, "", "", "", "", *(maximum[lesson] for lesson in lessons)])
    for learner, scores in sorted(totals.items()):
        who = (
            people[learner]
            if people is not None
            else dict.fromkeys(CANVAS_IDENTITY, "") | {"Student": learner}
        )
        writer.writerow([*(who[c] for c in CANVAS_IDENTITY), *(scores.get(lesson, "") for lesson in lessons)])
    return out.getvalue()
