"""Learner notebooks made from the official lesson, for the grader's tests and benchmark.

`learner_notebook("02", {"distance_map": source})` is the official `lessons/02_*.ipynb` with the
exercise cell of `distance_map` replaced by `source`; exercises not named keep the solution from
`solutions/` (a clone's; or the stub, with `solved=False`). The result is a plain dict (nbformat 4 JSON) that
tests then damage in whatever way they need.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from mesalib.teaching.course_files import lessons_folder, solutions_folder

__all__ = ["learner_notebook", "solution_sources", "write_notebook"]


def _notebook(folder: Path, lesson: str) -> dict:
    found = sorted(folder.glob(f"{lesson}_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no {lesson}_*.ipynb in {folder}")
    return json.loads(found[0].read_text())


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def solution_sources(lesson: str, solutions_dir: Path | None = None) -> dict[str, str]:
    """Exercise name -> the source of its cell in the solutions notebook."""
    nb = _notebook(Path(solutions_dir) if solutions_dir else solutions_folder(), lesson)
    out = {}
    for cell in nb["cells"]:
        ex_id = cell.get("metadata", {}).get("mesalib", {}).get("exercise")
        if ex_id:
            out[ex_id.split(".", 1)[1]] = _source(cell)
    return out


def learner_notebook(
    lesson: str,
    answers: dict[str, str] | None = None,
    *,
    solved: bool = True,
    lessons_dir: Path | None = None,
    solutions_dir: Path | None = None,
) -> dict:
    nb = copy.deepcopy(_notebook(Path(lessons_dir) if lessons_dir else lessons_folder(), lesson))
    solutions = solution_sources(lesson, solutions_dir) if solved else {}
    answers = answers or {}
    for cell in nb["cells"]:
        ex_id = cell.get("metadata", {}).get("mesalib", {}).get("exercise")
        if ex_id:
            name = ex_id.split(".", 1)[1]
            if name in answers:
                cell["source"] = answers[name]
            elif name in solutions:
                cell["source"] = solutions[name]
    return nb


def write_notebook(nb: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1) + "\n")
    return path
