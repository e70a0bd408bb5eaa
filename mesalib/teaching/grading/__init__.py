"""`mesalib grade`: grading a class's exercise notebooks safely.

    from mesalib.teaching.grading import grade
    run = grade(["submissions/"], "grades/", seed=1234, jobs=2)

How it works, one concept per module:

- `official`: the official lesson (exercises, points, metadata, check cells, imports).
- `notebooks`: learners' submissions, read defensively (size limit first, then JSON, then shape).
- `codecheck`: static checks with `ast`: syntax, tampering with the grading machinery, reading
  the library's answer, fake check output.
- `references`: what counts as the library's answer to an exercise (the objects it may not use).
- `sandbox`: running one exercise of one learner in a forked, limited child process (wall
  clock, CPU, memory, file size, fresh folder, minimal environment); `sandbox_server` is the
  fork server and the child, `sandbox_guards` the audit hook and tripwires the child installs.
- `plain`: the only thing that crosses the sandbox wall: plain data as tagged JSON plus an
  uncompressed .npz, never pickles.
- `grader`: the statuses of one submission's exercises (the static checks, then the run).
- `scoring`: one exercise's run judged case by case, and its points (the rounding).
- `report`: the feedback files, the gradebook CSV, the JSON and the class summary.
- `runner`: discovery, parallel grading, incremental writing, resuming.
- `synthetic`: learner notebooks made from the official lesson (tests and the benchmark).

What the learner's code runs with: the official lesson's imports (from the grader's copy of
`lessons/NN_*.ipynb`, never the submission's; imports of `mesalib.teaching.checks` are left out), then the
learner's exercise cells that come before this exercise in the lesson (errors ignored), so that
e.g. `nearest_key` calls the learner's own `distance_map` as it did in the notebook, then the
exercise cell itself. The learner's other cells never run: helpers belong in the exercise cells.
"""

from mesalib.teaching.grading.references import REFERENCE_RULES, ReferenceRule, forbidden_targets
from mesalib.teaching.grading.runner import GradeRun, grade
from mesalib.teaching.grading.sandbox import Limits
from mesalib.teaching.grading.scoring import hundredths

__all__ = [
    "GradeRun",
    "Limits",
    "REFERENCE_RULES",
    "ReferenceRule",
    "forbidden_targets",
    "grade",
    "hundredths",
]
