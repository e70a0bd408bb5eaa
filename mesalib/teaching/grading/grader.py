"""Scoring one submission: find its exercise cells, check them statically, run them in the
sandbox, judge the answers in the grader's own process, and give points and statuses.

Nothing from the submission is trusted. Exercise ids, points and cases come from the grader's own
`mesalib.teaching.checks` and the official lesson notebook; a submission's metadata only locates its cells,
and any difference from the official metadata costs that exercise's points (with a status saying
so). All of a learner's exercises run in one sandbox of its own (see `sandbox.py`), which sends back
answers as plain data; the grader compares them with the reference here, with the exercise's own
`compare` (what `Exercise.judge` does, with each expected answer computed once per run instead of
once per learner).

Cases. *Public* cases are exactly what the notebook's check cell uses (`exercise.cases(0)`: the
fixed cases and the seed-0 random ones). *Hidden* cases are `exercise.n_random` more random cases
drawn from the instructor's `--seed`. Feedback shows the first failing public case in full, as
the notebook would; of the hidden ones only how many passed.

Partial credit: points x passed / total cases, rounded DOWN to a hundredth of a point, so full
points need every case (1 point, 44 of 45 cases: 0.97). The answers are judged in `scoring.py`; the
library objects an exercise may not use are listed in `references.py`.

Statuses, one per exercise (zero points unless said otherwise):
  ok / partial / failed        graded on the answers (partial and failed get partial credit)
  not_implemented              the stub is still there
  missing_cell, duplicate_cell, not_code, metadata_edited   the cell's metadata differs from the official
  check_edited                 the check cell is missing, before the exercise, or its code was changed
  syntax_error, no_function    the cell does not parse, or does not define the function
  tampering                    code in the notebook changes an imported module (numpy.testing, mesalib, ...)
  reads_reference              names the library's answer or the checks (by the AST), or calls it at run
                               time (in the sandbox it has no code, see package_view.py)
  provenance                   the answer's code is the library's, or not defined in the exercise's cell
  fake_output                  prints an imitation of a passing check while some case fails
  exit_raised                  raises SystemExit, KeyboardInterrupt or another BaseException
  custom_eq                    returns an object whose class defines its own __eq__
  timeout, cpu_limit, memory_limit, output_limit, crashed   the run went past a limit or died
  bad_answers                  the answers could not be read back as plain data
  sandbox_error                the grader's sandbox failed (not the learner's doing: grade again)
"""

from __future__ import annotations

import ast

import numpy as np

from mesalib.teaching.checks import Exercise
from mesalib.teaching.grading import codecheck, plain, provenance
from mesalib.teaching.grading.calls import call_source
from mesalib.teaching.grading.notebooks import Cell, Notebook, Problem, Submission, normalise_source
from mesalib.teaching.grading.official import OfficialLesson
from mesalib.teaching.grading.references import forbidden_targets
from mesalib.teaching.grading.sandbox import ExerciseJob, Limits, Sandbox
from mesalib.teaching.grading.scoring import ExerciseResult, Prepared, score

__all__ = ["CHEATING", "ExerciseGrader", "submission_problem_results"]


CHEATING = frozenset(
    {
        "tampering",
        "reads_reference",
        "provenance",
        "fake_output",
        "exit_raised",
        "custom_eq",
        "metadata_edited",
        "check_edited",
        "duplicate_cell",
    }
)
"""The statuses that say the submission tried to get around the grader, rather than got it wrong."""

Stop = tuple[str, str]
"""A status and its message, for an exercise graded no further."""


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
            guards = forbidden_targets(exercise)
            self.prepared[exercise.id] = Prepared(
                exercise,
                cases,
                len(public),
                expected,
                blob,
                guards,
                provenance.library_shapes(guards),
                call_source(exercise),
            )

    @property
    def guarded(self) -> list[str]:
        """Every library object that is the answer to one of the lesson's exercises."""
        return list(dict.fromkeys(g for p in self.prepared.values() for g in p.guards))

    # ---------------------------------------------------------------------------------------------

    def grade(self, sub: Submission, sandbox: Sandbox) -> tuple[list[ExerciseResult], list[str]]:
        """Every official exercise's result for a readable submission, and notes about the notebook:
        the static checks of each exercise, then one sandbox run for all that pass them."""
        notebook = sub.notebook
        assert notebook is not None, "only readable submissions are graded exercise by exercise"
        official = self.official
        claims, check_cells, notes = _cells_by_exercise(notebook)
        for ex_id in sorted(set(claims) - {ex.id for ex in official.exercises}):
            notes.append(
                f"a cell claims to be exercise {ex_id[:80]}, which lesson {official.lesson} does not have"
            )
        tamper = self._notebook_tampering(notebook, claims)
        results: list[ExerciseResult | None] = []
        pending: list[tuple[int, Exercise, list[str], ExerciseJob]] = []
        earlier: list[str] = []
        for exercise in official.exercises:
            mine = claims.get(exercise.id, [])
            stop = self._static(exercise, mine, check_cells.get(exercise.id, []), tamper)
            if isinstance(stop, ExerciseResult):
                results.append(stop)
            else:
                cell = mine[0]
                job = ExerciseJob(
                    function=exercise.name,
                    cell=codecheck.runnable_source(cell.source),
                    earlier=list(earlier),
                    cases=self.prepared[exercise.id].blob,
                    call=self.prepared[exercise.id].call,
                )
                pending.append((len(results), exercise, stop, job))
                results.append(None)
            if (
                len(mine) == 1
                and mine[0].cell_type == "code"
                and codecheck.parse(mine[0].source)[0] is not None
            ):
                earlier.append(codecheck.runnable_source(mine[0].source))  # later exercises may call it
        jobs = [job for *_, job in pending]
        preamble = codecheck.needed_imports(official.preamble, [job.cell for job in jobs] + earlier)
        runs = sandbox.run(preamble, jobs, self.limits)
        for (index, exercise, fake, _), run in zip(pending, runs):
            results[index] = score(self.prepared[exercise.id], run, fake, self.limits)
        return [r for r in results if r is not None], notes

    def _static(
        self, exercise: Exercise, cells: list[Cell], checks: list[Cell], tamper: list[tuple[int, str, str]]
    ) -> ExerciseResult | list[str]:
        """The exercise's result when the static checks stop it; else the check-output imitations its
        cell prints (judged once the answers are known)."""
        stop = self._cell_problem(exercise, cells, checks)
        if stop:
            return ExerciseResult(exercise, *stop)
        cell = cells[0]
        tree, error = codecheck.parse(cell.source)
        if tree is None:
            return ExerciseResult(exercise, "syntax_error", f"the cell is not valid Python ({error})")
        check_index = checks[0].index if checks else cell.index
        stop = self._code_problem(exercise, tree, tamper, check_index)
        if stop:
            return ExerciseResult(exercise, *stop)
        if not codecheck.binds(tree, exercise.name):
            return ExerciseResult(exercise, "no_function", f"the cell does not define {exercise.name}()")
        copied = provenance.copied_function(tree, self.prepared[exercise.id].shapes)
        if copied:
            return ExerciseResult(
                exercise,
                "provenance",
                f"the code of {copied}() is the library's own answer, copied: this exercise must be "
                "solved with your own code",
            )
        return codecheck.fake_output(tree, exercise.name)

    def _notebook_tampering(
        self, notebook: Notebook, claims: dict[str, list[Cell]]
    ) -> list[tuple[int, str, str]]:
        """(cell number, statement, target) of every statement outside the exercise cells that
        changes an imported module or the grading machinery."""
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

    def _cell_problem(self, exercise: Exercise, cells: list[Cell], checks: list[Cell]) -> Stop | None:
        """Whether the exercise's cell and its check cell are there, once each, as the lesson has them."""
        if not cells:
            return (
                "missing_cell",
                f"no cell carries the metadata of exercise {exercise.id}: was it deleted, "
                "or its metadata changed?",
            )
        if len(cells) > 1:
            return (
                "duplicate_cell",
                f"{len(cells)} cells (numbers {', '.join(str(c.index) for c in cells)}) "
                f"claim to be exercise {exercise.id}; the notebook must hold exactly one",
            )
        cell = cells[0]
        if cell.cell_type != "code":
            return "not_code", f"the cell of exercise {exercise.id} is a {cell.cell_type} cell, not code"
        meta = cell.meta if isinstance(cell.meta, dict) else {}
        want = self.official.cell_meta.get(exercise.id, {"exercise": exercise.id, "points": exercise.points})
        if cell.meta != want:
            diffs = [
                f"{k}: {meta.get(k)!r:.40} instead of {want.get(k)!r}"
                for k in sorted(set(want) | set(meta))
                if meta.get(k) != want.get(k)
            ]
            return "metadata_edited", "the exercise cell's metadata was changed (" + "; ".join(diffs)[
                :300
            ] + ")"
        official_check = self.official.check_source.get(exercise.id)
        if official_check is None:
            return None
        if len(checks) != 1:
            return (
                "check_edited",
                f"{len(checks)} check cells for {exercise.id} instead of one (the cell "
                "after the exercise that calls checks." + f"lesson{exercise.lesson}.{exercise.name})",
            )
        if checks[0].index < cell.index:
            return "check_edited", "the check cell was moved above the exercise"
        if normalise_source(checks[0].source) != official_check:
            return "check_edited", "the check cell's code was changed; it must stay as the lesson has it"
        return None

    def _code_problem(
        self, exercise: Exercise, tree: ast.Module, tamper: list[tuple[int, str, str]], check_index: int
    ) -> Stop | None:
        """Whether the cell, or a cell before the exercise's check, tampers with the grading, or the
        cell reads the library's answer (all found statically, before anything runs)."""
        tampered = codecheck.tampering(tree, exercise_cell=True, known=self.preamble_bindings)
        if tampered:
            statement, target = tampered[0]
            return (
                "tampering",
                f"the exercise cell changes {target} (`{statement}`): code must not change "
                "imported modules or the grading machinery",
            )
        for index, statement, target in tamper:
            aimed = f".{exercise.name}" in target and "lesson" in target
            aimed_elsewhere = "lesson" in target and ".lesson" in target and not aimed
            if aimed or (not aimed_elsewhere and index < check_index):
                return (
                    "tampering",
                    f"cell {index} changes {target} (`{statement}`) before this exercise's "
                    "check: code must not change the grading machinery",
                )
        guards = self.prepared[exercise.id].guards
        if guards:
            used = codecheck.reference_use(tree, guards, self.preamble_bindings)
            if used:
                return (
                    "reads_reference",
                    f"the cell {used[0]}: this exercise must be solved with your own "
                    "code, not the library's answer",
                )
        return None


def _cells_by_exercise(notebook: Notebook) -> tuple[dict[str, list[Cell]], dict[str, list[Cell]], list[str]]:
    """The cells that claim to be each exercise, the check cells of each, and notes about cells whose
    mesalib metadata is not a mapping (ignored)."""
    claims: dict[str, list[Cell]] = {}
    check_cells: dict[str, list[Cell]] = {}
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
    return claims, check_cells, notes


def submission_problem_results(official: OfficialLesson, problem: Problem) -> list[ExerciseResult]:
    """Every exercise's result when the whole submission could not be graded: its problem, 0 points."""
    return [ExerciseResult(ex, problem.code, problem.message) for ex in official.exercises]
