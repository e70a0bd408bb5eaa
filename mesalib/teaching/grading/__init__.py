"""`mesalib grade`: grading a class's exercise notebooks, each learner's code isolated by the
operating system.

    from mesalib.teaching.grading import grade
    run = grade(["submissions/"], "grades/", seed=1234, jobs=2)

How it works, one concept per module:

- `official`: the official lesson (exercises, points, metadata, check cells, imports).
- `notebooks`: learners' submissions, read defensively (size limit first, then JSON, then shape).
- `learners`: unique learner names, collisions resolved deterministically and reported.
- `codecheck`: static checks with `ast` (syntax, cell magics, tampering, naming the library's answer).
- `imitation`: printed text that imitates a passing check, homoglyphs normalised.
- `provenance`: answers whose code is the library's, or not defined in the learner's own cell.
- `references`: what counts as the library's answer to an exercise.
- `package_view`: the sandbox's copy of mesalib, with those answers (and the checks) stubbed out.
- `calls`: an exercise's own call adapter, extracted for the sandbox without the checks.
- `bwrap`: the bubblewrap command line (namespaces, read-only binds, private /tmp, no environment);
  `userns`: the user namespace that keeps the sandbox unprivileged on the host when the grader is root.
- `sandbox`: one learner's sandbox from the grader's side (job in, replies out, deadline, kill);
  `inside`: the runner inside it (one forked, limited child per exercise).
- `plain`: the only thing that crosses the sandbox wall: plain data as tagged JSON plus an
  uncompressed .npz, never pickles.
- `grader`: the statuses of one submission's exercises (the static checks, then the run).
- `scoring`: one exercise's run judged case by case in the grader's process, and its points.
- `report`: the feedback files, the gradebook CSV, the JSON and the class summary.
- `runner`: discovery, the sandbox check, parallel grading, incremental writing, resuming.
- `synthetic`: learner notebooks made from the official lesson (tests and the benchmark).

What the learner's code runs with: the official lesson's imports that its cells use (from the
grader's copy of `lessons/NN_*.ipynb`, never the submission's; imports of `mesalib.teaching.checks` are
left out), then the learner's exercise cells that come before this exercise in the lesson (errors
ignored), so that e.g. `nearest_key` calls the learner's own `distance_map` as it did in the
notebook, then the exercise cell itself. The learner's other cells never run: helpers belong in
the exercise cells.

The names below are imported on first use, so that the sandbox's runner (`inside`) can import
`mesalib.teaching.grading.plain` without the grader and the checks.
"""

from __future__ import annotations

import importlib

__all__ = [
    "GradeRun",
    "Limits",
    "REFERENCE_RULES",
    "ReferenceRule",
    "SandboxUnavailable",
    "forbidden_targets",
    "grade",
    "hundredths",
]

_WHERE = {
    "GradeRun": "runner",
    "grade": "runner",
    "Limits": "sandbox",
    "REFERENCE_RULES": "references",
    "ReferenceRule": "references",
    "forbidden_targets": "references",
    "SandboxUnavailable": "bwrap",
    "hundredths": "scoring",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
