"""The course as a static website: the executed lessons with their figures, the exercise versions to
download, and the course's documents (`make site`, or `mesalib export site DIR`).

Built with Sphinx and MyST-NB and Sphinx's own theme (alabaster), because they build without the
network: Jupyter Book 2 (mystmd 1.8) fetches its theme from api.mystmd.org at build time, which fails
offline. The pages make no request outside the site either: no MathJax (TeX stays as written) and no
widget JavaScript from a CDN (a widget shows its text form; widgets need a running kernel anyway).

`build_site(out)` stages the pages in `out/source` (the solution notebooks as `lessons/`, `course/*.md`
as `course/`, the exercise notebooks as `exercises/`, downloads only) and writes the HTML to
`out/html`. Executed notebooks are kept in a jupyter-cache (default `out/.jupyter_cache`): a lesson
whose code did not change is not executed again (all ten take about 7 minutes on 2 idle cores).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from mesalib.teaching.course_files import LESSON_NAME, clone_file, lessons_folder, solutions_folder

__all__ = ["SiteError", "build_site"]

FIRST_COURSE_PAGE = "README.md"
CSS = "div.cell_output img { max-width: 100%; height: auto; }\n"
"""The theme's custom.css (alabaster links it): figures no wider than the page."""
BROKEN_LINK = re.compile(r"^.*(?:cross-reference target not found|undefined label|unknown document).*$", re.M)
"""Sphinx's warnings for a link to a page or a section that is not in the site."""


class SiteError(RuntimeError):
    """The site could not be built; the message says which input or which step."""


def _conf(cache: Path, timeout: int) -> str:
    return f'''"""Sphinx configuration written by mesalib.teaching.site (regenerated on every build)."""

project = "Chests and Keys: the mesalib course"
extensions = ["myst_nb"]
html_theme = "alabaster"
html_title = project
html_show_sourcelink = False
html_copy_source = False
html_static_path = ["_static"]
html_theme_options = {{"show_powered_by": False, "page_width": "1100px"}}  # no links off the site
exclude_patterns = ["exercises/**", "**.ipynb_checkpoints"]
myst_heading_anchors = 3  # `[text](page.md#a-section)` links between course documents
nb_execution_mode = "cache"
nb_execution_cache_path = {str(cache)!r}
nb_execution_timeout = {timeout}
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_ipywidgets_js = {{}}  # no widget JavaScript from a CDN: the site works offline
'''


def _index(course_pages: list[str], lessons: list[str]) -> str:
    course = "\n".join(f"course/{Path(name).stem}" for name in course_pages)
    lesson_pages = "\n".join(f"lessons/{Path(name).stem}" for name in lessons)
    return (
        "# Chests and Keys: the mesalib course\n\n"
        "Each lesson page is the lesson *with its answers*, executed, with its figures. To work through\n"
        "a lesson yourself, download its exercise version from the top of its page (or run\n"
        "`mesalib course`), and open it in JupyterLab.\n\n"
        f"```{{toctree}}\n:caption: Course\n:maxdepth: 1\n\n{course}\n```\n\n"
        f"```{{toctree}}\n:caption: Lessons\n:maxdepth: 1\n\n{lesson_pages}\n```\n"
    )


def _lesson_page(solution: Path, exercise_name: str) -> nbformat.NotebookNode:
    """The solution notebook with a first cell that offers the exercise version as a download."""
    nb = nbformat.read(solution, as_version=4)
    note = nbformat.v4.new_markdown_cell(
        "This page shows the lesson with its answers, executed. "
        f"**Exercise version:** {{download}}`{exercise_name} <../exercises/{exercise_name}>` "
        "(the same notebook with the answers left for you to write)."
    )
    nb.cells.insert(0, note)
    return nb


def build_site(
    out: Path,
    lessons: list[str] | None = None,
    course_pages: list[str] | None = None,
    cache: Path | None = None,
    solutions: Path | None = None,
    exercises: Path | None = None,
    course: Path | None = None,
    timeout: int = 1200,
) -> Path:
    """Build the site into `out/html` and return its index.html.

    `lessons` picks lessons by number ("00"; default all), `course_pages` picks files of `course/`
    ("README.md"; default every .md there). The folders default to the clone's `solutions/` and
    `course/` and the package's lessons (a clone is needed: the answers do not ship).
    """
    solutions = solutions if solutions is not None else solutions_folder()
    exercises = exercises if exercises is not None else lessons_folder()
    course = course if course is not None else clone_file("course", "building the course website")
    found = sorted(p for p in Path(solutions).iterdir() if LESSON_NAME.match(p.name))
    if lessons:
        unknown = sorted(set(lessons) - {p.name[:2] for p in found})
        if unknown:
            raise SiteError(f"no solution notebook for lesson(s) {', '.join(unknown)} in {solutions}")
        found = [p for p in found if p.name[:2] in lessons]
    documents = sorted(p.name for p in Path(course).glob("*.md"))
    if course_pages:
        missing = sorted(set(course_pages) - set(documents))
        if missing:
            raise SiteError(
                f"no course page {', '.join(missing)} in {course} (there are {', '.join(documents)})"
            )
        documents = [d for d in documents if d in course_pages]
    documents.sort(key=lambda name: (name != FIRST_COURSE_PAGE, name))

    source, html = out / "source", out / "html"
    cache = (cache if cache is not None else out / ".jupyter_cache").resolve()
    shutil.rmtree(source, ignore_errors=True)
    for folder in ("lessons", "exercises", "course"):
        (source / folder).mkdir(parents=True)
    for solution in found:
        exercise = Path(exercises) / solution.name
        if not exercise.is_file():
            raise SiteError(f"{solution.name} has no exercise version in {exercises}")
        shutil.copy2(exercise, source / "exercises" / solution.name)
        nbformat.write(_lesson_page(solution, solution.name), source / "lessons" / solution.name)
    for name in documents:
        shutil.copy2(Path(course) / name, source / "course" / name)
    for other in Path(course).iterdir():  # files the documents link to (a config file, values.yaml)
        if other.is_file() and other.suffix != ".md":
            shutil.copy2(other, source / "course" / other.name)
    (source / "_static").mkdir()
    (source / "_static" / "custom.css").write_text(CSS, encoding="utf-8")
    (source / "conf.py").write_text(_conf(cache, timeout), encoding="utf-8")
    (source / "index.md").write_text(_index(documents, [p.name for p in found]), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(source), str(html)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SiteError(f"sphinx failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    broken = BROKEN_LINK.findall(done.stderr)
    if broken:
        raise SiteError("links to pages or sections that are not in the site:\n" + "\n".join(broken))
    if done.stderr.strip():
        print(done.stderr.strip(), file=sys.stderr)
    return html / "index.html"
