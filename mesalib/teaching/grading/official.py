"""The official lesson, as the grader knows it: which exercises exist, in which order, with which
points and metadata, what each check cell holds, and which imports the lesson's code runs with.

It is read from the grader's own `lessons/NN_*.ipynb` (the copy the package ships, see
`mesalib.teaching.course_files`) and `mesalib.teaching.checks.lessonNN`, never from a submission.
The *preamble* is every top-level `import` of the lesson's ordinary code cells, except imports of
`mesalib.teaching.checks`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from mesalib.teaching.checks import Exercise
from mesalib.teaching.course_files import lessons_folder
from mesalib.teaching.grading import codecheck
from mesalib.teaching.grading.notebooks import cell_source, normalise_source

__all__ = ["OfficialLesson", "find_official_notebook", "load_official"]

GRADER_MODULES = (
    "mesalib.teaching.checks",
    "mesalib.teaching.grading.codecheck",
    "mesalib.teaching.grading.grader",
    "mesalib.teaching.grading.scoring",
    "mesalib.teaching.grading.references",
    "mesalib.teaching.grading.sandbox",
    "mesalib.teaching.grading.inside",
    "mesalib.teaching.grading.bwrap",
    "mesalib.teaching.grading.userns",
    "mesalib.teaching.grading.learners",
    "mesalib.teaching.grading.package_view",
    "mesalib.teaching.grading.calls",
    "mesalib.teaching.grading.provenance",
    "mesalib.teaching.grading.imitation",
    "mesalib.teaching.grading.plain",
    "mesalib.teaching.grading.notebooks",
    "mesalib.teaching.grading.official",
)
"""The code a grade depends on besides the lesson's checks: a change to any of them changes the
fingerprint, so `resume=True` grades again instead of keeping an old record."""


@dataclass
class OfficialLesson:
    lesson: str
    notebook_path: Path
    exercises: list[Exercise]  # in the notebook's order
    cell_meta: dict[str, dict]  # exercise id -> the official metadata["mesalib"]
    check_source: dict[str, str]  # exercise id -> normalised source of its check cell
    preamble: str  # the lesson's imports (mesalib.teaching.checks left out)
    official_statements: frozenset[str]  # every top-level statement of the official code cells
    checks_module: str
    fingerprint: str
    warnings: list[str] = field(default_factory=list)

    @property
    def max_points(self) -> int:
        return sum(ex.points for ex in self.exercises)


def find_official_notebook(lesson: str, lessons_dir: Path | None = None) -> Path | None:
    folder = Path(lessons_dir) if lessons_dir else lessons_folder()
    found = sorted(folder.glob(f"{lesson}_*.ipynb"))
    return found[0] if found else None


def load_official(lesson: str, lessons_dir: Path | None = None) -> OfficialLesson:
    """The official lesson `lesson` ("02"); raises ValueError when it cannot be graded."""
    if not re.fullmatch(r"\d\d", lesson or ""):
        raise ValueError(f"a lesson is two digits, like 02; got {lesson!r}")
    checks_module = f"mesalib.teaching.checks.lesson{lesson}"
    try:
        module = importlib.import_module(checks_module)
    except ModuleNotFoundError as exc:
        raise ValueError(f"lesson {lesson} has no checks ({checks_module} is missing)") from exc
    by_id = {v.id: v for v in vars(module).values() if isinstance(v, Exercise)}
    path = find_official_notebook(lesson, lessons_dir)
    if path is None:
        raise ValueError(
            f"no official notebook lessons/{lesson}_*.ipynb"
            + (f" in {lessons_dir}" if lessons_dir else "")
            + "; run `mesalib lessons` first"
        )
    raw = path.read_bytes()
    cells = _LessonCells.read(json.loads(raw))
    exercises, warnings = _gradable_exercises(cells, by_id, path.name, checks_module)
    if not exercises:
        raise ValueError(
            f"lesson {lesson} has no gradable exercises ({path.name} and {checks_module} share none)"
        )
    return OfficialLesson(
        lesson=lesson,
        notebook_path=path,
        exercises=exercises,
        cell_meta=cells.cell_meta,
        check_source=cells.check_source,
        preamble="\n".join(dict.fromkeys(cells.imports)),  # in order, each once
        official_statements=frozenset(cells.statements),
        checks_module=checks_module,
        fingerprint=_fingerprint(raw, checks_module),
        warnings=warnings,
    )


@dataclass
class _LessonCells:
    """What the official notebook's code cells say, before it is matched with the checks."""

    order: list[str] = field(default_factory=list)  # exercise ids, in the notebook's order
    cell_meta: dict[str, dict] = field(default_factory=dict)
    check_source: dict[str, str] = field(default_factory=dict)
    imports: list[str] = field(default_factory=list)
    statements: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, nb: dict) -> _LessonCells:
        found = cls()
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            meta = (cell.get("metadata") or {}).get("mesalib") or {}
            source = cell_source(cell)
            tree = codecheck.parse(source)[0]
            if tree is not None:
                found.statements.update(codecheck.statement_keys(tree))
            if "exercise" in meta:
                found.order.append(meta["exercise"])
                found.cell_meta[meta["exercise"]] = meta
            elif "check" in meta:
                found.check_source[meta["check"]] = normalise_source(source)
            elif tree is not None:
                found.imports.extend(codecheck.preamble_imports(tree))
        return found


def _gradable_exercises(
    cells: _LessonCells, by_id: dict[str, Exercise], notebook: str, checks_module: str
) -> tuple[list[Exercise], list[str]]:
    """The exercises both the notebook and the checks have, in the notebook's order, and warnings
    about every way the two disagree (the checks' points count)."""
    exercises, warnings = [], []
    for ex_id in cells.order:
        if ex_id not in by_id:
            warnings.append(
                f"{notebook} has an exercise cell {ex_id} that {checks_module} does not define; "
                "it is not graded"
            )
            continue
        exercise = by_id[ex_id]
        if cells.cell_meta[ex_id].get("points") != exercise.points:
            warnings.append(
                f"{ex_id}: the official notebook says {cells.cell_meta[ex_id].get('points')} points, "
                f"the check {exercise.points}; the check's points count"
            )
        if ex_id not in cells.check_source:
            warnings.append(f"{ex_id}: the official notebook has no check cell for it")
        exercises.append(exercise)
    for ex_id in sorted(set(by_id) - set(cells.order)):
        warnings.append(f"{ex_id} is in {checks_module} but not in {notebook}; it is not graded")
    return exercises, warnings


def _fingerprint(raw: bytes, checks_module: str) -> str:
    """A digest of the official notebook, the lesson's checks and the grader's own code."""
    digest = hashlib.sha256(raw)
    files = set()
    for name in (*GRADER_MODULES, checks_module):
        file = importlib.import_module(name).__file__
        assert file is not None  # every one is a module file of this package
        files.add(Path(file))
    for path in sorted(files):
        digest.update(path.read_bytes())
    return digest.hexdigest()
