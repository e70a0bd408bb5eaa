"""Where the course's files are: the one module that knows, so every command finds them the same way.

The rule, for an installed wheel and for a clone alike:

- **Lessons** (the exercise notebooks) come from the package: building the wheel or the sdist copies
  the top-level `lessons/` into it as `mesalib/teaching/lesson_notebooks/` (a `package-dir` mapping
  in pyproject.toml; the repository holds the one committed copy). A clone installed in editable
  mode (`pip install -e .`, what `make setup` does) has no such copy inside `mesalib/`; there the
  clone's own `lessons/` is used, because that is what a maintainer regenerates with `mesalib
  lessons` and must grade against at once. The clone is the project folder pip recorded for that
  editable install (PEP 610's `direct_url.json`), and only if its `mesalib/` is the very package
  running: a stray checkout in the current directory is never picked up.
- **Solutions** never ship: learners install the same wheel, and the grader's sandbox copies the
  installed package, so answers inside it would be one `open()` away from graded code (DESIGN.md,
  section 3). Grading needs only the official lessons and the checks, which are the library.
  `solutions_folder()` therefore exists in a clone only.
- **Clone-only tools** (the benchmarks) are found the same way, with an error that says so elsewhere.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from importlib import metadata, resources
from pathlib import Path

__all__ = [
    "CourseFilesMissing",
    "SHIPPED_LESSONS",
    "clone_file",
    "clone_folder",
    "lesson_paths",
    "lessons_folder",
    "package_folder",
    "solutions_folder",
]

SHIPPED_LESSONS = "lesson_notebooks"
"""The lessons' folder inside `mesalib.teaching` in a built wheel (pyproject.toml's package-dir)."""
LESSON_NAME = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")
"""`NN_topic.ipynb`: what counts as a lesson (not `.fresh.ipynb` copies or checkpoints)."""


class CourseFilesMissing(FileNotFoundError):
    """A course file this installation does not have; the message says where it would come from."""


def package_folder() -> Path:
    """The installed `mesalib` folder (in a clone, the clone's `mesalib/`)."""
    return Path(str(resources.files("mesalib")))


def clone_folder() -> Path | None:
    """The clone this package runs from (an editable install), or None for an installed wheel."""
    for dist in metadata.distributions(name="mesalib"):  # an egg-info in the current folder is one too
        try:
            info = json.loads(dist.read_text("direct_url.json") or "{}")
        except ValueError:
            continue
        url = info.get("url", "")
        if not info.get("dir_info", {}).get("editable") or not url.startswith("file://"):
            continue
        project = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        if (project / "mesalib").resolve() == package_folder().resolve():
            return project
    return None


def clone_file(relative: str, purpose: str) -> Path:
    """`relative` inside the clone; CourseFilesMissing, saying it needs a clone for `purpose`, if not."""
    clone = clone_folder()
    if clone is not None and (clone / relative).exists():
        return clone / relative
    raise CourseFilesMissing(
        f"{purpose} needs a clone of the course's repository ({relative} is not installed with the "
        "package): clone it, run `make setup` there (an editable install) and run this from the clone."
    )


def lessons_folder() -> Path:
    """The official exercise notebooks: the package's copy, or in a clone the clone's `lessons/`."""
    shipped = Path(str(resources.files("mesalib.teaching"))) / SHIPPED_LESSONS
    if shipped.is_dir():
        return shipped
    return clone_file("lessons", "finding the lessons")


def lesson_paths() -> list[Path]:
    """Every lesson notebook, in course order (`00_welcome.ipynb` first)."""
    return sorted(p for p in lessons_folder().iterdir() if LESSON_NAME.match(p.name))


def solutions_folder() -> Path:
    """The answer notebooks (a clone only: they are not shipped, see the module's docstring)."""
    return clone_file("solutions", "reading the solution notebooks")
