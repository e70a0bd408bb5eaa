"""A learner's Run All reaches the end of every lesson: in each exercise version (stubs unfinished), run
in a fresh kernel as `mesalib check` runs it, no cell raises and every exercise is reported "not done".

This is the promise of the check cells (they never stop Run All; the lesson goes on with the library's
version), kept for every lesson and every future edit of one. The browser test shows the same in
JupyterLab for one lesson; this one covers all of them without a browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mesalib.teaching.validate import check_notebook, lesson_exercises

LESSONS = sorted((Path(__file__).resolve().parent.parent / "lessons").glob("*.ipynb"))
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("lesson", LESSONS, ids=[p.stem for p in LESSONS])
def test_run_all_reaches_the_end_of_the_exercise_version(lesson):
    report = check_notebook(lesson, progress=False)
    assert report.errors == [], report.text()
    assert list(report.outcomes) == lesson_exercises(lesson)
    assert [o.status if o else "never checked" for o in report.outcomes.values()] == ["not done"] * len(
        report.outcomes
    ), report.text()
