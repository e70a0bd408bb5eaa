"""Grading a class: discover the learners, grade them in parallel, write everything as it comes.

Each finished learner is written at once (its record in OUT/records/, its feedback in
OUT/feedback/), so a crash or an interrupted run loses nothing already graded; `resume=True` keeps
the records whose submission, seed, limits and grader are unchanged and grades only the rest. The
gradebook CSV and the JSON with everything are written at the end from the records, sorted by
learner, so that the same inputs always give the same files.

Statuses of a whole submission (every exercise gets 0; the exercise statuses are in grader.py):
  not_found, no_notebook, several_notebooks   the path, or the notebook in a learner's folder
  empty_file, too_large, unreadable           checked before anything is parsed (size limit first)
  invalid_json, not_a_notebook, wrong_lesson  the file is not a notebook of the lesson being graded
  grader_error                                the grader itself failed on it (the others are unaffected)
"""

from __future__ import annotations

import json
import queue
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from mesalib.teaching.grading import notebooks, report
from mesalib.teaching.grading.grader import ExerciseGrader, submission_problem_results
from mesalib.teaching.grading.notebooks import OfficialLesson, Problem, Submission
from mesalib.teaching.grading.sandbox import Limits, Sandbox

__all__ = ["GradeRun", "grade"]

RECORD_VERSION = 1


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


def _record(
    sub: Submission,
    official: OfficialLesson,
    results,
    notes,
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
        "notes": notes,
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
    sub: Submission, official: OfficialLesson, grader: ExerciseGrader, sandbox: Sandbox, fingerprint: str
) -> dict:
    """The record of one learner. Never raises: a failure of the grader itself becomes a status."""
    try:
        if sub.problem is not None:
            return _record(
                sub, official, submission_problem_results(official, sub.problem), [], fingerprint, sub.problem
            )
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
    stems, used = {}, set()
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


def grade(
    submissions: list,
    out,
    *,
    seed: int,
    lesson: str | None = None,
    jobs: int = 2,
    limits: Limits = Limits(),
    lessons_dir=None,
    max_bytes: int = notebooks.DEFAULT_MAX_BYTES,
    resume: bool = False,
    progress: bool = True,
    echo=print,
) -> GradeRun:
    """Grade `submissions` (notebook files or folders, one per learner) into the folder `out`.

    `lesson`: "02"; by default the lesson most submissions are of. `seed` draws the hidden cases.
    `jobs`: learners graded at once (one sandbox process each). Raises ValueError when the lesson
    cannot be graded at all (no official notebook, no checks); problems of single submissions
    become status rows instead.
    """
    start = time.perf_counter()
    out = Path(out)
    subs = notebooks.discover(list(submissions), max_bytes)
    if not subs:
        raise ValueError("no submissions given")
    if lesson is None:
        lesson = notebooks.infer_lesson(subs)
        if lesson is None:
            raise ValueError("none of the submissions says which lesson it is; pass --lesson NN")
    official = notebooks.load_official(lesson, lessons_dir)
    for sub in subs:
        notebooks.choose(sub, lesson)
    out.mkdir(parents=True, exist_ok=True)
    records_dir, feedback_dir = out / "records", out / "feedback"
    records_dir.mkdir(exist_ok=True)
    feedback_dir.mkdir(exist_ok=True)
    if not resume:
        _clear(records_dir, ".json")
        _clear(feedback_dir, ".md")
    hints = {ex.id: ex.hint for ex in official.exercises}

    stems = _file_stems([sub.learner for sub in subs])
    records: dict[str, dict] = {}
    todo = []
    for sub in subs:
        fingerprint = _fingerprint(sub, official, seed, limits, max_bytes)
        path = records_dir / f"{stems[sub.learner]}.json"
        if resume and path.exists():
            try:
                old = json.loads(path.read_text())
                if old.get("fingerprint") == fingerprint:
                    records[sub.learner] = old
                    continue
            except (ValueError, OSError):
                pass
        todo.append((sub, fingerprint, path))
    reused = len(records)

    def save(record: dict, path: Path) -> None:
        report.write_atomic(path, report.dumps_json(record))
        report.write_atomic(
            feedback_dir / f"{stems[record['learner']]}.md", report.feedback_text(record, hints)
        )

    if todo:
        grader = (
            ExerciseGrader(official, seed, limits) if any(s.problem is None for s, _, _ in todo) else None
        )
        jobs = max(1, min(int(jobs), len(todo)))
        pool: queue.Queue = queue.Queue()
        needs_sandbox = sum(s.problem is None for s, _, _ in todo)
        sandboxes = [Sandbox().start() for _ in range(min(jobs, needs_sandbox))]
        for box in sandboxes:
            pool.put(box)

        def work(sub: Submission, fingerprint: str, path: Path) -> dict:
            if sub.problem is not None:
                record = grade_one(sub, official, grader, None, fingerprint)
            else:
                box = pool.get()
                try:
                    record = grade_one(sub, official, grader, box, fingerprint)
                finally:
                    pool.put(box)
            save(record, path)
            return record

        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc=f"grading lesson {lesson}", unit="learner")
        try:
            with ThreadPoolExecutor(max_workers=jobs) as executor:
                futures = [executor.submit(work, *item) for item in todo]
                try:
                    for future in as_completed(futures):
                        record = future.result()
                        records[record["learner"]] = record
                        if bar is not None:
                            bar.update(1)
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
        finally:
            if bar is not None:
                bar.close()
            for box in sandboxes:
                box.close()

    ordered = [records[k] for k in sorted(records)]
    names = [ex.name for ex in official.exercises]
    report.write_atomic(out / "gradebook.csv", report.gradebook_csv(ordered, names))
    public = [{k: v for k, v in r.items() if k not in ("fingerprint", "traceback")} for r in ordered]
    summary = report.summary_text(ordered, lesson, seed, official.max_points)
    everything = {
        "lesson": lesson,
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
        "warnings": official.warnings,
        "learners": public,
        "summary": summary,
    }
    report.write_atomic(out / "grades.json", report.dumps_json(everything))
    wall = time.perf_counter() - start
    if echo is not None:
        for warning in official.warnings:
            echo(f"warning: {warning}")
        echo(summary)
        echo(
            f"Wrote {out / 'gradebook.csv'}, {out / 'grades.json'} and {len(ordered)} feedback file(s) in "
            f"{feedback_dir} ({len(todo)} graded now, {reused} kept from an earlier run, {wall:.1f} s)."
        )
    return GradeRun(lesson, seed, ordered, out, summary, wall, len(todo), reused, official.warnings)


def _counts(exercise, seed: int) -> tuple[int, int]:
    import numpy as np

    return len(exercise.cases(0)), len(exercise.random_cases(np.random.default_rng(seed), exercise.n_random))
