"""Exercise checks: each compares a learner's function with the library's own implementation.

An `Exercise` knows its lesson, name and points, how to make test cases (a few fixed ones that show
the idea, then randomised ones from a seed), the reference implementation, and how to compare
answers. In a notebook you call it on your function:

    from mesalib.teaching import checks
    checks.lesson02.distance_map(distance_map)

It prints one line when every case passes; otherwise the first failing case (input, expected,
actual) and a hint. In JupyterLab a check never stops Run All: the lesson goes on with the library's
version (`yours_or_reference`). While a notebook is being *validated* (`MESALIB_VALIDATE=1`, set by
the pytest plugin when nbval runs) the same check raises `CheckFailed` with the same details, so
validation fails on unfinished or wrong work; `mesalib check` instead lets every cell run and collects
each check's outcome (`MESALIB_CHECK_RESULTS`). Cases and answers are plain data
(numbers, strings, lists, NumPy arrays), which is what lets the grader run learners' code in a
separate process and compare in its own.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import pkgutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Case",
    "CheckFailed",
    "Exercise",
    "JudgedExercise",
    "Outcome",
    "all_exercises",
    "same_array",
    "close_number",
    "validating",
]

VALIDATE = "MESALIB_VALIDATE"
"""Environment variable: "1" while a notebook is validated, so that a failing check fails its cell."""
RESULTS = "MESALIB_CHECK_RESULTS"
"""Environment variable: a file where each check appends its outcome as a JSON line (`mesalib check`)."""


def validating() -> bool:
    """Whether this kernel runs under validation (nbval, through the pytest plugin): failing checks raise."""
    return os.environ.get(VALIDATE) == "1"


class CheckFailed(AssertionError):
    """A check found a case where the learner's answer differs from the reference."""


@dataclass(frozen=True)
class Case:
    """Keyword arguments for one call (plain data), and a label that says what the case tests."""

    args: dict[str, Any]
    label: str = ""


@dataclass
class Outcome:
    """How a function did on an exercise's cases: `passed` of `total`, and the first failure's report.
    `not_done` marks the unchanged stub (it raised NotImplementedError)."""

    exercise: str
    passed: int
    total: int
    failure: str = ""
    not_done: bool = False

    @property
    def ok(self) -> bool:
        return self.passed == self.total

    @property
    def status(self) -> str:
        """ "passed", "not done" or "failed": what `mesalib check` reports for the exercise."""
        return "passed" if self.ok else "not done" if self.not_done else "failed"


def same_array(expected, actual) -> str | None:
    """None when `actual` has `expected`'s shape and values (numbers compared with a small tolerance);
    otherwise what differs. Objects that are not plain numbers or booleans are refused, not compared."""
    exp = np.asarray(expected)
    try:
        act = np.asarray(actual)
    except Exception as exc:  # e.g. a ragged list
        return f"could not read the answer as an array ({exc})"
    if act.dtype.kind not in "biuf":
        return (
            "the answer should hold numbers or booleans; "
            f"got an array of dtype {act.dtype} ({type(actual).__name__})"
        )
    if act.shape != exp.shape:
        return f"shape {act.shape}, expected {exp.shape}"
    if exp.dtype.kind == "f" or act.dtype.kind == "f":
        bad = ~np.isclose(act.astype(float), exp.astype(float), rtol=1e-5, atol=1e-6, equal_nan=True)
    else:
        bad = act.astype(np.int64) != exp.astype(np.int64)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        detail = (
            f" (first at index {where}: {act[where].item()!r} instead of {exp[where].item()!r})"
            if where
            else ""
        )
        return f"{int(bad.sum())} of {bad.size} values differ{detail}"
    return None


def close_number(expected, actual, tol: float = 1e-6) -> str | None:
    """None when `actual` is a real number within `tol` (relative) of `expected`."""
    if isinstance(actual, (bool, np.bool_)) or not isinstance(actual, (int, float, np.integer, np.floating)):
        if not (isinstance(actual, np.ndarray) and actual.shape == () and actual.dtype.kind in "iuf"):
            return f"expected a number; got {type(actual).__name__}"
    a, e = float(actual), float(expected)
    if np.isnan(e) or np.isnan(a):
        return None if np.isnan(e) and np.isnan(a) else f"{a!r} instead of {e!r}"
    if not np.isfinite(a) or abs(a - e) > tol * max(1.0, abs(e)):
        return f"{a!r} instead of {e!r}"
    return None


@dataclass(frozen=True)
class Exercise:
    """One exercise: its cases, the reference answer and how answers are compared.

    `fixed_cases()` returns the hand-picked cases; `random_cases(rng, n)` draws `n` more. `reference`
    is the library's implementation, called with each case's arguments. `compare(expected, actual)`
    returns None when the answer is right, else a short description of what is wrong. `show(case)`
    turns a case into text for the failure report.

    Help comes in two tiers, so that a learner gets to think first: a failure report shows the
    `nudge` (a direction, not the answer); `recipe()` prints the `hint`, the method step by step.
    """

    lesson: str
    name: str
    points: int
    reference: Callable[..., Any]
    fixed_cases: Callable[[], list[Case]]
    random_cases: Callable[[np.random.Generator, int], list[Case]]
    hint: str
    compare: Callable[[Any, Any], str | None] = same_array
    show: Callable[[Case], str] = field(default=lambda case: _show_args(case.args))
    n_random: int = 20
    nudge: str = ""

    @property
    def id(self) -> str:
        return f"lesson{self.lesson}.{self.name}"

    def cases(self, seed: int = 0) -> list[Case]:
        """The fixed cases, then `n_random` randomised ones drawn from `seed`."""
        return list(self.fixed_cases()) + list(self.random_cases(np.random.default_rng(seed), self.n_random))

    def call(self, fn: Callable, args: dict) -> Any:
        """Call `fn` on a case's arguments (a copy) and return its answer as plain data. Exercises whose
        functions take other types (torch tensors) override this; the grader calls learners' code
        only through it."""
        return fn(**copy.deepcopy(args))

    def expected(self, case: Case) -> Any:
        return self.call(self.reference, case.args)

    def judge(self, case: Case, actual: Any) -> str | None:
        """None if `actual` is the right answer to `case`, else what is wrong with it."""
        return self.compare(self.expected(case), actual)

    def run(self, fn: Callable, seed: int = 0) -> Outcome:
        """Call `fn` on every case and compare; the learner's code runs in this process (see grading)."""
        if fn is self.reference:
            return Outcome(self.id, 0, 1, "this is the library's own function, not yours: write your own.")
        cases = self.cases(seed)
        passed, failure = 0, ""
        problem: str | None
        for case in cases:
            try:
                actual = self.call(fn, case.args)
            except NotImplementedError:
                return Outcome(
                    self.id,
                    0,
                    len(cases),
                    "not done yet: replace the `raise NotImplementedError(...)` line with your code, "
                    "then run this cell again.",
                    not_done=True,
                )
            except Exception as exc:
                problem = f"raised {type(exc).__name__}: {exc}"
                actual = None
            else:
                problem = self.judge(case, actual)
            if problem is None:
                passed += 1
            elif not failure:
                failure = self.report(case, actual, problem)
        return Outcome(self.id, passed, len(cases), failure)

    def yours_or_reference(self, fn: Callable) -> Callable:
        """`fn` once it passes this check; until then the library's reference, with a note. Lessons
        use it so that the cells after an exercise run, and show the right pictures, before it is done."""
        if self.run(fn).ok:
            return fn
        print(f"Note: your {self.name} does not pass its check yet; the cells below use the library's.")
        return self.reference

    def report(self, case: Case, actual: Any, problem: str) -> str:
        label = f" ({case.label})" if case.label else ""
        return (
            f"Case{label}:\n{_indent(self.show(case))}\n"
            f"Expected:\n{_indent(_show_value(self.expected(case)))}\n"
            f"Got:\n{_indent(_show_value(actual))}\n"
            f"{_wrap('Problem: ' + problem)}\n{self.help_lines()}"
        )

    def help_lines(self) -> str:
        """The first tier of help for a failure report: the nudge, and how to ask for the recipe."""
        if not self.nudge:
            return _wrap("Hint: " + self.hint)
        ask = f"Stuck? checks.{self.id}.recipe() prints the method step by step."
        return f"{_wrap('Hint: ' + self.nudge)}\n{_wrap(ask)}"

    def recipe(self) -> None:
        """Print the second tier of help: the method step by step (the exercise's `hint`)."""
        print(_wrap(f"{self.name}, step by step: {self.hint}"))

    def __call__(self, fn: Callable, seed: int = 0) -> Outcome:
        """Check `fn` in a notebook and print the verdict. It never stops a learner's Run All; under
        validation (`validating()`) an unfinished or wrong answer raises CheckFailed with the details."""
        outcome = self.run(fn, seed)
        _record(outcome)
        if outcome.ok:
            print(f"✓ {self.name}: all {outcome.total} cases pass.")
            return outcome
        if outcome.not_done:
            verdict = outcome.failure
        else:
            verdict = f"{outcome.passed} of {outcome.total} cases pass.\n{outcome.failure}"
        if validating():
            raise CheckFailed(f"exercise {self.name} (lesson {self.lesson}): {verdict}")
        mark = "·" if outcome.not_done else "✗"
        goes_on = f"(The lesson goes on with the library's {self.name} until yours passes.)"
        print(f"{mark} {self.name}: {verdict}\n{_wrap(goes_on)}")
        return outcome


@dataclass(frozen=True)
class JudgedExercise(Exercise):
    """An exercise with many right answers (build a level, choose a set): `compare(expected, actual)`
    judges the answer on its own merits and ignores `expected`, which is only the library's example.
    Its failure report shows the learner's answer and what is wrong with it, never the example."""

    show_answer: Callable[[Any], str] = field(default=lambda answer: _show_value(answer))

    def report(self, case: Case, actual: Any, problem: str) -> str:
        label = f" ({case.label})" if case.label else ""
        return (
            f"Case{label}.\nYour answer:\n{_indent(self.show_answer(actual))}\n"
            f"{_wrap('Problem: ' + problem)}\n{self.help_lines()}"
        )


def _record(outcome: Outcome) -> None:
    """Append the outcome to the file named by MESALIB_CHECK_RESULTS, when `mesalib check` asks for it."""
    path = os.environ.get(RESULTS)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(vars(outcome) | {"status": outcome.status}) + "\n")


def _wrap(text: str, width: int = 88) -> str:
    """Wrap prose at word boundaries (JupyterLab breaks long output lines mid-word)."""
    return textwrap.fill(
        text, width, break_long_words=False, break_on_hyphens=False, subsequent_indent="    "
    )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _show_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            value = value.astype(np.int8)
        return np.array2string(value, max_line_width=100, threshold=400)
    return repr(value)


def _show_args(args: dict) -> str:
    return "\n".join(f"{k} = {_show_value(v)}" for k, v in args.items())


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of the course by id ("lesson02.distance_map"), from the `lessonNN` modules here."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("lesson"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            for value in vars(module).values():
                if isinstance(value, Exercise):
                    found[value.id] = value
    return found


def __getattr__(name: str):
    """`checks.lesson02` imports the lesson's module on first use."""
    if name.startswith("lesson"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError:
            pass
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
