"""Grading a class: discover the learners, grade them in parallel, write everything as it comes.

Each finished learner is written at once (its record in OUT/records/, its feedback in
OUT/feedback/), so a crash or an interrupted run loses nothing already graded; `resume=True` keeps
the records whose submission, seed, limits and grader are unchanged and grades only the rest. The
gradebook CSV and the JSON with everything are written at the end from the records, sorted by
learner, so that the same inputs always give the same files.

Isolation: every learner's code runs in a bubblewrap sandbox of its own (`sandbox.py`, `bwrap.py`).
Where bubblewrap is missing or cannot create its namespaces, `grade` refuses (SandboxUnavailable)
unless `trusted=True` (`mesalib grade --trusted-class`): then the code runs without isolation, and
the summary, grades.json and every feedback file say so. Where bubblewrap works it is always used.

Statuses of a whole submission (every exercise gets 0; the exercise statuses are in grader.py):
  not_found, no_notebook, several_notebooks   the path, or the notebook in a learner's folder
  empty_file, too_large, unreadable           checked before anything is parsed (size limit first)
  invalid_json, not_a_notebook, wrong_lesson  the file is not a notebook of the lesson being graded
  grader_error                                the grader itself failed on it (the others are unaffected)
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from mesalib.teaching.checks import Exercise
from mesalib.teaching.course_files import package_folder
from mesalib.teaching.grading import bwrap, notebooks, report
from mesalib.teaching.grading.grader import ExerciseGrader, submission_problem_results
from mesalib.teaching.grading.notebooks import Problem, Submission
from mesalib.teaching.grading.official import OfficialLesson, load_official
from mesalib.teaching.grading.package_view import build_view
from mesalib.teaching.grading.sandbox import Limits, Sandbox
from mesalib.teaching.grading.scoring import ExerciseResult

__all__ = ["GradeRun", "grade"]

RECORD_VERSION = 2
ISOLATED = "bubblewrap: one sandbox per learner (own namespaces, read-only view, no network)"
UNISOLATED = (
    "NONE: the class was graded unsandboxed (--trusted-class); learners' code ran as the grader's user"
)


@dataclass
class GradeRun:
    """The outcome of `grade`: the lesson, the records (sorted by learner), the files and a summary."""

    lesson: str
    seed: int
    records: list[dict]
    out: Path
    summary: str
    wall_s: float
    graded_now: int
    reused: int
    warnings: list[str]
    isolation: str


def _record(
    sub: Submission,
    official: OfficialLesson,
    results: list[ExerciseResult],
    notes: list[str],
    fingerprint: str,
    problem: Problem | None = None,
) -> dict:
    total = sum(r.hundredths for r in results)
    if problem is not None:
        status, message = problem.code, problem.message
    else:
        bad = [r for r in results if r.status != "ok"]
        status = "ok" if not bad else "; ".join(f"{r.exercise.name}: {r.status}" for r in bad)
        message = ""
    return {
        "version": RECORD_VERSION,
        "learner": sub.learner,
        "submission": sub.given,
        "notebook": str(sub.path) if sub.path is not None else None,
        "lesson": official.lesson,
        "problem": problem is not None,
        "status": status,
        "message": message,
        "total": total / 100,
        "max": official.max_points,
        "exercises": [r.as_dict() for r in results],
        "notes": sub.notes + notes,
        "fingerprint": fingerprint,
    }


def _fingerprint(sub: Submission, official: OfficialLesson, seed: int, limits: Limits, max_bytes: int) -> str:
    what = sub.notebook.sha256 if sub.notebook is not None else f"{sub.problem}"
    return json.dumps(
        [
            RECORD_VERSION,
            official.fingerprint,
            seed,
            asdict(limits),
            max_bytes,
            sub.learner,
            sub.given,
            str(sub.path),
            what,
        ]
    )


def grade_one(
    sub: Submission,
    official: OfficialLesson,
    grader: ExerciseGrader | None,
    sandbox: Sandbox | None,
    fingerprint: str,
) -> dict:
    """The record of one learner. Never raises: a failure of the grader itself becomes a status.
    `grader` and `sandbox` may be None for a submission that could not be read (it has a problem)."""
    try:
        if sub.problem is not None:
            return _record(
                sub, official, submission_problem_results(official, sub.problem), [], fingerprint, sub.problem
            )
        assert grader is not None and sandbox is not None, "a readable submission needs both"
        results, notes = grader.grade(sub, sandbox)
        return _record(sub, official, results, notes, fingerprint)
    except Exception as exc:
        problem = Problem(
            "grader_error",
            f"the grader failed on this submission ({type(exc).__name__}: {exc}); the others are unaffected",
        )
        record = _record(
            sub, official, submission_problem_results(official, problem), [], fingerprint, problem
        )
        record["traceback"] = traceback.format_exc(limit=8)
        return record


def _file_stems(learners: list[str]) -> dict[str, str]:
    """A distinct file name for each learner id ("a b" and "a_b" would both be a_b otherwise)."""
    stems: dict[str, str] = {}
    used: set[str] = set()
    for learner in learners:
        stem = base = notebooks.safe_name(learner)
        n = 1
        while stem.lower() in used:
            n += 1
            stem = f"{base}~{n}"
        used.add(stem.lower())
        stems[learner] = stem
    return stems


def _clear(folder: Path, suffix: str) -> None:
    if folder.is_dir():
        for path in folder.glob(f"*{suffix}"):
            path.unlink()


DEFAULT_LIMITS = Limits()
"""The limits of `grade` unless it is given others (a frozen dataclass, so one instance serves all)."""


def grade(
    submissions: list,
    out,
    *,
    seed: int,
    lesson: str | None = None,
    jobs: int = 2,
    limits: Limits = DEFAULT_LIMITS,
    lessons_dir=None,
    max_bytes: int = notebooks.DEFAULT_MAX_BYTES,
    resume: bool = False,
    progress: bool = True,
    echo: Callable[[str], object] | None = print,
    trusted: bool = False,
) -> GradeRun:
    """Grade `submissions` (notebook files or folders, one per learner) into the folder `out`.

    `lesson`: "02"; by default the lesson most submissions are of. `seed` draws the hidden cases.
    `jobs`: learners graded at once (one sandbox each). Raises ValueError when the lesson cannot be
    graded at all (no official notebook, no checks), SandboxUnavailable when bubblewrap cannot
    isolate the learners' code and `trusted` is not set; problems of single submissions become
    status rows instead.
    """
    start = time.perf_counter()
    why_not = bwrap.probe()
    if why_not and not trusted:
        raise bwrap.SandboxUnavailable(
            f"{why_not}. Learners' code must run isolated; to grade a class you trust without "
            "isolation, pass --trusted-class (every report will say so)"
        )
    isolation = UNISOLATED if why_not else ISOLATED
    out = Path(out)
    subs, official = _read_class(list(submissions), lesson, lessons_dir, max_bytes)
    lesson = official.lesson
    records_dir, feedback_dir = _output_folders(out, clear=not resume)
    stems = _file_stems([sub.learner for sub in subs])
    records, todo = _reuse_or_schedule(
        subs, official, seed, limits, max_bytes, records_dir, stems, resume, isolation
    )
    reused = len(records)
    hints = {ex.id: ex.nudge or ex.hint for ex in official.exercises}  # the first tier, as in the notebook

    def save(record: dict, path: Path) -> None:
        record["isolation"] = isolation
        report.write_atomic(path, report.dumps_json(record))
        report.write_atomic(
            feedback_dir / f"{stems[record['learner']]}.md", report.feedback_text(record, hints)
        )

    if todo:
        for record in _grade_in_parallel(todo, official, seed, limits, jobs, save, progress, bool(why_not)):
            records[record["learner"]] = record
    ordered = [records[k] for k in sorted(records)]
    warnings = official.warnings + [note for sub in subs for note in sub.notes]
    summary = _write_class_files(out, ordered, official, seed, limits, max_bytes, isolation, warnings)
    wall = time.perf_counter() - start
    if echo is not None:
        for warning in warnings:
            echo(f"warning: {warning}")
        echo(summary)
        echo(
            f"Wrote {out / 'gradebook.csv'}, {out / 'grades.json'} and {len(ordered)} feedback file(s) in "
            f"{feedback_dir} ({len(todo)} graded now, {reused} kept from an earlier run, {wall:.1f} s)."
        )
    return GradeRun(lesson, seed, ordered, out, summary, wall, len(todo), reused, warnings, isolation)


def _read_class(
    submissions: list, lesson: str | None, lessons_dir, max_bytes: int
) -> tuple[list[Submission], OfficialLesson]:
    """Every learner's submission, the official lesson they are graded against (the one most of
    them are of, unless `lesson` says), and each learner's notebook of that lesson chosen."""
    subs = notebooks.discover(submissions, max_bytes)
    if not subs:
        raise ValueError("no submissions given")
    if lesson is None:
        lesson = notebooks.infer_lesson(subs)
        if lesson is None:
            raise ValueError("none of the submissions says which lesson it is; pass --lesson NN")
    official = load_official(lesson, lessons_dir)
    for sub in subs:
        notebooks.choose(sub, lesson)
    return subs, official


def _output_folders(out: Path, clear: bool) -> tuple[Path, Path]:
    """OUT/records and OUT/feedback, made if missing and emptied of earlier files unless resuming."""
    out.mkdir(parents=True, exist_ok=True)
    records_dir, feedback_dir = out / "records", out / "feedback"
    records_dir.mkdir(exist_ok=True)
    feedback_dir.mkdir(exist_ok=True)
    if clear:
        _clear(records_dir, ".json")
        _clear(feedback_dir, ".md")
    return records_dir, feedback_dir


Job = tuple[Submission, str, Path]
"""One learner to grade: the submission, its fingerprint and the file its record goes to."""


def _reuse_or_schedule(
    subs: list[Submission],
    official: OfficialLesson,
    seed: int,
    limits: Limits,
    max_bytes: int,
    records_dir: Path,
    stems: dict[str, str],
    resume: bool,
    isolation: str,
) -> tuple[dict[str, dict], list[Job]]:
    """The records an earlier run left whose fingerprint still matches (when resuming), and the
    learners still to grade."""
    records: dict[str, dict] = {}
    todo: list[Job] = []
    for sub in subs:
        fingerprint = _fingerprint(sub, official, seed, limits, max_bytes)
        path = records_dir / f"{stems[sub.learner]}.json"
        if resume and path.exists():
            try:
                old = json.loads(path.read_text())
                if old.get("fingerprint") == fingerprint and old.get("isolation") == isolation:
                    records[sub.learner] = old
                    continue
            except (ValueError, OSError):
                pass
        todo.append((sub, fingerprint, path))
    return records, todo


def _grade_in_parallel(
    todo: list[Job],
    official: OfficialLesson,
    seed: int,
    limits: Limits,
    jobs: int,
    save: Callable[[dict, Path], None],
    progress: bool,
    unsandboxed: bool,
) -> Iterator[dict]:
    """Grade `todo` with `jobs` threads, each learner in a sandbox of its own; yield each record as
    it is saved, in the order they finish. The package view and the job folders live in one
    temporary folder of the grader's, removed at the end whatever happens."""
    readable = sum(sub.problem is None for sub, _, _ in todo)
    grader = ExerciseGrader(official, seed, limits) if readable else None
    jobs = max(1, min(int(jobs), len(todo)))
    scratch = Path(tempfile.mkdtemp(prefix="mesalib-grading-"))
    try:
        sandbox = None
        if grader is not None:
            view = build_view(package_folder(), scratch / "view", grader.guarded, bwrap.PACKAGE)
            (scratch / "jobs").mkdir()
            sandbox = Sandbox(view, scratch / "jobs", trusted=unsandboxed)

        def work(sub: Submission, fingerprint: str, path: Path) -> dict:
            record = grade_one(sub, official, grader, sandbox, fingerprint)
            save(record, path)
            return record

        yield from _in_threads(work, todo, jobs, f"grading lesson {official.lesson}" if progress else "")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _in_threads(work: Callable[..., dict], todo: list[Job], jobs: int, progress: str) -> Iterator[dict]:
    """`work(*job)` for every job on `jobs` threads, yielded as they finish (a progress bar unless
    `progress` is empty); an interruption cancels what has not started."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=progress, unit="learner")
    try:
        with ThreadPoolExecutor(max_workers=jobs) as executor:
            futures = [executor.submit(work, *item) for item in todo]
            try:
                for future in as_completed(futures):
                    yield future.result()
                    if bar is not None:
                        bar.update(1)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    finally:
        if bar is not None:
            bar.close()


def _write_class_files(
    out: Path,
    ordered: list[dict],
    official: OfficialLesson,
    seed: int,
    limits: Limits,
    max_bytes: int,
    isolation: str,
    warnings: list[str],
) -> str:
    """Write the gradebook CSV and the JSON with everything, from the records sorted by learner;
    return the class summary."""
    names = [ex.name for ex in official.exercises]
    report.write_atomic(out / "gradebook.csv", report.gradebook_csv(ordered, names))
    public = [{k: v for k, v in r.items() if k not in ("fingerprint", "traceback")} for r in ordered]
    summary = report.summary_text(ordered, official.lesson, seed, official.max_points, isolation)
    everything = {
        "lesson": official.lesson,
        "isolation": isolation,
        "seed": seed,
        "limits": asdict(limits),
        "max_bytes": max_bytes,
        "official_notebook": official.notebook_path.name,
        "max_points": official.max_points,
        "rounding": "points x passed / total cases, rounded down to a hundredth of a point",
        "exercises": [
            {
                "exercise": ex.id,
                "name": ex.name,
                "points": ex.points,
                "public_cases": counts[0],
                "hidden_cases": counts[1],
            }
            for ex, counts in ((ex, _counts(ex, seed)) for ex in official.exercises)
        ],
        "warnings": warnings,
        "learners": public,
        "summary": summary,
    }
    report.write_atomic(out / "grades.json", report.dumps_json(everything))
    return summary


def _counts(exercise: Exercise, seed: int) -> tuple[int, int]:
    """How many public and hidden cases the exercise has."""
    import numpy as np

    return len(exercise.cases(0)), len(exercise.random_cases(np.random.default_rng(seed), exercise.n_random))
