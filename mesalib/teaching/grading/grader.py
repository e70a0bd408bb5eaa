"""Scoring one submission: find its exercise cells, check them statically, run them in the
sandbox, judge the answers in the grader's own process, and give points and statuses.

Nothing from the submission is trusted. Exercise ids, points and cases come from the grader's own
`mesalib.teaching.checks` and the official lesson notebook; a submission's metadata only locates its cells,
and any difference from the official metadata costs that exercise's points (with a status saying
so). The learner's code runs in a separate process (see `sandbox.py`) that sends back answers as
plain data; the grader compares them with the reference here, with the exercise's own `compare`
(what `Exercise.judge` does, with each expected answer computed once per run instead of once per
learner).

Cases. *Public* cases are exactly what the notebook's check cell uses (`exercise.cases(0)`: the
fixed cases and the seed-0 random ones). *Hidden* cases are `exercise.n_random` more random cases
drawn from the instructor's `--seed`. Feedback shows the first failing public case in full, as
the notebook would; of the hidden ones only how many passed.

Partial credit: points x passed / total cases, rounded DOWN to a hundredth of a point, so full
points need every case (1 point, 44 of 45 cases: 0.97).

Statuses, one per exercise (zero points unless said otherwise):
  ok / partial / failed        graded on the answers (partial and failed get partial credit)
  not_implemented              the stub is still there
  missing_cell, duplicate_cell, not_code, metadata_edited   the cell's metadata differs from the official
  check_edited                 the check cell is missing, before the exercise, or its code was changed
  syntax_error, no_function    the cell does not parse, or does not define the function
  tampering                    code in the notebook changes an imported module (numpy.testing, mesalib, ...)
  reads_reference              takes the answer from the library or the checks (by the AST, or at run time)
  fake_output                  prints an imitation of a passing check while some case fails
  forbidden_action             forks, starts programs, signals, uses the network or ctypes, writes outside its folder
  exit_raised                  raises SystemExit, KeyboardInterrupt or another BaseException
  custom_eq                    returns an object whose class defines its own __eq__
  timeout, cpu_limit, memory_limit, output_limit, crashed   the run went past a limit or died
  bad_answers                  the answers could not be read back as plain data
  sandbox_error                the grader's sandbox failed (not the learner's doing: grade again)
"""

from __future__ import annotations

import copy
import signal
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mesalib.teaching.checks import Case, Exercise
from mesalib.teaching.grading import codecheck, plain
from mesalib.teaching.grading.notebooks import Notebook, OfficialLesson, Problem, Submission, normalise_source
from mesalib.teaching.grading.sandbox import SETUP_FAILED_EXIT, Limits, RunResult, Sandbox

__all__ = [
    "REFERENCE_RULES",
    "ReferenceRule",
    "ExerciseGrader",
    "forbidden_targets",
    "hundredths",
    "CHEATING",
]


@dataclass(frozen=True)
class ReferenceRule:
    """Whether an exercise forbids taking its answer from the library, and which library objects
    (as "module:name") count besides its reference (`extra`) or are allowed after all (`allow`)."""

    forbid: bool = True
    extra: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()


# The grader's own list: every exercise forbids its reference (the library function it is checked
# against, or the library objects its reference wrapper calls); these add the other library objects
# that compute the same answer. Lessons whose exercises may build on the library say so here.
REFERENCE_RULES: dict[str, ReferenceRule] = {
    "lesson01.step": ReferenceRule(extra=("mesalib.env.rules:Game", "mesalib.env.rules:_Planes")),
    "lesson01.observe": ReferenceRule(extra=("mesalib.env.rules:Game",)),
    "lesson02.distance_map": ReferenceRule(extra=("mesalib.agents.planner:all_pairs_distances",)),
    "lesson02.nearest_key": ReferenceRule(
        extra=("mesalib.agents.heuristics:KeyThenChest", "mesalib.agents.heuristics:greedy_step")
    ),
    "lesson02.key_then_chest": ReferenceRule(
        extra=("mesalib.agents.heuristics:NearestKey", "mesalib.agents.heuristics:greedy_step")
    ),
}

CHEATING = frozenset(
    {
        "tampering",
        "reads_reference",
        "fake_output",
        "forbidden_action",
        "exit_raised",
        "custom_eq",
        "metadata_edited",
        "check_edited",
        "duplicate_cell",
    }
)


def _library_name(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if (
        isinstance(module, str)
        and isinstance(name, str)
        and module.startswith("mesalib.")
        and not module.startswith("mesalib.teaching.checks")
        and "<" not in name
    ):
        return f"{module}:{name}"
    return None


def forbidden_targets(exercise: Exercise) -> list[str]:
    """The library objects ("module:name") learner code may not use for `exercise` (empty when the
    exercise allows it): its reference if that is a library object, else the library functions and
    classes its reference wrapper names, plus REFERENCE_RULES' extras, minus its allowances."""
    rule = REFERENCE_RULES.get(exercise.id, ReferenceRule())
    if not rule.forbid:
        return []
    found = []
    ref = exercise.reference
    direct = _library_name(ref)
    if direct:
        found.append(direct)
    else:
        code, scope = getattr(ref, "__code__", None), getattr(ref, "__globals__", {})
        for name in code.co_names if code else ():
            target = _library_name(scope.get(name))
            if target and (callable(scope.get(name))):
                found.append(target)
    found += list(rule.extra)
    return [t for t in dict.fromkeys(found) if t not in rule.allow]


def hundredths(points: int, passed: int, total: int) -> int:
    """Partial credit in hundredths of a point, rounded down: 3 points, 22 of 23 -> 286 (2.86)."""
    if total <= 0:
        return 0
    return (points * 100 * passed) // total


@dataclass
class Prepared:
    exercise: Exercise
    cases: list[Case]
    n_public: int
    expected: list
    blob: tuple[bytes, bytes]
    guards: list[str]


@dataclass
class ExerciseResult:
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


class ExerciseGrader:
    """Grades submissions of one official lesson with one seed and one set of limits."""

    def __init__(self, official: OfficialLesson, seed: int, limits: Limits):
        self.official, self.seed, self.limits = official, int(seed), limits
        self.preamble_bindings = codecheck.import_bindings(codecheck.parse(official.preamble)[0])
        self.prepared: dict[str, Prepared] = {}
        for exercise in official.exercises:
            public = list(exercise.cases(0))
            hidden = list(exercise.random_cases(np.random.default_rng(self.seed), exercise.n_random))
            cases = public + hidden
            expected = [exercise.expected(case) for case in cases]
            blob = plain.dumps([case.args for case in cases])
            self.prepared[exercise.id] = Prepared(
                exercise, cases, len(public), expected, blob, forbidden_targets(exercise)
            )

    # ---------------------------------------------------------------------------------------------

    def grade(self, sub: Submission, sandbox: Sandbox) -> tuple[list[ExerciseResult], list[str]]:
        """Every official exercise's result for a readable submission, and notes about the notebook."""
        notebook: Notebook = sub.notebook
        official = self.official
        known = {ex.id for ex in official.exercises}
        claims: dict[str, list] = {}
        check_cells: dict[str, list] = {}
        notes = []
        for cell in notebook.cells:
            if not isinstance(cell.meta, dict):
                if cell.meta is not None:
                    notes.append(f"cell {cell.index}: its mesalib metadata is not a mapping; ignored")
                continue
            if "exercise" in cell.meta:
                ex_id = cell.meta.get("exercise")
                claims.setdefault(ex_id if isinstance(ex_id, str) else repr(ex_id), []).append(cell)
            if "check" in cell.meta:
                ex_id = cell.meta.get("check")
                check_cells.setdefault(ex_id if isinstance(ex_id, str) else repr(ex_id), []).append(cell)
        for ex_id in sorted(set(claims) - known):
            notes.append(
                f"a cell claims to be exercise {ex_id[:80]}, which lesson {official.lesson} does not have"
            )
        tamper = self._notebook_tampering(notebook, claims, check_cells)
        results, earlier = [], []
        for exercise in official.exercises:
            result = self._grade_exercise(
                exercise,
                claims.get(exercise.id, []),
                check_cells.get(exercise.id, []),
                tamper,
                earlier,
                sandbox,
            )
            results.append(result)
            mine = claims.get(exercise.id, [])
            if (
                len(mine) == 1
                and mine[0].cell_type == "code"
                and codecheck.parse(mine[0].source)[0] is not None
            ):
                earlier.append(mine[0].source)  # later exercises may call this one's function
        return results, notes

    def _notebook_tampering(self, notebook: Notebook, claims, check_cells) -> list[tuple[int, str, str]]:
        exercise_cells = {c.index for cells in claims.values() for c in cells}
        known = dict(self.preamble_bindings)
        trees = []
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.index not in exercise_cells:
                tree = codecheck.parse(cell.source)[0]
                if tree is not None:
                    trees.append((cell.index, tree))
                    known.update(codecheck.import_bindings(tree))
        found = []
        for index, tree in trees:
            for statement, target in codecheck.tampering(
                tree, exercise_cell=False, known=known, official=self.official.official_statements
            ):
                found.append((index, statement, target))
        return found

    def _grade_exercise(
        self, exercise: Exercise, cells: list, checks: list, tamper, earlier: list[str], sandbox: Sandbox
    ) -> ExerciseResult:
        official, name = self.official, exercise.name

        def stop(status: str, message: str) -> ExerciseResult:
            return ExerciseResult(exercise, status, message)

        if not cells:
            return stop(
                "missing_cell",
                f"no cell carries the metadata of exercise {exercise.id}: was it deleted, "
                "or its metadata changed?",
            )
        if len(cells) > 1:
            return stop(
                "duplicate_cell",
                f"{len(cells)} cells (numbers {', '.join(str(c.index) for c in cells)}) "
                f"claim to be exercise {exercise.id}; the notebook must hold exactly one",
            )
        cell = cells[0]
        if cell.cell_type != "code":
            return stop(
                "not_code", f"the cell of exercise {exercise.id} is a {cell.cell_type} cell, not code"
            )
        want = official.cell_meta.get(exercise.id, {"exercise": exercise.id, "points": exercise.points})
        if cell.meta != want:
            diffs = [
                f"{k}: {cell.meta.get(k)!r:.40} instead of {want.get(k)!r}"
                for k in sorted(set(want) | set(cell.meta))
                if cell.meta.get(k) != want.get(k)
            ]
            return stop(
                "metadata_edited", "the exercise cell's metadata was changed (" + "; ".join(diffs)[:300] + ")"
            )
        official_check = official.check_source.get(exercise.id)
        if official_check is not None:
            if len(checks) != 1:
                return stop(
                    "check_edited",
                    f"{len(checks)} check cells for {exercise.id} instead of one (the cell "
                    "after the exercise that calls checks." + f"lesson{exercise.lesson}.{name})",
                )
            if checks[0].index < cell.index:
                return stop("check_edited", "the check cell was moved above the exercise")
            if normalise_source(checks[0].source) != official_check:
                return stop(
                    "check_edited", "the check cell's code was changed; it must stay as the lesson has it"
                )
        tree, error = codecheck.parse(cell.source)
        if tree is None:
            return stop("syntax_error", f"the cell is not valid Python ({error})")
        tampered = codecheck.tampering(tree, exercise_cell=True, known=self.preamble_bindings)
        if tampered:
            statement, target = tampered[0]
            return stop(
                "tampering",
                f"the exercise cell changes {target} (`{statement}`): code must not change "
                "imported modules or the grading machinery",
            )
        check_index = checks[0].index if checks else cell.index
        for index, statement, target in tamper:
            aimed = f".{name}" in target and "lesson" in target
            aimed_elsewhere = "lesson" in target and ".lesson" in target and not aimed
            if aimed or (not aimed_elsewhere and index < check_index):
                return stop(
                    "tampering",
                    f"cell {index} changes {target} (`{statement}`) before this exercise's "
                    "check: code must not change the grading machinery",
                )
        prepared = self.prepared[exercise.id]
        if prepared.guards:
            used = codecheck.reference_use(tree, prepared.guards, self.preamble_bindings)
            if used:
                return stop(
                    "reads_reference",
                    f"the cell {used[0]}: this exercise must be solved with your own "
                    "code, not the library's answer",
                )
        fake = codecheck.fake_output(tree)
        if not codecheck.binds(tree, name):
            return stop("no_function", f"the cell does not define {name}()")
        run = sandbox.run(
            checks_module=official.checks_module,
            exercise=name,
            function=name,
            preamble=official.preamble,
            earlier=[e for e in earlier if e],
            cell=cell.source,
            guards=prepared.guards,
            cases=prepared.blob,
            limits=self.limits,
        )
        return self._score(prepared, run, fake)

    # ---------------------------------------------------------------------------------------------

    def _run_status(self, run: RunResult) -> tuple[str, str] | None:
        limits = self.limits
        if run.error:
            return "sandbox_error", run.error + " (not caused by the submission: grade it again)"
        if run.violation:
            kind, _, detail = run.violation.partition("\t")
            if kind == "reference":
                return (
                    "reads_reference",
                    f"the code {detail}; this exercise must be solved with your own code",
                )
            return (
                "forbidden_action",
                f"the code {detail or 'did something the sandbox forbids'}: exercise code may only compute",
            )
        if run.timed_out:
            return (
                "timeout",
                f"the code ran longer than the {limits.wall_s:g} s limit (an endless loop, or sleeping?)",
            )
        if run.signal is not None:
            if run.signal == signal.SIGXCPU or (
                run.signal == signal.SIGKILL and run.cpu_s >= 0.9 * limits.cpu_s
            ):
                return "cpu_limit", f"the code used more than {limits.cpu_s:g} s of CPU time"
            if run.signal == signal.SIGXFSZ:
                return "output_limit", f"the code printed or wrote more than {limits.file_mb} MiB"
            try:
                sig = signal.Signals(run.signal).name
            except ValueError:
                sig = str(run.signal)
            return "crashed", f"the process running the code died ({sig})"
        if run.exit_code == SETUP_FAILED_EXIT:
            return "crashed", "the process running the code could not write its answers"
        if run.exit_code not in (0, None):
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

    def _score(self, prepared: Prepared, run: RunResult, fake: list[str]) -> ExerciseResult:
        exercise = prepared.exercise
        stopped = self._run_status(run)
        if stopped:
            return ExerciseResult(exercise, *stopped)
        answers = run.answers or []
        if len(answers) != len(prepared.cases):
            return ExerciseResult(
                exercise, "bad_answers", f"{len(answers)} answers for {len(prepared.cases)} cases"
            )
        for answer in answers:
            liar = plain.contains_eq(answer)
            if liar:
                return ExerciseResult(
                    exercise,
                    "custom_eq",
                    f"the function returned an object of class {liar}, "
                    "which defines its own ==: answers must be plain numbers, lists or arrays",
                )
        passed_public = passed_hidden = 0
        report = ""
        judge_is_compare = type(exercise).judge is Exercise.judge
        for i, (case, expected, actual) in enumerate(zip(prepared.cases, prepared.expected, answers)):
            if isinstance(actual, plain.Raised):
                problem = f"raised {actual.type_name}: {actual.message}"
            elif isinstance(actual, plain.NotPlain):
                problem = (
                    f"returned a {actual.type_name}, which is not plain data (numbers, booleans, strings, "
                    "lists, tuples, dicts or NumPy arrays)"
                )
            else:
                try:
                    problem = (
                        exercise.compare(expected, actual)
                        if judge_is_compare
                        else exercise.judge(case, copy.deepcopy(actual))
                    )
                except Exception as exc:
                    problem = f"the answer could not be compared ({type(exc).__name__}: {exc})"
            public = i < prepared.n_public
            if problem is None:
                if public:
                    passed_public += 1
                else:
                    passed_hidden += 1
            elif public and not report:
                shown = None if isinstance(actual, plain.Raised) else actual
                try:
                    report = exercise.report(case, shown, str(problem))
                except Exception:
                    report = f"Case {case.label}: {problem}\nHint: {exercise.hint}"
                if len(report) > 4000:
                    report = report[:4000] + "\n... (cut short)"
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
        printed = codecheck.FAKE_PASS.search(run.output or "")
        if passed < total and (fake or printed):
            text = fake[0] if fake else printed.group(0)
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
            where = (
                f"{passed_public} of {n_public} public and {passed_hidden} of {n_hidden} hidden cases pass"
            )
            result.message = f"{passed} of {total} cases pass ({where})"
        if run.cell_error:
            result.notes.append(f"running the cell raised {run.cell_error} (after defining the function)")
        return result


def submission_problem_results(official: OfficialLesson, problem: Problem) -> list[ExerciseResult]:
    return [ExerciseResult(ex, problem.code, problem.message) for ex in official.exercises]
