"""`mesalib export nbgrader`: the solution notebooks as an nbgrader course.

The quick tests check the conversion and run the graded cell in this process on the right answer,
the stub, a wrong answer and an answer that memorised the public cases (only the hidden tests catch
it). The slow test round-trips through a real nbgrader (0.9.6) in a temporary course directory with
its own database: `generate_assignment` makes the release version, `autograde` gives the answer full
marks and the stub and the memorised answer zero, and `nbgrader export` reports it.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mesalib.teaching import export_command, nbgrader_export
from mesalib.teaching.course_files import CourseFilesMissing
from mesalib.teaching.lessons import strip_solutions
from mesalib.teaching.nbgrader_export import ExportError, export_course, nbgrader_notebook

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
SEED = 4711

MEMORISED = '''from mesalib.teaching import checks

_public = {
    repr(case.args): checks.lesson00.discounted_return.expected(case)
    for case in checks.lesson00.discounted_return.cases(0)
}


def discounted_return(rewards, gamma):
    """Right on the cases the lesson's check shows (seed 0), zero elsewhere."""
    return _public.get(repr({"rewards": rewards, "gamma": gamma}), 0.0)
'''


def _converted(name: str) -> nbformat.NotebookNode:
    return nbgrader_notebook(nbformat.read(SOLUTIONS / name, as_version=4), SEED, name=name)


def _graded(nb: nbformat.NotebookNode) -> dict[str, dict]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


@pytest.mark.parametrize("name", ["00_welcome.ipynb", "02_heuristics.ipynb"])
def test_exercises_become_solution_cells_and_checks_graded_test_cells(name):
    solution = nbformat.read(SOLUTIONS / name, as_version=4)
    exported = _converted(name)
    exercises = {
        c.metadata["mesalib"]["exercise"]: c.metadata["mesalib"]["points"]
        for c in solution.cells
        if "exercise" in c.metadata.get("mesalib", {})
    }
    graded = _graded(exported)
    assert len(graded) == 2 * len(exercises) > 0
    for exercise, points in exercises.items():
        function = exercise.split(".")[1]
        answer, test = graded[function], graded[f"{function}_test"]
        assert answer.metadata["nbgrader"] == {
            "grade_id": function,
            "solution": True,
            "grade": False,
            "locked": False,
            "schema_version": 3,
        }
        assert "### BEGIN SOLUTION" in answer.source
        assert test.metadata["nbgrader"]["grade"] and test.metadata["nbgrader"]["points"] == points
        assert f"checks.{exercise}({function})" in test.source
        hidden = test.source.split("### BEGIN HIDDEN TESTS")[1]
        assert f"seed={SEED}" in hidden and "### END HIDDEN TESTS" in hidden
    assert all(not c.get("outputs") for c in exported.cells)
    assert sum("nbgrader" not in c.metadata for c in exported.cells) == len(solution.cells) - len(graded)


def _run_graded(exercise_source: str, hidden: bool = True) -> None:
    """Run an exercise cell, then the exported test cell (without its hidden region if not `hidden`)."""
    test = _graded(_converted("00_welcome.ipynb"))["discounted_return_test"].source
    if not hidden:
        test = test.split("### BEGIN HIDDEN TESTS")[0]
    namespace: dict = {}
    exec(exercise_source, namespace)
    exec(test, namespace)


def test_the_graded_cell_passes_the_answer_and_fails_stub_wrong_and_memorised_answers(capsys):
    answer = _graded(_converted("00_welcome.ipynb"))["discounted_return"].source
    _run_graded(answer)
    with pytest.raises(AssertionError, match="not done yet"):
        _run_graded(strip_solutions(answer))
    with pytest.raises(AssertionError, match="Problem: 1.0 instead of 0.81"):
        _run_graded("def discounted_return(rewards, gamma):\n    return float(sum(rewards))\n")
    _run_graded(MEMORISED, hidden=False)  # the public check alone is fooled ...
    with pytest.raises(AssertionError, match="hidden cases pass"):
        _run_graded(MEMORISED)  # ... the hidden cases are not


def test_export_writes_config_and_refuses_to_replace_without_force(tmp_path):
    written = export_course(tmp_path, SEED, lessons=["00"], solutions=SOLUTIONS)
    assert written == [tmp_path / "source" / "lesson00" / "00_welcome.ipynb"]
    config = tmp_path / nbgrader_export.CONFIG_FILE
    assert "ClearSolutions.code_stub" in config.read_text()
    config.write_text("c = get_config()  # the instructor's own\n")
    with pytest.raises(ExportError, match="--force"):
        export_course(tmp_path, SEED, lessons=["00"], solutions=SOLUTIONS)
    export_course(tmp_path, SEED, lessons=["00"], solutions=SOLUTIONS, force=True)
    assert config.read_text() == "c = get_config()  # the instructor's own\n"
    with pytest.raises(ExportError, match="lesson.s. 42"):
        export_course(tmp_path, SEED, lessons=["42"], solutions=SOLUTIONS)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mesalib")
    export_command.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_from_a_wheel_the_command_says_a_clone_is_needed(tmp_path, monkeypatch, capsys):
    def no_clone():
        raise CourseFilesMissing("reading the solution notebooks needs a clone of the course's repository")

    monkeypatch.setattr(nbgrader_export, "solutions_folder", no_clone)
    args = _parse(["export", "nbgrader", str(tmp_path / "course"), "--seed", "1"])
    assert args.run(args) == 2
    assert "mesalib export nbgrader: reading the solution notebooks needs a clone" in capsys.readouterr().err
    assert not (tmp_path / "course").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["export", "nbgrader", "x"], "--seed"),
        (["export", "nbgrader", "x", "--seed", "-3"], "--seed: -3 is not allowed: use a whole number >= 0"),
        (["export", "nbgrader", "x", "--seed", "1", "--lessons", "2"], "'2' is not allowed: use a two-digit"),
    ],
)
def test_bad_options_are_refused_with_what_is_allowed(argv, message, capsys):
    with pytest.raises(SystemExit):
        _parse(argv)
    assert message in capsys.readouterr().err


# --- slow: a real nbgrader ---------------------------------------------------------------------------


NBGRADER_APART = Path(sys.prefix) / "nbgrader"
"""Where `make setup` installs nbgrader (`pip install --target`), apart from the course's environment, so
that its JupyterLab menus and server extensions never appear in the learners' JupyterLab."""


def _nbgrader_path() -> str | None:
    """The empty string when nbgrader is importable here, the folder for PYTHONPATH when it is installed
    apart, None when there is none."""
    if importlib.util.find_spec("nbgrader") is not None:
        return ""
    return str(NBGRADER_APART) if (NBGRADER_APART / "nbgrader").is_dir() else None


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if _nbgrader_path():
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_nbgrader_path(), env.get("PYTHONPATH")]))
    env.pop("MESALIB_VALIDATE", None)  # an instructor's kernel: checks print, the test cells assert
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"nbgrader {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def _submit(course: Path, student: str, nb: nbformat.NotebookNode) -> None:
    folder = course / "submitted" / student / "lesson00"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "00_welcome.ipynb")


@pytest.mark.slow
def test_a_real_nbgrader_gives_the_answer_full_marks_and_the_stub_zero(tmp_path):
    if _nbgrader_path() is None:
        reason = (
            f"needs nbgrader (make setup installs it in {NBGRADER_APART}; or pip install -e '.[nbgrader]')"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: it must not be skipped)")
        pytest.skip(reason)
    course = tmp_path / "course"
    export_course(course, SEED, solutions=SOLUTIONS)  # every lesson converts
    assert len(list((course / "source").glob("lesson*/*.ipynb"))) == len(
        list(SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    )
    for lesson in ("lesson00", "lesson02"):
        _nbgrader(course, "generate_assignment", lesson)
        released = next((course / "release" / lesson).glob("*.ipynb")).read_text()
        assert "HIDDEN TESTS" not in released and f"seed={SEED}" not in released
        assert "### BEGIN SOLUTION" not in released
        assert "Exercise: replace this line with your code." in released

    release = nbformat.read(course / "release" / "lesson00" / "00_welcome.ipynb", as_version=4)
    source = _graded(nbformat.read(course / "source" / "lesson00" / "00_welcome.ipynb", as_version=4))
    answered, memorised = nbformat.from_dict(release), nbformat.from_dict(release)
    _graded(answered)["discounted_return"].source = source["discounted_return"].source
    _graded(memorised)["discounted_return"].source = MEMORISED
    for student, nb in (("answer", answered), ("stub", release), ("memorised", memorised)):
        _submit(course, student, nb)
    _nbgrader(course, "autograde", "lesson00", "--create")
    _nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as grades:
        scores = {
            row["student_id"]: (float(row["score"]), float(row["max_score"]))
            for row in csv.DictReader(grades)
            if row["assignment"] == "lesson00"
        }
    assert scores == {"answer": (1.0, 1.0), "stub": (0.0, 1.0), "memorised": (0.0, 1.0)}
