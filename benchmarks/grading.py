"""How long `mesalib grade` takes: 100 synthetic submissions of one lesson on 2 cores.

The class mixes what an instructor meets: correct notebooks, partial ones (plausible bugs), broken
ones (invalid JSON, empty files, syntax errors, deleted cells, untouched stubs) and cheating ones
(fake "passed" output, patching numpy.testing, taking the library's answer, objects equal to
anything, forking, writing outside the folder, SystemExit, allocating or sleeping past the limits,
edited points). Prints the wall time, the cost per submission and where the time went, and checks
that every submission got the status it was built for.

    python benchmarks/grading.py                  # lesson 02, 100 submissions, 2 jobs
    python benchmarks/grading.py --lesson 00 --submissions 200 --jobs 4 --timeout 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from mesalib.teaching.grading import Limits, grade
from mesalib.teaching.grading.synthetic import learner_notebook, solution_sources, write_notebook


def _first_exercise(nb: dict) -> int:
    return next(
        i for i, c in enumerate(nb["cells"]) if "exercise" in c.get("metadata", {}).get("mesalib", {})
    )


def _check_cell(nb: dict) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if "check" in c.get("metadata", {}).get("mesalib", {}))


def kinds(lesson: str) -> dict[str, tuple[float, str, callable]]:
    """name -> (share of the class, the status its first exercise should get, a maker of its notebook)."""
    sol = solution_sources(lesson)
    first = next(iter(sol))  # the first exercise's function name
    body = sol[first]

    def with_first(source: str):
        return lambda: learner_notebook(lesson, {first: source})

    def signature() -> str:
        return body.split("\n", 1)[0] + "\n"  # "def name(args):"

    def damaged(fn):
        def make():
            nb = learner_notebook(lesson)
            fn(nb)
            return nb

        return make

    def edit_points(nb):
        nb["cells"][_first_exercise(nb)]["metadata"]["mesalib"]["points"] = 99

    def edit_check(nb):
        nb["cells"][_check_cell(nb)]["source"] = f'print("✓ {first}: all cases pass.")'

    def delete_cell(nb):
        del nb["cells"][_first_exercise(nb)]

    # Plausible bugs: no answer for about a third of the inputs; a constant of the wrong shape.
    early = signature() + "    import numpy as _np\n    return _np.zeros(1)\n"
    first_arg = body.split("(", 1)[1].split(",")[0].split(")")[0].strip()
    halfway = body.replace(
        "### BEGIN SOLUTION",
        f"### BEGIN SOLUTION\n    if len(repr({first_arg})) % 3 == 0:\n        return None",
    )
    return {
        "correct": (0.40, "ok", with_first(body)),
        "partial_halfway": (0.15, "partial", with_first(halfway)),
        "partial_wrong": (0.10, "failed|partial", with_first(early)),
        "stub": (0.04, "not_implemented", lambda: learner_notebook(lesson, solved=False)),
        "syntax_error": (0.03, "syntax_error", with_first(signature().rstrip(":\n") + "\n    return 1\n")),
        "missing_cell": (0.03, "missing_cell", damaged(delete_cell)),
        "invalid_json": (0.03, "invalid_json", None),
        "empty_file": (0.02, "empty_file", None),
        "prints_passed": (0.03, "fake_output", with_first(f'print("✓ {first}: all cases pass.")\n' + early)),
        "patches_numpy": (
            0.03,
            "tampering",
            with_first("import numpy as np\nnp.testing.assert_allclose = print\n" + body),
        ),
        "reads_reference": (
            0.02,
            "reads_reference",
            with_first("from mesalib.teaching import checks\n" + body),
        ),
        "equals_anything": (
            0.02,
            "custom_eq",
            with_first(
                "class Any:\n    def __eq__(self, o):\n        return True\n\n"
                + signature()
                + "    return Any()\n"
            ),
        ),
        # In the sandbox a fork fails (no new processes) and a write outside finds no such folder:
        # both raise, so the cases fail.
        "forks": (0.02, "failed", with_first("import os\n" + signature() + "    os.fork()\n")),
        "writes_outside": (
            0.02,
            "failed",
            with_first(signature() + "    open('/tmp/mesalib-bench-evil', 'w')\n"),
        ),
        "system_exit": (0.01, "exit_raised", with_first(signature() + "    raise SystemExit\n")),
        "allocates": (0.01, "memory_limit", with_first(signature() + "    return bytearray(8 * 1024**3)\n")),
        "sleeps": (0.01, "timeout", with_first("import time\n" + signature() + "    time.sleep(3600)\n")),
        "points_edited": (0.01, "metadata_edited", damaged(edit_points)),
        "check_edited": (0.02, "check_edited", damaged(edit_check)),
    }


def build_class(lesson: str, n: int, folder: Path) -> dict[str, str]:
    """Write `n` submissions into `folder`; returns learner -> the status it was built for."""
    table = kinds(lesson)
    counts = {k: max(1, round(share * n)) for k, (share, _, _) in table.items()}
    while sum(counts.values()) > n:
        counts["correct"] -= 1
    counts["correct"] += n - sum(counts.values())
    if counts["correct"] < 1:
        raise SystemExit(f"--submissions {n} is too few for a class with every kind; use at least 40")
    wanted = {}
    for kind, count in counts.items():
        _, status, make = table[kind]
        for i in range(count):
            learner = f"{kind}_{i:03d}"
            path = folder / f"{learner}.ipynb"
            if kind == "invalid_json":
                path.write_text(json.dumps(learner_notebook(lesson))[:-100])
            elif kind == "empty_file":
                path.write_bytes(b"")
            else:
                write_notebook(make(), path)
            wanted[learner] = status
    return wanted


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="02")
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="wall-clock seconds per exercise")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--keep", help="write the class and the grades into this folder instead of a temporary one"
    )
    args = parser.parse_args(argv)

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mesalib-grading-bench-"))
    subs, out = root / "submissions", root / "out"
    shutil.rmtree(subs, ignore_errors=True)
    subs.mkdir(parents=True)
    wanted = build_class(args.lesson, args.submissions, subs)
    before_self, before_children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    start = time.perf_counter()
    run = grade(
        sorted(subs.glob("*.ipynb")),
        out,
        seed=args.seed,
        lesson=args.lesson,
        jobs=args.jobs,
        limits=Limits(wall_s=args.timeout, cpu_s=args.timeout),
        progress=True,
        echo=None,
    )
    wall = time.perf_counter() - start
    after_self, after_children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    cpu_self = (after_self.ru_utime + after_self.ru_stime) - (before_self.ru_utime + before_self.ru_stime)
    cpu_children = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime
    )

    wrong = []
    for record in run.records:
        want = wanted[record["learner"]]
        got = record["status"] if record["problem"] else record["exercises"][0]["status"]
        if got not in want.split("|"):
            wrong.append(f"{record['learner']}: {got} (built for {want})")
    n = len(run.records)
    print(run.summary)
    print()
    print(
        f"lesson {args.lesson}: {n} submissions, {args.jobs} jobs, {os.cpu_count()} CPUs, "
        f"timeout {args.timeout:g} s per exercise"
    )
    print(f"wall time            {wall:8.2f} s")
    print(
        f"per submission       {wall / n * 1000:8.1f} ms wall, "
        f"{(cpu_self + cpu_children) / n * 1000:.1f} ms CPU"
    )
    print(f"CPU: grader process  {cpu_self:8.2f} s (parsing, static checks, judging)")
    print(f"CPU: sandboxes       {cpu_children:8.2f} s (bubblewrap, Python, imports, learners' code)")
    sleepers = sum(1 for s in wanted.values() if s == "timeout")
    if sleepers:
        print(
            f"({sleepers} submission(s) sleep until the {args.timeout:g} s limit: at least "
            f"{sleepers * args.timeout / args.jobs:.1f} s of the wall time)"
        )
    print(
        "statuses as built: "
        + ("all right" if not wrong else f"{len(wrong)} differ:\n  " + "\n  ".join(wrong))
    )
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
