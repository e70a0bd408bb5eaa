"""The check machinery, and that every exercise in `mesalib.teaching.checks` is wired into its notebook."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from mesalib.teaching import checks
from mesalib.teaching.checks import Case, CheckFailed, Exercise, close_number, same_array

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = checks.all_exercises()


def _notebook_exercises() -> dict[str, tuple[str, int, dict]]:
    found = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            meta = cell.metadata.get("mesalib", {})
            if "exercise" in meta:
                assert meta["exercise"] not in found, f"{meta['exercise']} appears twice"
                following = nb.cells[i + 1].metadata.get("mesalib", {}) if i + 1 < len(nb.cells) else {}
                found[meta["exercise"]] = (path.name, meta.get("points"), following)
    return found


def test_every_exercise_has_one_notebook_cell_with_its_points_and_a_check_right_after():
    in_notebooks = _notebook_exercises()
    assert set(in_notebooks) == set(EXERCISES), (
        "exercises in mesalib.teaching.checks and in solutions/ differ"
    )
    for ex_id, (name, points, following) in in_notebooks.items():
        exercise = EXERCISES[ex_id]
        assert name.startswith(exercise.lesson + "_"), (ex_id, name)
        assert points == exercise.points, (
            f"{ex_id}: the notebook says {points} points, the check {exercise.points}"
        )
        assert following.get("check") == ex_id, f"{ex_id}: the cell after the exercise must be its check"


SLOW_REFERENCES = {"lesson09.mystery_verdicts"}  # its reference gathers evidence on real agents


@pytest.mark.parametrize(
    "ex_id",
    [pytest.param(e, marks=pytest.mark.slow) if e in SLOW_REFERENCES else e for e in sorted(EXERCISES)],
)
def test_reference_passes_and_stub_fails(ex_id):
    exercise = EXERCISES[ex_id]
    assert exercise.run(lambda **kw: exercise.reference(**kw)).ok
    assert exercise.run(lambda **kw: exercise.reference(**kw), seed=123).ok

    def stub(**kwargs):
        raise NotImplementedError("Exercise: replace this line with your code.")

    outcome = exercise.run(stub)
    assert outcome.status == "not done" and "not done yet" in outcome.failure
    assert not exercise.run(exercise.reference).ok  # handing in the library's function is refused
    if isinstance(exercise, checks.JudgedExercise) and exercise.n_random == 0:
        return  # one answer judged on its merits (build a level): no inputs to randomise
    assert len(exercise.cases(0)) >= 10
    # The random cases depend on the seed (the grader draws hidden ones from its own).
    assert repr(exercise.cases(1)) != repr(exercise.cases(2))


def test_failure_report_names_case_expected_actual_and_hint(capsys):
    ex = Exercise(
        "99",
        "double",
        1,
        reference=lambda x: 2 * x,
        fixed_cases=lambda: [Case({"x": 3}, "three")],
        random_cases=lambda rng, n: [Case({"x": int(v)}) for v in rng.integers(0, 9, n)],
        hint="multiply by two",
        compare=close_number,
        n_random=5,
    )
    assert not ex(lambda x: x + 2).ok  # right for x = 2 only
    out = capsys.readouterr().out
    assert "Case (three):" in out and "x = 3" in out and "Expected:\n    6" in out
    assert "Got:\n    5" in out and "Hint: multiply by two" in out
    assert ex(lambda x: x * 2).ok
    assert "all 6 cases pass" in capsys.readouterr().out


def test_help_comes_in_two_tiers_the_nudge_first_the_recipe_on_request(capsys):
    ex = Exercise(
        "99",
        "double",
        1,
        reference=lambda x: 2 * x,
        fixed_cases=lambda: [Case({"x": 3})],
        random_cases=lambda rng, n: [],
        hint="return x + x, or 2 * x",
        nudge="what do you get when you add a number to itself?",
        compare=close_number,
    )
    assert not ex(lambda x: x + 2).ok
    out = capsys.readouterr().out
    assert "Hint: what do you get" in out and "checks.lesson99.double.recipe()" in out
    assert "x + x" not in out  # the recipe only on request
    ex.recipe()
    assert "double, step by step: return x + x, or 2 * x" in capsys.readouterr().out


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_every_exercise_has_a_nudge_shorter_than_its_recipe(ex_id):
    exercise = EXERCISES[ex_id]
    assert exercise.nudge and len(exercise.nudge) < len(exercise.hint), ex_id
    assert exercise.nudge not in exercise.hint


def test_an_exception_in_the_learners_code_is_reported_not_raised():
    ex = Exercise(
        "99",
        "inc",
        1,
        reference=lambda x: x + 1,
        fixed_cases=lambda: [Case({"x": 1})],
        random_cases=lambda rng, n: [],
        hint="add one",
        compare=close_number,
    )
    outcome = ex.run(lambda x: 1 / 0)
    assert not outcome.ok and "ZeroDivisionError" in outcome.failure


class EqualsAnything:
    def __eq__(self, other):
        return True

    __hash__ = None


def test_comparisons_refuse_objects_that_claim_equality():
    assert same_array(np.zeros(3), EqualsAnything()) is not None
    assert close_number(1.0, EqualsAnything()) is not None
    assert same_array(np.ones((2, 2), bool), [[1, 1], [1, 1]]) is None
    assert same_array(np.ones(2), np.ones(3)) == "shape (3,), expected (2,)"
    assert "1 of 2 values differ" in same_array(np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    assert close_number(1.0, True) is not None
    assert close_number(0.81, 0.81 + 1e-12) is None and close_number(0.81, 0.8) is not None


def test_nan_is_only_matched_by_nan():
    assert close_number(float("nan"), float("nan")) is None
    assert close_number(float("nan"), 0.5) is not None and close_number(0.5, float("nan")) is not None


def test_yours_or_reference_falls_back_until_the_check_passes(capsys):
    ex = checks.lesson00.discounted_return

    def stub(rewards, gamma):
        raise NotImplementedError

    def mine(rewards, gamma):
        return sum(gamma**t * r for t, r in enumerate(rewards))

    assert ex.yours_or_reference(stub) is ex.reference and "does not pass" in capsys.readouterr().out
    assert ex.yours_or_reference(mine) is mine and capsys.readouterr().out == ""


def _double() -> Exercise:
    return Exercise(
        "99",
        "double",
        1,
        reference=lambda x: 2 * x,
        fixed_cases=lambda: [Case({"x": 3}, "three")],
        random_cases=lambda rng, n: [],
        hint="multiply by two " + "and read the whole hint, which is long enough to need wrapping " * 3,
        compare=close_number,
    )


def _stub(x):
    raise NotImplementedError("Exercise: replace this line with your code.")


def test_in_jupyterlab_a_check_never_raises_and_says_the_lesson_goes_on(capsys):
    ex = _double()
    wrong, stub = ex(lambda x: x + 2), ex(_stub)
    assert (wrong.status, stub.status) == ("failed", "not done")
    out = capsys.readouterr().out
    assert "✗ double: 0 of 1 cases pass." in out and "Expected:\n    6" in out and "Got:\n    5" in out
    assert "· double: not done yet" in out
    assert out.count("goes on with the library's double until yours passes") == 2
    assert "Traceback" not in out


def test_under_validation_a_failing_check_raises_with_its_details(monkeypatch, capsys):
    monkeypatch.setenv(checks.VALIDATE, "1")
    ex = _double()
    with pytest.raises(CheckFailed) as wrong:
        ex(lambda x: x + 2)
    message = str(wrong.value)
    assert message.startswith("exercise double (lesson 99): 0 of 1 cases pass.")
    assert "Case (three):" in message and "Expected:\n    6" in message and "Got:\n    5" in message
    assert "Hint: multiply by two" in message
    with pytest.raises(CheckFailed, match="not done yet"):
        ex(_stub)
    assert ex(lambda x: x * 2).ok  # right work passes under validation too
    assert "✓ double: all 1 cases pass." in capsys.readouterr().out


def test_long_hints_wrap_at_word_boundaries(capsys):
    _double()(lambda x: x + 2)
    lines = capsys.readouterr().out.splitlines()
    hint = lines[next(i for i, line in enumerate(lines) if line.startswith("Hint:")) :]
    assert len(hint) > 2 and all(len(line) <= 88 for line in hint)
    words = "".join(hint).split()
    assert "wrapping" in words and "whole" in words  # no word cut in two


def test_each_check_appends_its_outcome_for_the_validation_command(monkeypatch, tmp_path):
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(checks.RESULTS, str(results))
    ex = _double()
    ex(_stub), ex(lambda x: x + 2), ex(lambda x: 2 * x)
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["status"] for r in records] == ["not done", "failed", "passed"]
    assert records[1]["exercise"] == "lesson99.double" and "Expected:" in records[1]["failure"]
