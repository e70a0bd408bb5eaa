"""Scoring one exercise from its run: the run's own verdict, then each case judged, then points.

The learner's answers come back from the sandbox as plain data and are judged here, in the
grader's process, with the exercise's own `compare` (or its `judge`), against the expected answers
computed once per grading run (`Prepared`). Partial credit: points x passed / total cases, rounded
down to a hundredth of a point (`hundredths`).
"""

from __future__ import annotations

import copy
import signal
from dataclasses import dataclass, field

from mesalib.teaching.checks import Case, Exercise
from mesalib.teaching.grading import plain
from mesalib.teaching.grading.imitation import imitates_check
from mesalib.teaching.grading.package_view import STUB_ERROR
from mesalib.teaching.grading.provenance import origin_problem
from mesalib.teaching.grading.sandbox import Limits, RunResult

__all__ = ["ExerciseResult", "Prepared", "hundredths", "run_status", "score"]


def hundredths(points: int, passed: int, total: int) -> int:
    """Partial credit in hundredths of a point, rounded down: 3 points, 22 of 23 -> 286 (2.86)."""
    if total <= 0:
        return 0
    return (points * 100 * passed) // total


@dataclass
class Prepared:
    """One exercise's cases for a grading run: public ones first, then hidden ones, their expected
    answers, the case arguments as the sandbox reads them, the library objects that are its answer,
    the canonical code of those (to recognise a copy) and the exercise's own call adapter."""

    exercise: Exercise
    cases: list[Case]
    n_public: int
    expected: list
    blob: tuple[bytes, bytes]
    guards: list[str]
    shapes: set[str]
    call: str | None


@dataclass
class ExerciseResult:
    """An exercise's status, message, points (in hundredths) and passed cases, as the record keeps it."""

    exercise: Exercise
    status: str
    message: str = ""
    hundredths: int = 0
    public: tuple[int, int] = (0, 0)
    hidden: tuple[int, int] = (0, 0)
    report: str = ""  # the first failing public case (input, expected, got, problem, hint)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "exercise": self.exercise.id,
            "name": self.exercise.name,
            "max": self.exercise.points,
            "points": self.hundredths / 100,
            "status": self.status,
            "message": self.message,
            "public": list(self.public),
            "hidden": list(self.hidden),
            "report": self.report,
            "notes": self.notes,
        }


def run_status(run: RunResult, limits: Limits) -> tuple[str, str] | None:
    """The status and message when the run itself says how the exercise ends (a sandbox error, a
    limit, a crash, a raised exit, a stub, a function from elsewhere); None when its answers are to be
    judged."""
    if run.error:
        return "sandbox_error", run.error + " (not caused by the submission: grade it again)"
    if run.timed_out or run.lost == "timeout":
        return (
            "timeout",
            f"the code ran longer than the {limits.wall_s:g} s limit (an endless loop, or sleeping?)",
        )
    if run.lost:
        return "crashed", "the sandbox running the code ended before this exercise was done"
    if run.signal is not None:
        if run.signal == signal.SIGXCPU or (run.signal == signal.SIGKILL and run.cpu_s >= 0.9 * limits.cpu_s):
            return "cpu_limit", f"the code used more than {limits.cpu_s:g} s of CPU time"
        if run.signal == signal.SIGXFSZ:
            return "output_limit", f"the code printed or wrote more than {limits.file_mb} MiB"
        try:
            sig = signal.Signals(run.signal).name
        except ValueError:
            sig = str(run.signal)
        return "crashed", f"the process running the code died ({sig})"
    if run.exit_code != 0:
        return (
            "crashed",
            f"the process running the code exited early with code {run.exit_code} (os._exit?)",
        )
    if run.status == "memory_limit":
        return (
            "memory_limit",
            f"the code asked for more than the {limits.memory_mb} MiB of memory allowed",
        )
    if run.status == "exit_raised":
        return (
            "exit_raised",
            f"the code raised {run.detail or 'SystemExit'}, which stops the grader's run",
        )
    if run.status == "not_implemented":
        return "not_implemented", "not implemented yet: the stub still raises NotImplementedError"
    if run.status == "no_function":
        return "no_function", f"the cell does not define the function ({run.detail})"
    if run.status != "ok":
        return "bad_answers", f"the answers could not be read back ({run.detail or run.status})"
    return None


def _reference_called(run: RunResult) -> str | None:
    """The library answer the code tried to call (it has no code in the sandbox), or None."""
    if run.cell_error.startswith(STUB_ERROR):
        return run.cell_error.partition(": ")[2]
    for answer in run.answers or []:
        if isinstance(answer, plain.Raised) and answer.type_name == STUB_ERROR:
            return answer.message
    return None


def score(prepared: Prepared, run: RunResult, fake: list[str], limits: Limits) -> ExerciseResult:
    """The result of one exercise's run: its stop status, or its judged answers and points. `fake`:
    the check-output imitations the static check found in the cell."""
    exercise = prepared.exercise
    stopped = run_status(run, limits)
    if stopped:
        return ExerciseResult(exercise, *stopped)
    called = _reference_called(run)
    if called:
        target = called.partition(" is the library")[0][:120]
        return ExerciseResult(
            exercise,
            "reads_reference",
            f"the code calls {target}, the library's answer: this exercise must be solved with your own code",
        )
    foreign = origin_problem(exercise.name, run.origin)
    if foreign:
        return ExerciseResult(exercise, "provenance", foreign)
    stopped = _unusable_answers(prepared, run.answers or [])
    if stopped:
        return ExerciseResult(exercise, *stopped)
    passed_public, passed_hidden, report = _judge_answers(prepared, run.answers or [])
    n_public, n_hidden = prepared.n_public, len(prepared.cases) - prepared.n_public
    passed, total = passed_public + passed_hidden, len(prepared.cases)
    result = ExerciseResult(
        exercise,
        "ok",
        hundredths=hundredths(exercise.points, passed, total),
        public=(passed_public, n_public),
        hidden=(passed_hidden, n_hidden),
        report=report,
    )
    printed = imitates_check(run.output or "", exercise.name)
    if passed < total and (fake or printed):
        text = fake[0] if fake else printed or ""
        return ExerciseResult(
            exercise,
            "fake_output",
            f"the code prints {text!r}, imitating a passing check, "
            f"while {total - passed} of {total} cases fail",
            public=result.public,
            hidden=result.hidden,
            report=report,
        )
    if passed == total:
        result.message = f"all {total} cases pass"
    else:
        result.status = "partial" if passed else "failed"
        where = f"{passed_public} of {n_public} public and {passed_hidden} of {n_hidden} hidden cases pass"
        result.message = f"{passed} of {total} cases pass ({where})"
    if run.cell_error:
        kind = run.cell_error.partition(":")[0][:60]
        result.notes.append(f"running the cell raised {kind} (after defining the function)")
    return result


def _unusable_answers(prepared: Prepared, answers: list) -> tuple[str, str] | None:
    """A status when the answers cannot be judged at all: too few or too many, or an object that
    defines its own == (which could claim to equal anything)."""
    if len(answers) != len(prepared.cases):
        return "bad_answers", f"{len(answers)} answers for {len(prepared.cases)} cases"
    for answer in answers:
        liar = plain.contains_eq(answer)
        if liar:
            return (
                "custom_eq",
                f"the function returned an object of class {liar}, "
                "which defines its own ==: answers must be plain numbers, lists or arrays",
            )
    return None


def _judge_answers(prepared: Prepared, answers: list) -> tuple[int, int, str]:
    """Public and hidden cases passed, and the report of the first failing public case."""
    exercise = prepared.exercise
    passed_public = passed_hidden = 0
    report = ""
    judge_is_compare = type(exercise).judge is Exercise.judge
    for i, (case, expected, actual) in enumerate(zip(prepared.cases, prepared.expected, answers)):
        problem = _problem(exercise, case, expected, actual, judge_is_compare)
        public = i < prepared.n_public
        if problem is None:
            if public:
                passed_public += 1
            else:
                passed_hidden += 1
        elif public and not report:
            report = _failure_report(exercise, case, actual, problem)
    return passed_public, passed_hidden, report


def _problem(exercise: Exercise, case: Case, expected, actual, judge_is_compare: bool) -> str | None:
    """None when `actual` is right, else what is wrong with it (a raise or non-plain data included)."""
    if isinstance(actual, plain.Raised):
        return f"raised {actual.type_name}: {actual.message[:200]}"
    if isinstance(actual, plain.NotPlain):
        return (
            f"returned a {actual.type_name}, which is not plain data (numbers, booleans, strings, "
            "lists, tuples, dicts or NumPy arrays)"
        )
    try:
        if judge_is_compare:  # the expected answer was computed once for the whole run
            return exercise.compare(expected, actual)
        return exercise.judge(case, copy.deepcopy(actual))
    except Exception as exc:
        return f"the answer could not be compared ({type(exc).__name__}: {exc})"


def _failure_report(exercise: Exercise, case: Case, actual, problem: str) -> str:
    """The failing case as the notebook's check shows it (input, expected, got, problem, hint)."""
    shown = None if isinstance(actual, plain.Raised) else actual
    try:
        report = exercise.report(case, shown, str(problem))
    except Exception:
        report = f"Case {case.label}: {problem}\n{exercise.help_lines()}"
    if len(report) > 4000:
        report = report[:4000] + "\n... (cut short)"
    return report
