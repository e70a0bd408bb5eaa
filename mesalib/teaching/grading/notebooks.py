"""Reading learners' submissions (untrusted): finding each learner's notebook, and its cells.

A submission is read defensively: its size is checked before anything is read, then it must be
UTF-8 JSON shaped like an nbformat-4 notebook. Only each cell's type, source and metadata are
kept; outputs are never looked at. Problems become a `Problem` (a status code and a sentence) for
the gradebook, never an exception. The official lesson, which says what a submission should
hold, is read by `official.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mesalib.teaching.grading.learners import printable, unique_names
from mesalib.teaching.grading.plain import PlainError, read_regular_file

__all__ = [
    "Cell",
    "Notebook",
    "Problem",
    "Submission",
    "choose",
    "discover",
    "infer_lesson",
    "read_notebook",
    "safe_name",
]

DEFAULT_MAX_BYTES = 20 * 2**20
_EXERCISE_ID = re.compile(r"^lesson(\d\d)\.[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Problem:
    """Why a submission (or one exercise of it) could not be graded: a short code and a sentence."""

    code: str
    message: str


@dataclass(frozen=True)
class Cell:
    index: int
    cell_type: str
    source: str
    meta: object  # the cell's metadata["mesalib"], whatever the submission put there (None if absent)


@dataclass
class Notebook:
    cells: list[Cell]
    sha256: str


@dataclass
class Submission:
    """One learner: where their notebook is, and what reading it gave."""

    learner: str
    given: str  # the path as given on the command line (or found in a class folder)
    path: Path | None = None  # the notebook chosen for grading
    notebook: Notebook | None = None
    problem: Problem | None = None
    lesson: str | None = None  # the lesson the notebook says it is
    candidates: list = field(default_factory=list)  # (path, Notebook | Problem, lesson) for folders
    notes: list[str] = field(default_factory=list)  # e.g. how a name collision was resolved


def normalise_source(source: str) -> str:
    """The source with Windows line ends, trailing spaces and blank first and last lines removed."""
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def cell_source(cell: dict) -> str:
    """A notebook cell's source as one string, whatever shape the JSON gave it."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def read_notebook(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Notebook | Problem:
    """The cells of a submitted notebook, or the Problem that stops it being read."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            return Problem("unreadable", f"{path.name} is not a regular file")
    except OSError as exc:
        return Problem("unreadable", f"{path.name} cannot be read ({exc.strerror})")
    if size == 0:
        return Problem("empty_file", f"{path.name} is empty (0 bytes)")
    if size > max_bytes:
        return Problem(
            "too_large",
            f"{path.name} is {size / 2**20:.1f} MiB, over the limit of "
            f"{max_bytes / 2**20:.1f} MiB (was it saved with huge outputs?); not read",
        )
    try:
        raw = read_regular_file(path, max_bytes)
    except (OSError, PlainError) as exc:
        return Problem("unreadable", f"{path.name} cannot be read ({exc})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Problem("invalid_json", f"{path.name} is not UTF-8 text, so not a notebook")
    if not text.strip():
        return Problem("empty_file", f"{path.name} holds only whitespace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(
            "invalid_json",
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); was it edited by hand or cut short?",
        )
    except (ValueError, RecursionError) as exc:
        return Problem("invalid_json", f"{path.name} is not valid JSON ({type(exc).__name__})")
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        major = document.get("nbformat") if isinstance(document, dict) else None
        hint = (
            f" (nbformat {major}; open and save it in a current Jupyter)"
            if isinstance(major, int) and major < 4
            else ""
        )
        return Problem(
            "not_a_notebook", f"{path.name} is JSON but not a Jupyter notebook: it has no list of cells{hint}"
        )
    cells = []
    for i, cell in enumerate(document["cells"]):
        if not isinstance(cell, dict):
            continue
        metadata = cell.get("metadata")
        meta = metadata.get("mesalib") if isinstance(metadata, dict) else None
        cell_type = cell.get("cell_type")
        cells.append(Cell(i, cell_type if isinstance(cell_type, str) else "?", cell_source(cell), meta))
    return Notebook(cells, hashlib.sha256(raw).hexdigest())


def notebook_lesson(notebook: Notebook, path: Path | None = None) -> str | None:
    """The lesson a notebook says it is: the most common lessonNN of its exercise and check cells'
    metadata, else the NN_ prefix of its file name."""
    votes: Counter[str] = Counter()
    for cell in notebook.cells:
        if isinstance(cell.meta, dict):
            for key in ("exercise", "check"):
                value = cell.meta.get(key)
                if isinstance(value, str):
                    match = _EXERCISE_ID.match(value)
                    if match:
                        votes[match.group(1)] += 1
    if votes:
        return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    if path is not None:
        match = re.match(r"^(\d\d)_", path.name)
        if match:
            return match.group(1)
    return None


def _notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))


def _learner_from_file(path: Path) -> str:
    # "alice.ipynb" is alice's; "alice/02_heuristics.ipynb" (a lesson's own name) is too.
    if re.match(r"^\d\d_", path.stem) and path.parent.name not in ("", "."):
        return path.parent.name
    return path.stem


def discover(paths: list, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Submission]:
    """One Submission per learner, in the order given. A folder holding notebooks is one learner
    (named after the folder); a folder holding only folders is a class: each folder or notebook in
    it is a learner; a notebook file is a learner named after the file (or after its folder when
    the file keeps a lesson's name, like 02_heuristics.ipynb)."""
    found: list[Submission] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = _notebooks_in(path)
            subfolders = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
            if not inside and subfolders:  # a class folder
                for folder in subfolders:
                    found.append(_folder_submission(folder, str(folder), max_bytes))
                continue
            found.append(_folder_submission(path, str(given), max_bytes))
        elif path.exists() or path.is_symlink():
            found.append(_file_submission(path, str(given), _learner_from_file(path), max_bytes))
        else:
            found.append(
                Submission(
                    learner=path.stem or str(given),
                    given=str(given),
                    problem=Problem("not_found", f"{given} does not exist"),
                )
            )
    names, notes = unique_names([(sub.learner, sub.given) for sub in found])
    for sub, name, note in zip(found, names, notes):  # learner ids must be unique (see learners.py)
        sub.learner, sub.given = name, printable(sub.given)
        if note:
            sub.notes.append(note)
    return found


def _file_submission(path: Path, given: str, learner: str, max_bytes: int) -> Submission:
    sub = Submission(learner=learner, given=given, path=path)
    read = read_notebook(path, max_bytes)
    if isinstance(read, Problem):
        sub.problem = read
    else:
        sub.notebook = read
        sub.lesson = notebook_lesson(read, path)
    return sub


def _folder_submission(folder: Path, given: str, max_bytes: int) -> Submission:
    sub = Submission(learner=folder.name, given=given)
    for path in _notebooks_in(folder):
        read = read_notebook(path, max_bytes)
        lesson = notebook_lesson(read, path) if not isinstance(read, Problem) else None
        sub.candidates.append((path, read, lesson))
    if not sub.candidates:
        sub.problem = Problem("no_notebook", f"the folder {folder.name} holds no notebook (.ipynb)")
    return sub


def choose(sub: Submission, lesson: str) -> None:
    """For a folder, pick the one notebook of `lesson`; then check the notebook is of that lesson."""
    if sub.candidates and sub.path is None and sub.problem is None:
        readable = [(p, nb) for p, nb, les in sub.candidates if les == lesson]
        if len(readable) == 1:
            sub.path, sub.notebook = readable[0]
            sub.lesson = lesson
        elif len(readable) > 1:
            names = ", ".join(p.name for p, _ in readable)
            sub.problem = Problem(
                "several_notebooks", f"several notebooks of lesson {lesson} ({names}): keep one in the folder"
            )
        elif len(sub.candidates) == 1:
            path, read, les = sub.candidates[0]
            sub.path = path
            if isinstance(read, Problem):
                sub.problem = read
            else:
                sub.notebook, sub.lesson = read, les
        else:
            names = ", ".join(p.name for p, _, _ in sub.candidates)
            sub.problem = Problem("wrong_lesson", f"no notebook of lesson {lesson} among {names}")
    if sub.problem is None and sub.notebook is not None and sub.lesson != lesson:
        sub.problem = Problem(
            "wrong_lesson",
            (
                f"this is a notebook of lesson {sub.lesson}, not lesson {lesson}"
                if sub.lesson
                else f"this notebook has no exercise of lesson {lesson} "
                "(no exercise metadata, and its name has no NN_ prefix)"
            ),
        )


def infer_lesson(subs: list[Submission]) -> str | None:
    """The lesson most submissions are of (ties: the lowest number), or None when none says."""
    votes: Counter[str] = Counter()
    for sub in subs:
        if sub.lesson:
            votes[sub.lesson] += 1
        else:
            for _, _, les in sub.candidates:
                if les:
                    votes[les] += 1
    if not votes:
        return None
    return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def safe_name(learner: str) -> str:
    """A file name for a learner id: letters, digits, '-', '_', '.', '~' kept, the rest '_'."""
    name = re.sub(r"[^A-Za-z0-9._~-]", "_", learner).lstrip(".") or "learner"
    return name[:120]
