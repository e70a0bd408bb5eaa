"""Stated lesson times stay honest: each lesson's "Time: about N minutes" is at least the estimate from
its own content (prose at a study pace, code cells, the exercises' stated minutes), and not far above."""

from pathlib import Path

import nbformat
import pytest

from mesalib.teaching.lesson_time import STUDY_WPM, LessonTime, estimate, stated_minutes

SOLUTIONS = sorted((Path(__file__).resolve().parents[1] / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_stated_time_matches_the_estimate_from_the_content(path):
    stated, estimated = stated_minutes(path), estimate(path).total
    assert estimated * 0.9 <= stated <= estimated * 1.35 + 5, (
        f"{path.name} states about {stated} minutes; its content suggests {estimated:.0f} "
        f"({estimate(path)}); state a time within 10% below to 35% above the estimate"
    )


def test_the_estimate_counts_words_code_cells_and_exercise_minutes(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n**Time:** about 10 minutes. " + "word " * 10),
        nbformat.v4.new_markdown_cell("## Exercise\n" + "word " * (STUDY_WPM - 2) + "**Time:** 5-8 minutes."),
        nbformat.v4.new_code_cell("x = 1", metadata={"mesalib": {"exercise": "lesson99.x", "points": 1}}),
        nbformat.v4.new_code_cell("print(x)"),
    ]
    path = tmp_path / "99_x.ipynb"
    nbformat.write(nb, path)
    found = estimate(path)
    assert found.code_cells == 1 and found.exercise_minutes == 8.0  # the upper end; the title's not
    # "Title Time about 10 minutes" + 10 words, then "Exercise" + the words + "Time 5-8 minutes"
    assert found.words == (5 + 10) + (1 + STUDY_WPM - 2 + 3)
    assert stated_minutes(path) == 10
    assert LessonTime(STUDY_WPM * 2, 0, 0).total == 2.0
