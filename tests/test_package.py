"""The course without a clone: the built wheel carries it, and a fresh environment takes and grades it.

The slow tests build the sdist (setuptools' own build backend, as `python -m build` would call it),
build the wheel from that sdist (so the sdist is proven complete), and install the wheel into a new
virtual environment in a temporary folder outside the repository. That environment sees the course's
installed dependencies through a `.pth` line naming this environment's site-packages, so nothing is
downloaded and it takes seconds; the `.pth` adds a path only, so this environment's editable install
of the clone is not active there. Every command then runs from a temporary folder outside the clone.

The quick tests check the rules that keep it so: the package list in pyproject.toml matches the
source tree, and no module of the package finds files through the repository's layout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from mesalib.teaching import course_files
from mesalib.teaching.grading.synthetic import learner_notebook, write_notebook
from mesalib.teaching.working_copy import copy_lessons, folder_problem, same_lesson

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mesalib"
LESSONS = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
TIMES: dict[str, float] = {}
"""Seconds each step of the slow fixture took; printed at the end (`pytest -s` shows them)."""

REPOSITORY_LOOKUPS = re.compile(r"parents\[\d\]|\bREPO\b|\.parent\.parent\b|dirname\(os\.path\.dirname")
"""How a module would find files through the clone: a fixed number of parent folders up from its
own file, or a REPO constant. Only the package's own folder (`Path(__file__).resolve().parent`,
checkpoints beside their module) is allowed."""


def _timed(name: str, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    TIMES[name] = round(time.perf_counter() - start, 1)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    return done


# --- quick: the rules -------------------------------------------------------------------------------


def test_pyproject_lists_every_package_of_the_source_tree():
    from setuptools import find_packages
    from setuptools.config.pyprojecttoml import read_configuration

    listed = read_configuration(ROOT / "pyproject.toml")["tool"]["setuptools"]["packages"]
    found = find_packages(str(ROOT), include=["mesalib*"])
    assert sorted(listed) == sorted([*found, "mesalib.teaching.lesson_notebooks"])


def test_no_module_finds_files_through_the_repository():
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if REPOSITORY_LOOKUPS.search(line)
    ]
    assert offenders == []


def test_the_lookup_pattern_catches_the_old_ways():
    old = [
        "REPO = Path(__file__).resolve().parents[3]",
        'script = REPO / "benchmarks" / "env_throughput.py"',
        'root = Path(__file__).resolve().parent.parent / "lessons"',
    ]
    assert all(REPOSITORY_LOOKUPS.search(line) for line in old)
    assert REPOSITORY_LOOKUPS.search("os.path.dirname(os.path.dirname(__file__))")
    assert not REPOSITORY_LOOKUPS.search("HERE = Path(__file__).resolve().parent")


def test_in_a_clone_the_lessons_are_the_clones_own():
    """This environment is the clone's editable install: the maintainer's lessons/ is what grades."""
    assert course_files.clone_folder() == ROOT
    assert course_files.lessons_folder() == ROOT / "lessons"
    assert [p.name for p in course_files.lesson_paths()] == LESSONS
    assert course_files.solutions_folder() == ROOT / "solutions"


def test_a_working_copy_keeps_edits_and_gives_a_fresh_copy_beside(tmp_path):
    first = copy_lessons(tmp_path / "course")
    assert first.added == LESSONS
    mine = tmp_path / "course" / LESSONS[2]
    nb = json.loads(mine.read_text())
    nb["cells"][-1]["source"] = "my own work"
    mine.write_text(json.dumps(nb))
    ran = tmp_path / "course" / LESSONS[0]  # only run: outputs and counts differ, the cells do not
    nb0 = json.loads(ran.read_text())
    for cell in nb0["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"], cell["outputs"] = (
                1,
                [{"output_type": "stream", "name": "stdout", "text": "x"}],
            )
    ran.write_text(json.dumps(nb0))
    (tmp_path / "course" / LESSONS[5]).unlink()

    again = copy_lessons(tmp_path / "course", fresh=True)
    assert again.added == [LESSONS[5]] and again.differ == [LESSONS[2]]
    assert "my own work" in mine.read_text()  # never overwritten
    fresh = mine.with_name(mine.stem + ".fresh.ipynb")
    assert same_lesson(fresh, course_files.lessons_folder() / LESSONS[2])
    assert again.fresh == [fresh.name] and LESSONS[2] in again.text()

    fresh.write_text(json.dumps(nb))  # the fresh copy edited too: a third run leaves it alone
    third = copy_lessons(tmp_path / "course", fresh=True)
    assert third.fresh_edited == [fresh.name] and "my own work" in fresh.read_text()


def test_folder_problems_name_the_option_and_the_value(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is a file, not a folder" in folder_problem(tmp_path / "file")
    assert "no folder can be made there" in folder_problem(tmp_path / "file" / "sub")
    (tmp_path / "c" / LESSONS[0]).mkdir(parents=True)
    assert f"{LESSONS[0]} there is a folder" in folder_problem(tmp_path / "c")
    assert folder_problem(Path("/proc/mesalib-course")).startswith("DIR /proc/mesalib-course: /proc cannot")
    assert folder_problem(tmp_path / "new" / "deeper") == ""


def test_course_refuses_before_any_work_without_jupyterlab(tmp_path, monkeypatch, capsys):
    from mesalib.teaching import cli

    real = __import__("importlib.util").util.find_spec
    monkeypatch.setattr(
        "importlib.util.find_spec", lambda name, *a: None if name == "jupyterlab" else real(name, *a)
    )
    assert cli.main(["course", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "JupyterLab is not installed" in err and "--no-lab" in err
    assert not (tmp_path / "c").exists()


# --- slow: the wheel in a fresh environment ---------------------------------------------------------


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, venv, work): the wheel built from the sdist, a venv with it installed, a folder to work in."""
    tmp = tmp_path_factory.mktemp("package")
    assert not tmp.is_relative_to(ROOT)
    dist = tmp / "dist"
    build = "from setuptools import build_meta as b; import sys; print(b.build_sdist(sys.argv[1]))"
    sdist = (
        dist / _timed("build sdist", [sys.executable, "-c", build, str(dist)], cwd=ROOT).stdout.split()[-1]
    )
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp / "sdist", filter="data")
    [source] = (tmp / "sdist").iterdir()
    _timed(
        "build wheel from the sdist",
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            ".",
        ],
        cwd=source,
    )
    [wheel] = dist.glob("*.whl")
    venv = tmp / "venv"
    _timed("create the venv", [sys.executable, "-m", "venv", "--without-pip", str(venv)])
    [site] = (venv / "lib").glob("python3*/site-packages")
    start = time.perf_counter()
    _link_dependencies(Path(sysconfig.get_paths()["purelib"]), site)
    TIMES["link the dependencies"] = round(time.perf_counter() - start, 1)
    _timed(
        "install the wheel",
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
    )
    work = tmp / "work"
    work.mkdir()
    yield wheel, venv, work
    print("\nsteps (s):", json.dumps(TIMES), f"\nwheel: {wheel.name}, {wheel.stat().st_size / 2**20:.2f} MiB")


def _link_dependencies(course: Path, site: Path) -> None:
    """Make the course environment's installed packages (all but mesalib) the new environment's own,
    as hard links: no download, no copy, and the grader's sandbox, which binds an environment's own
    site-packages, sees them as it would in any environment. Where hard links cannot be made (another
    file system), a .pth line names the course's site-packages instead; the sandbox does not bind that."""
    try:
        for entry in course.iterdir():
            if entry.name.startswith(("mesalib", "__editable__")):
                continue
            if entry.is_dir():
                shutil.copytree(entry, site / entry.name, copy_function=os.link, symlinks=True)
            else:
                os.link(entry, site / entry.name)
    except OSError:
        (site / "course_dependencies.pth").write_text(f"{course}\n")


def _run(venv: Path, work: Path, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(work), "MESALIB_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run(list(args), cwd=work, env=env, capture_output=True, text=True, timeout=600)
    TIMES[name] = round(time.perf_counter() - start, 1)
    if check:
        assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_the_wheel_holds_the_library_checkpoints_and_lessons_and_no_answers(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n.rsplit("/", 1)[1] for n in names if "/lesson_notebooks/" in n) == LESSONS
    assert "mesalib/agents/checkpoints/default.pt" in names and "mesalib/teaching/checks/lesson00.py" in names
    assert not [n for n in names if "solutions" in n or n.startswith("tests/")]
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return  # what else belongs to the package is git's to say (tracked, or new and not ignored)
    listed = ["git", "ls-files", "--cached", "--others", "--exclude-standard", "mesalib"]
    source = set(subprocess.run(listed, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split())
    assert source - set(names) == set(), "files of mesalib/ missing from the wheel (package-data?)"


@pytest.mark.slow
def test_the_fresh_environment_imports_the_installed_copy_not_the_clone(installed):
    _, venv, work = installed
    code = (
        "import mesalib; from mesalib.teaching import course_files as c; "
        "print(mesalib.__file__); print(c.lessons_folder()); print(c.clone_folder())"
    )
    out = _run(venv, work, "import", str(venv / "bin" / "python"), "-c", code).stdout.split("\n")
    assert Path(out[0]).is_relative_to(venv) and Path(out[1]).is_relative_to(venv) and out[2] == "None"
    bench = _run(venv, work, "mesalib bench", "mesalib", "bench", check=False)
    assert bench.returncode == 2 and "mesalib bench needs a clone" in bench.stderr
    export = _run(
        venv,
        work,
        "mesalib export nbgrader",
        "mesalib",
        "export",
        "nbgrader",
        "out",
        "--seed",
        "1",
        check=False,
    )  # the solutions do not ship
    assert export.returncode == 2 and "needs a clone" in export.stderr and not (work / "out").exists()


@pytest.mark.slow
def test_course_copies_the_lessons_and_keeps_an_edited_one_on_a_rerun(installed):
    _, venv, work = installed
    out = _run(venv, work, "mesalib course --no-lab", "mesalib", "course", "mine", "--no-lab").stdout
    assert sorted(p.name for p in (work / "mine").iterdir()) == LESSONS
    assert "mesalib lab 00_welcome.ipynb --root mine" in out
    edited = work / "mine" / LESSONS[1]
    nb = json.loads(edited.read_text())
    nb["cells"][0]["source"] = "notes of mine"
    edited.write_text(json.dumps(nb))
    again = _run(venv, work, "mesalib course again", "mesalib", "course", "mine", "--no-lab").stdout
    assert f"differ from the shipped version: {LESSONS[1]}" in again and "--fresh" in again
    assert json.loads(edited.read_text())["cells"][0]["source"] == "notes of mine"
    (work / "a-file").write_text("x")
    refused = _run(venv, work, "refused", "mesalib", "course", "a-file", "--no-lab", check=False)
    assert refused.returncode == 2 and "DIR a-file: is a file" in refused.stderr


@pytest.mark.slow
def test_lesson_00_runs_top_to_bottom_in_the_fresh_environment(installed):
    _, venv, work = installed
    _run(venv, work, "copy for lesson 00", "mesalib", "course", "run00", "--no-lab")
    code = (
        "import sys, nbformat, nbclient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nb.cells.append(nbformat.v4.new_code_cell('import mesalib; print(mesalib.__file__)'))\n"
        "nbclient.NotebookClient(nb, timeout=300, resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "print(nb.cells[-1].outputs[0]['text'])\n"
    )
    lesson = work / "run00" / LESSONS[0]
    out = _run(
        venv,
        work,
        "execute lesson 00",
        str(venv / "bin" / "python"),
        "-c",
        code,
        str(lesson),
        str(lesson.parent),
    )
    assert Path(out.stdout.split()[-1]).is_relative_to(venv)


def _class(work: Path, name: str, extra: dict[str, str] | None = None) -> Path:
    """A class folder: ann hands in the solution, bob the lesson as shipped (the stub), and `extra`
    learners their own source for lesson 00's exercise. Made here, from the clone's solutions/."""
    folder = work / name
    write_notebook(learner_notebook("00"), folder / "ann" / LESSONS[0])
    write_notebook(learner_notebook("00", solved=False), folder / "bob" / LESSONS[0])
    for learner, source in (extra or {}).items():
        write_notebook(learner_notebook("00", {"discounted_return": source}), folder / learner / LESSONS[0])
    return folder


def _grades(out: Path) -> dict[str, dict]:
    return {r["learner"]: r for r in json.loads((out / "grades.json").read_text())["learners"]}


@pytest.mark.slow
def test_grading_from_the_wheel_gives_a_solution_full_marks_and_a_stub_zero(installed):
    """The official lesson and its checks come from the installed package; bubblewrap isolates each."""
    _, venv, work = installed
    _class(work, "class")
    _run(
        venv,
        work,
        "mesalib grade",
        "mesalib",
        "grade",
        "class",
        "--out",
        "out",
        "--seed",
        "7",
        "--no-progress",
        "--trusted-class",
    )
    records = _grades(work / "out")
    assert (records["ann"]["total"], records["ann"]["max"]) == (1.0, 1)
    assert records["bob"]["total"] == 0.0


READS_THE_INSTALLED_ANSWER = """def discounted_return(rewards, gamma):
    import ast, sysconfig
    from pathlib import Path
    tree = ast.parse(Path(SITE, "mesalib", "analysis", "evaluate.py").read_text())
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
            or getattr(n, "name", "") == "discounted_return"]
    space = {}
    exec(compile(ast.Module(body=keep, type_ignores=[]), "answer", "exec"), space)
    return space["discounted_return"](rewards, gamma)
"""
"""A hostile answer: the library's own function, read from the installed wheel's source and run."""


@pytest.mark.slow
def test_grading_from_the_wheel_in_the_sandbox_offers_no_answers(installed):
    _, venv, work = installed
    [site] = (venv / "lib").glob("python3*/site-packages")
    hostile = READS_THE_INSTALLED_ANSWER.replace("SITE", repr(str(site.resolve())))
    _class(work, "sandboxed", {"eve": hostile})
    _run(
        venv,
        work,
        "mesalib grade (sandbox)",
        "mesalib",
        "grade",
        "sandboxed",
        "--out",
        "out2",
        "--seed",
        "7",
        "--no-progress",
    )
    records = _grades(work / "out2")
    assert (records["ann"]["total"], records["bob"]["total"], records["eve"]["total"]) == (1.0, 0.0, 0.0)
