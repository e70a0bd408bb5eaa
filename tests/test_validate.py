"""Validation as a learner meets it: `mesalib check`, plain `pytest --nbval-lax`, and lessons that carry no
output comparisons. Each runs a real kernel on a small lesson "02_mine.ipynb" written here: one exercise
wrong, one not done, one right, a cell that raises, and stale saved outputs from an earlier failed run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from mesalib.teaching import checks
from mesalib.teaching.cli import main
from mesalib.teaching.lessons import OUTPUT_CHECK
from mesalib.teaching.validate import check_notebook, lesson_exercises

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # each test starts a kernel

IMPORTS = "import numpy as np\nfrom mesalib.teaching import checks\nfrom mesalib.env.levels import TRAIN"
WRONG_DISTANCE = "def distance_map(walls, targets):\n    return np.zeros(walls.shape, dtype=np.int64)"
STUB_NEAREST = (
    'def nearest_key(*args, **kwargs):\n    raise NotImplementedError("Exercise: replace this line.")'
)


def _right(name: str) -> str:
    """A right answer that is not the library's own function object (which the checks refuse)."""
    return f"def {name}(*args, **kwargs):\n    return checks.lesson02.{name}.reference(*args, **kwargs)"


RIGHT_KTC = _right("key_then_chest")
THREE = ["distance_map", "nearest_key", "key_then_chest"]
MORE = [name for name in lesson_exercises(Path("02_mine.ipynb")) if name not in THREE]
"""Lesson 02's later exercises: answered right in "02_mine", so the tests hold as the lesson grows."""


def _lesson(path: Path, distance: str = WRONG_DISTANCE, stale: bool = True) -> Path:
    cells = [
        nbformat.v4.new_markdown_cell("# Lesson 02, mine"),
        nbformat.v4.new_code_cell(IMPORTS),
        nbformat.v4.new_markdown_cell("## Exercise 2.1: distance_map"),
        nbformat.v4.new_code_cell(distance),
        nbformat.v4.new_code_cell("_ = checks.lesson02.distance_map(distance_map)"),
        nbformat.v4.new_code_cell(STUB_NEAREST),
        nbformat.v4.new_code_cell("_ = checks.lesson02.nearest_key(nearest_key)"),
        nbformat.v4.new_markdown_cell("## Exercise 2.3\n\nKeys, then chests."),
        nbformat.v4.new_code_cell(RIGHT_KTC),
        nbformat.v4.new_code_cell("_ = checks.lesson02.key_then_chest(key_then_chest)"),
        *[cell for name in MORE for cell in _answered(name)],
        nbformat.v4.new_markdown_cell("## Looking further"),
        nbformat.v4.new_code_cell("ratio = 1 / 0"),
        nbformat.v4.new_code_cell("print('the last cell ran')"),
    ]
    if stale:  # an earlier run in which distance_map failed, saved with its output
        cells[4].execution_count = 3
        cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="✗ distance_map: 0 of 28\n")]
    nb = nbformat.v4.new_notebook(cells=cells, metadata=_lesson_metadata())
    nbformat.write(nb, path)
    return path


def _answered(name: str) -> list:
    return [
        nbformat.v4.new_markdown_cell(f"## {name}"),
        nbformat.v4.new_code_cell(_right(name)),
        nbformat.v4.new_code_cell(f"_ = checks.lesson02.{name}({name})"),
    ]


def _lesson_metadata() -> dict:
    return {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}


def test_exercises_of_a_lesson_come_from_its_number():
    assert lesson_exercises(Path("lessons/02_heuristics.ipynb")) == THREE + MORE
    assert lesson_exercises(Path("notes.ipynb")) == []


def test_check_reports_each_exercise_and_each_cell_that_raised(tmp_path):
    report = check_notebook(_lesson(tmp_path / "02_mine.ipynb"), progress=False)
    outcomes = report.outcomes
    assert [outcomes[n].status for n in ("distance_map", "nearest_key", "key_then_chest")] == [
        "failed",
        "not done",
        "passed",
    ]
    assert not report.ok and len(report.errors) == 1
    error = report.errors[0]
    assert error.section == "Looking further" and error.first_line == "`ratio = 1 / 0`"
    assert error.error.startswith("ZeroDivisionError")
    text = report.text()
    assert "✗ distance_map: failed, " in text and "Expected:" in text and "Got:" in text and "Hint:" in text
    assert "· nearest_key: not done yet" in text and "✓ key_then_chest: passed" in text
    assert "a cell in “Looking further” (`ratio = 1 / 0`) raised ZeroDivisionError" in text
    assert [outcomes[n].status for n in MORE] == ["passed"] * len(MORE)
    n = len(THREE + MORE)
    assert text.endswith(f"{1 + len(MORE)} of {n} exercises pass; 1 other cells raised: not yet.")


def test_stale_saved_outputs_never_fail_correct_work(tmp_path, capsys):
    path = _lesson(tmp_path / "02_mine.ipynb", distance=_right("distance_map"), stale=True)
    nb = nbformat.read(path, as_version=4)
    nb.cells[5].source = _right("nearest_key")
    [cell] = [c for c in nb.cells if c.source == "ratio = 1 / 0"]
    cell.source = "ratio = 1 / 2"
    nbformat.write(nb, path)
    assert main(["check", "--no-progress", str(path)]) == 0
    out = capsys.readouterr().out
    n = len(THREE + MORE)
    assert out.rstrip().endswith(f"{n} of {n} exercises pass; 0 other cells raised: all good.")
    assert nbformat.read(path, as_version=4).cells[4].outputs[0].text.startswith("✗")  # file untouched


def _nbval(path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != checks.VALIDATE}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", str(path)]
    return subprocess.run(cmd, cwd=path.parent, env=env, capture_output=True, text=True, timeout=300)


def test_plain_nbval_fails_on_unfinished_work_and_shows_the_checks_details(tmp_path):
    run = _nbval(_lesson(tmp_path / "02_mine.ipynb"))
    assert run.returncode == 1, run.stdout
    out = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout)  # IPython colours its tracebacks
    assert "CheckFailed: exercise distance_map (lesson 02): 0 of" in out
    assert "Expected:" in out and "Hint:" in out
    assert "CheckFailed: exercise nearest_key (lesson 02): not done yet" in out
    assert "ZeroDivisionError" in out
    assert "3 failed" in out  # the stale cell is judged on this run, not on its saved output


def test_the_generated_lessons_compare_no_outputs():
    for path in sorted((ROOT / "lessons").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            assert OUTPUT_CHECK not in cell.source, path.name


def _within(seconds: float, function, *args, **kwargs):
    """`function(*args, **kwargs)`, failing the test (not hanging it) if it has not returned in time."""
    result: list = []
    worker = threading.Thread(target=lambda: result.append(function(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"{function.__name__} still running after {seconds} s"
    return result[0]


@pytest.mark.parametrize(
    "code, says",
    [
        ("while True:\n    pass", "ran longer than the 5 s limit (--timeout), so the check stopped there"),
        ("import os\nos._exit(1)", "ended its kernel (os._exit, a crash, or too little memory)"),
    ],
    ids=["endless loop", "kernel ended"],
)
def test_a_cell_that_never_ends_or_ends_the_kernel_stops_the_check_with_a_report(tmp_path, code, says):
    cells = [
        nbformat.v4.new_markdown_cell("# Lesson 02, mine"),
        nbformat.v4.new_code_cell("ready = True"),
        nbformat.v4.new_markdown_cell("## Exercise 2.2: nearest_key"),
        nbformat.v4.new_code_cell(code),
        nbformat.v4.new_code_cell("print('never')"),
    ]
    path = tmp_path / "02_mine.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=_lesson_metadata()), path)
    report = _within(90, check_notebook, path, timeout=5, progress=False)
    [stop] = report.errors
    assert stop.stopped and stop.error.startswith(says) and stop.section == "Exercise 2.2: nearest_key"
    assert not report.ok and set(report.outcomes.values()) == {None}
    text = report.text()
    assert f"! a cell in “Exercise 2.2: nearest_key” (`{code.splitlines()[0]}`) {says}" in text
    assert "? nearest_key: not checked" in text and "Traceback" not in text


@pytest.mark.parametrize("content", ["{not json", '{"cells": 3}', "\udcff"], ids=["text", "json", "bytes"])
def test_a_file_that_is_no_notebook_is_reported_not_raised(tmp_path, capsys, content):
    path = tmp_path / "02_heuristics.ipynb"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    assert main(["check", "--no-progress", str(path)]) == 1  # before: a traceback of nbformat
    out = capsys.readouterr().out
    assert f"{path}:\n  ! not a notebook Jupyter can open (" in out and out.rstrip().endswith("nothing ran.")


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.ipynb", "does not exist"),
        ("folder", "is a folder"),
        ("notes.txt", "is not a .ipynb file"),
    ],
)
def test_check_refuses_what_is_not_a_notebook(tmp_path, capsys, name, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    before = sorted(tmp_path.iterdir())
    assert main(["check", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert f"NOTEBOOK {str(tmp_path / name)!r} {message}" in err and "lessons/02_heuristics.ipynb" in err
    assert sorted(tmp_path.iterdir()) == before
