"""Validation as a learner meets it: `mesalib check`, plain `pytest --nbval-lax`, and lessons that carry no
output comparisons. Each runs a real kernel on a small lesson "02_mine.ipynb" written here: one exercise
wrong, one not done, one right, a cell that raises, and stale saved outputs from an earlier failed run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
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
        nbformat.v4.new_markdown_cell("## Looking further"),
        nbformat.v4.new_code_cell("ratio = 1 / 0"),
        nbformat.v4.new_code_cell("print('the last cell ran')"),
    ]
    if stale:  # an earlier run in which distance_map failed, saved with its output
        cells[4].execution_count = 3
        cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="✗ distance_map: 0 of 28\n")]
    nb = nbformat.v4.new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
    )
    nbformat.write(nb, path)
    return path


def test_exercises_of_a_lesson_come_from_its_number():
    assert lesson_exercises(Path("lessons/02_heuristics.ipynb")) == [
        "distance_map",
        "nearest_key",
        "key_then_chest",
    ]
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
    assert text.endswith("1 of 3 exercises pass; 1 other cells raised: not yet.")


def test_stale_saved_outputs_never_fail_correct_work(tmp_path, capsys):
    path = _lesson(tmp_path / "02_mine.ipynb", distance=_right("distance_map"), stale=True)
    nb = nbformat.read(path, as_version=4)
    nb.cells[5].source = _right("nearest_key")
    nb.cells[11].source = "ratio = 1 / 2"
    nbformat.write(nb, path)
    assert main(["check", "--no-progress", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("3 of 3 exercises pass; 0 other cells raised: all good.")
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
