"""The `mesalib` command: one entry point for the course's shell tasks.

Each subcommand is a thin layer over a library function, so what the shell does and what a
notebook does are the same code.
"""

from __future__ import annotations

import argparse
import json
import runpy
import shlex
import sys
from pathlib import Path

from mesalib.env.levels import NAMED
from mesalib.teaching import export_command, sweep_command


def _whole_number(least: int):
    """An argparse type for whole numbers of at least `least`; argparse's error names the option."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{text} is not allowed: use a whole number >= {least}")
        return value

    parse.__name__ = f"whole number >= {least}"
    return parse


def _seconds(least: float, strictly: bool):
    """An argparse type for an amount (seconds, MiB) above `least` (or at least it, if not `strictly`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (value > least if strictly else value >= least) or value != value or value == float("inf"):
            relation = ">" if strictly else ">="
            raise argparse.ArgumentTypeError(
                f"{text} is not allowed: use a finite number {relation} {least:g}"
            )
        return value

    parse.__name__ = f"number {'>' if strictly else '>='} {least:g}"
    return parse


SEED = _whole_number(0)
POSITIVE = _whole_number(1)
POSITIVE_AMOUNT = _seconds(0, strictly=True)
AMOUNT_OR_ZERO = _seconds(0, strictly=False)


def _bench(args: argparse.Namespace) -> int:
    from mesalib.teaching.course_files import CourseFilesMissing, clone_file

    try:
        script = clone_file("benchmarks/env_throughput.py", "mesalib bench")
    except CourseFilesMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.argv = [str(script), "--seconds", str(args.seconds), "--repeat", str(args.repeat)]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def _check(args: argparse.Namespace) -> int:
    paths = [Path(name) for name in args.notebooks]
    for path in paths:
        if not path.is_file() or path.suffix != ".ipynb":
            what = (
                "is a folder"
                if path.is_dir()
                else "does not exist"
                if not path.exists()
                else "is not a .ipynb file"
            )
            print(
                f"error: NOTEBOOK {str(path)!r} {what}: give a lesson, e.g. lessons/02_heuristics.ipynb",
                file=sys.stderr,
            )
            return 2
    from mesalib.teaching.validate import check_notebook

    all_ok = True
    for path in paths:
        print(
            f"Checking {path} in a fresh kernel (every cell runs; saved outputs are ignored)...", flush=True
        )
        report = check_notebook(path, timeout=args.timeout, progress=not args.no_progress)
        print(report.text())
        all_ok &= report.ok
    return 0 if all_ok else 1


def _lessons(args: argparse.Namespace) -> int:
    from mesalib.teaching.lessons import LearnerWork, build_lessons

    root = Path(args.root)
    if not (root / "solutions").is_dir():
        print(
            f"error: --root {args.root!r} has no solutions/ folder: give the course repository's root "
            "(the folder holding solutions/ and lessons/).",
            file=sys.stderr,
        )
        return 2
    try:
        stale = build_lessons(root / "solutions", root / "lessons", check=args.check, force=args.force)
    except LearnerWork as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    orphans = [name for name in stale if not (root / "solutions" / name).exists()]
    for name in orphans:
        print(f"lessons/{name} has no solutions/{name}: delete it by hand if it is not wanted.")
    if args.check:
        if stale:
            print("Stale lessons (run `mesalib lessons` to regenerate): " + ", ".join(stale))
            return 1
        print("lessons/ is in sync with solutions/.")
    else:
        written = [n for n in stale if n not in orphans]
        print(f"Wrote {len(written)} lesson(s)" + (": " + ", ".join(written) if written else "."))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from mesalib.agents.registry import resolve, training_distribution
    from mesalib.analysis.evaluate import SUMMARY_KEYS, evaluate
    from mesalib.analysis.generalization import evaluation_distribution
    from mesalib.env.levels import TRAIN

    try:
        probe = resolve(args.agent, TRAIN, args.seed)
        split = evaluation_distribution(args.on, training_distribution(probe))
        if args.ghosts:
            split = split.replace(ghost_chests=True)
        policy = resolve(args.agent, split, args.seed)  # the planner needs the split's step limit
        result = evaluate(
            policy, split, args.episodes, seed=args.seed, progress=not args.json, with_best=args.best
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = result.summary()
    keys = SUMMARY_KEYS + (("fraction_of_best",) if args.best else ())
    if args.json:
        about = {"episodes": summary["episodes"], "agent": args.agent, "on": args.on, "seed": args.seed}
        print(json.dumps({k: summary[k] for k in keys} | about))
    else:
        print(f"{args.agent} on {args.on.upper()} ({args.episodes} episodes, seed {args.seed}):")
        for k in keys:
            print(f"  {k:20s} {summary[k]:.3f}")
    return 0


def _attribute(args: argparse.Namespace) -> int:
    from mesalib.agents.registry import resolve, training_distribution
    from mesalib.analysis.attribution import attribute
    from mesalib.analysis.criteria import split_distributions
    from mesalib.analysis.generalization import evaluation_distribution
    from mesalib.env.levels import TRAIN

    try:
        probe = resolve(args.agent, TRAIN, args.seed)
        splits = split_distributions(training_distribution(probe))  # the view the agent was trained on
        held_out = evaluation_distribution(args.on, training_distribution(probe))
        policy = resolve(args.agent, held_out, args.seed)  # the planner needs the step limit
        if not args.json:
            print(
                f"Recording {args.agent} on {args.episodes} {args.fit_on.upper()} levels to fit on and "
                f"{args.episodes} other {args.on.upper()} levels held out; scoring every candidate there...",
                file=sys.stderr,
                flush=True,
            )
        result = attribute(policy, splits[args.fit_on], held_out, args.episodes, seed=args.seed)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict() | {"agent": args.agent, "episodes": args.episodes}))
    else:
        print(result.summary())
    return 0


def _train(args: argparse.Namespace) -> int:
    from mesalib.agents.ppo import PPOConfig, train

    out = Path(args.out)
    problem = _output_problem(out, args.force)
    if problem:
        print(f"error: --out {out}: {problem}", file=sys.stderr)
        return 2
    config = PPOConfig(seed=args.seed)
    if args.total_steps is not None:
        config = config.replace(total_steps=args.total_steps)
    agent, history = train(config, progress=True)
    agent.save(out)
    test = history[-1]["test_eval"]
    print(
        f"saved {out}: {agent.stats['env_steps']:,} env steps in {agent.stats['wall_time_s']:.0f} s; "
        f"greedy TEST chests {test['chests_opened']:.2f}, keys {test['keys_collected']:.2f}"
    )
    return 0


def _output_problem(out: Path, force: bool) -> str:
    """Why a checkpoint cannot be written to `out` (empty when it can), checked before any training."""
    if out.is_dir():
        return "is a folder; name the checkpoint file to write, for example --out my_agent.pt."
    if out.exists() and not force:
        return "exists; pass --force to overwrite it, or choose another --out."
    if not out.parent.is_dir():
        return f"the folder {out.parent} does not exist; create it first."
    return ""


def _checkpoints(args: argparse.Namespace) -> int:
    from mesalib.agents import checkpoints

    regeneration_only = {"--only": args.only, "--results": args.results, "--address": args.address}
    for option, value in regeneration_only.items():
        if value is not None and not args.regenerate:
            print(
                f"error: {option} belongs to a regeneration, so it needs --regenerate "
                f"(mesalib checkpoints --regenerate {option} ...).",
                file=sys.stderr,
            )
            return 2
    if args.regenerate:
        from mesalib.analysis.catalog import regenerate  # trains: imports torch and the analysis layer

        try:
            regenerate(args.only or None, results=args.results, address=args.address, workers=args.workers)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except RuntimeError as exc:  # some recipes failed; the others are in the catalog
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    recorded = checkpoints.catalog()
    for name in checkpoints.names(shipped_only=False):
        kind = "file" if checkpoints.RECIPES[name].shipped else "data"
        print(f"{name:16s} {kind:4s} {_catalog_line(recorded.get(name, {}))}")
    print(
        "criteria (mesalib.analysis.criteria): 1 capable on TRAIN, 2 misgeneralizes on TEST, "
        "3 does not seek chests"
    )
    print("ratios: chests/ktc = chests opened / key_then_chest's; keys/nk = keys collected / nearest_key's")
    return 0


def _catalog_line(entry: dict) -> str:
    """A checkpoint's verdict and its ratios to the reference agents, as recorded in the catalog."""
    failed = [k.split()[0] for k, ok in entry.get("passed", {}).items() if not ok]
    if not entry:
        verdict = "not measured"
    elif entry["misgeneralizes"]:
        verdict = "misgeneralizes"
    else:
        verdict = "fails criteria " + ",".join(failed)
    ratios = entry.get("ratios", {})
    if not ratios:
        return f"{verdict:20s} "
    return (
        f"{verdict:20s} TRAIN chests/ktc {ratios['train_chests']:.2f}, "
        f"TEST chests/ktc {ratios['test_chests']:.2f}, TEST keys/nk {ratios['test_keys']:.2f}, "
        f"chest seeking {ratios['chest_seeking']:.2f}"
    )


def _grade(args: argparse.Namespace) -> int:
    from mesalib.teaching.course_files import CourseFilesMissing
    from mesalib.teaching.grading import Limits, SandboxUnavailable, grade

    if args.jobs < 1 or args.timeout <= 0 or args.memory_mb < 16 or args.max_size_mb <= 0:
        print(
            "error: --jobs must be at least 1, --timeout and --max-size-mb positive, "
            "--memory-mb at least 16.",
            file=sys.stderr,
        )
        return 2
    limits = Limits(wall_s=args.timeout, cpu_s=args.cpu_time or args.timeout, memory_mb=args.memory_mb)
    try:
        grade(
            args.submissions,
            args.out,
            seed=args.seed,
            lesson=args.lesson,
            jobs=args.jobs,
            limits=limits,
            lessons_dir=args.lessons_dir,
            max_bytes=int(args.max_size_mb * 2**20),
            resume=args.resume,
            progress=not args.no_progress,
            trusted=args.trusted_class,
        )
    except (ValueError, SandboxUnavailable, CourseFilesMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _course(args: argparse.Namespace) -> int:
    from mesalib.teaching.course_files import lesson_paths
    from mesalib.teaching.lab import LabArgumentError, check_address, require_jupyterlab, run_lab
    from mesalib.teaching.working_copy import copy_lessons, folder_problem

    folder = Path(args.folder)
    problem = folder_problem(folder)
    try:
        if problem:
            raise LabArgumentError(problem)
        if not args.no_lab:
            require_jupyterlab("or pass --no-lab to only copy the lessons")
            check_address(args.port, args.ip)
    except LabArgumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = copy_lessons(folder, fresh=args.fresh)
    print(done.text(), flush=True)
    first = lesson_paths()[0].name
    if args.no_lab:
        print(f"Start JupyterLab there with:\n\n    mesalib lab {first} --root {shlex.quote(str(folder))}")
        return 0
    try:
        return run_lab(folder, first, args.port, args.ip, open_browser=not args.no_browser)
    except LabArgumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _lab(args: argparse.Namespace) -> int:
    from mesalib.teaching.lab import LabArgumentError, run_lab

    try:
        return run_lab(args.root, args.notebook, args.port, args.ip, open_browser=not args.no_browser)
    except LabArgumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mesalib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_check,
        _add_bench,
        _add_lessons,
        _add_evaluate,
        _add_attribute,
        _add_train,
        _add_checkpoints,
        _add_grade,
        _add_lab,
        _add_course,
        sweep_command.add_parser,
        export_command.add_parser,
    ):
        add(sub)
    return parser


def _add_check(sub) -> None:
    ck = sub.add_parser(
        "check",
        help="validate a lesson: run it in a fresh kernel, report each exercise (passed, not done, failed)",
    )
    ck.add_argument(
        "notebooks", nargs="+", metavar="NOTEBOOK", help="lesson notebooks, e.g. lessons/02_heuristics.ipynb"
    )
    ck.add_argument("--timeout", type=POSITIVE, default=600, help="seconds one cell may take (default 600)")
    ck.add_argument("--no-progress", action="store_true", help="no progress bar")
    ck.set_defaults(run=_check)


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="environment throughput against Minigrid (ratios)")
    bench.add_argument("--seconds", type=POSITIVE_AMOUNT, default=1.0, help="measuring time per run")
    bench.add_argument("--repeat", type=POSITIVE, default=3, help="runs per figure; the best is reported")
    bench.set_defaults(run=_bench)


def _add_lessons(sub) -> None:
    lessons = sub.add_parser("lessons", help="regenerate lessons/ from solutions/")
    lessons.add_argument("--check", action="store_true", help="only report stale lessons (exit 1)")
    lessons.add_argument("--root", default=".", help="the repository root (default: here)")
    lessons.add_argument(
        "--force",
        action="store_true",
        help="also replace lessons holding a learner's work (a copy goes to .lesson-backups/ first)",
    )
    lessons.set_defaults(run=_lessons)


def _add_evaluate(sub) -> None:
    ev = sub.add_parser("evaluate", help="play an agent on TRAIN or TEST levels and print the means")
    ev.add_argument(
        "agent",
        help="random, nearest_key, key_then_chest, wall_follower, planner, a shipped "
        "checkpoint (default, ...) or a checkpoint path",
    )
    ev.add_argument("--on", choices=tuple(NAMED), default="test", help="levels (levels.NAMED; default test)")
    ev.add_argument("--episodes", type=POSITIVE, default=1000, help="levels to play (default 1000)")
    ev.add_argument("--seed", type=SEED, default=0, help="draws the levels (same seed, same levels)")
    ev.add_argument("--ghosts", action="store_true", help="add invisible ghost chests (hidden-chest test)")
    ev.add_argument("--best", action="store_true", help="also the fraction of the planner's best (slower)")
    ev.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ev.set_defaults(run=_evaluate)


def _add_attribute(sub) -> None:
    at = sub.add_parser(
        "attribute",
        help="agent or device: fit goals and rules on one set of levels, score them on held-out levels",
    )
    at.add_argument(
        "agent",
        help="random, nearest_key, key_then_chest, wall_follower, planner, a shipped "
        "checkpoint (default, ...) or a checkpoint path",
    )
    at.add_argument(
        "--on", choices=tuple(NAMED), default="test", help="held-out levels (levels.NAMED; default test)"
    )
    at.add_argument(
        "--fit-on", choices=("train", "test"), default="train", help="levels to fit on (default train)"
    )
    at.add_argument(
        "--episodes", type=POSITIVE, default=30, help="levels to fit on, and as many held out (default 30)"
    )
    at.add_argument("--seed", type=SEED, default=0, help="draws the levels and the bootstrap (default 0)")
    at.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    at.set_defaults(run=_attribute)


def _add_train(sub) -> None:
    tr = sub.add_parser("train", help="train the default agent and save a checkpoint")
    tr.add_argument("--seed", type=SEED, default=0, help="seeds the network and the levels (default 0)")
    tr.add_argument("--out", required=True, help="checkpoint file to write (.pt)")
    tr.add_argument(
        "--total-steps", type=POSITIVE, default=None, help="environment steps (default: PPOConfig's)"
    )
    tr.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    tr.set_defaults(run=_train)


def _add_checkpoints(sub) -> None:
    ck = sub.add_parser("checkpoints", help="list the shipped agents, or --regenerate them")
    ck.add_argument("--regenerate", action="store_true", help="train and measure them again (about 5 min)")
    ck.add_argument("--only", nargs="*", help="names to regenerate (default: all)")
    ck.add_argument(
        "--results", type=Path, help="keep one result per recipe here, so the same command resumes"
    )
    ck.add_argument("--address", help="a Dask scheduler (tcp://HOST:PORT) to train the recipes on")
    ck.add_argument(
        "--workers", type=POSITIVE, default=1, help="local processes training at once (default 1)"
    )
    ck.set_defaults(run=_checkpoints)


def _add_grade(sub) -> None:
    gr = sub.add_parser("grade", help="grade learners' exercise notebooks safely (gradebook, feedback, JSON)")
    gr.add_argument(
        "submissions",
        nargs="+",
        help="notebook files or folders, one per learner (a folder of "
        "folders is a class); the learner id is the folder or file name",
    )
    gr.add_argument(
        "--out", required=True, help="folder for gradebook.csv, grades.json, feedback/ and records/"
    )
    gr.add_argument("--seed", type=SEED, required=True, help="draws the hidden cases (keep it secret)")
    gr.add_argument(
        "--lesson", help="the lesson to grade, like 02 (default: the one most submissions are of)"
    )
    gr.add_argument("--jobs", type=POSITIVE, default=2, help="learners graded at once (default 2)")
    gr.add_argument(
        "--timeout", type=POSITIVE_AMOUNT, default=20.0, help="wall-clock seconds per exercise (default 20)"
    )
    gr.add_argument(
        "--cpu-time", type=AMOUNT_OR_ZERO, default=0.0, help="CPU seconds per exercise (default: --timeout)"
    )
    gr.add_argument(
        "--memory-mb", type=POSITIVE, default=1024, help="memory per exercise in MiB (default 1024)"
    )
    gr.add_argument(
        "--max-size-mb", type=POSITIVE_AMOUNT, default=20.0, help="larger notebooks are not read (default 20)"
    )
    gr.add_argument(
        "--lessons-dir",
        help="the official lessons folder (default: the lessons shipped with the package; "
        "in a clone, its lessons/)",
    )
    gr.add_argument(
        "--resume",
        action="store_true",
        help="keep the records of an earlier run into --out whose inputs are unchanged",
    )
    gr.add_argument("--no-progress", action="store_true", help="no progress bar")
    gr.add_argument(
        "--trusted-class",
        action="store_true",
        help="where bubblewrap cannot isolate the learners' code, grade anyway without isolation "
        "(every report says so); without it `grade` refuses",
    )
    gr.set_defaults(run=_grade)


def _add_lab(sub) -> None:
    lab = sub.add_parser("lab", help="open the course in JupyterLab; prints the address of its first lesson")
    lab.add_argument(
        "notebook",
        nargs="?",
        default="lessons/00_welcome.ipynb",
        help="the notebook to open, relative to --root (default: lessons/00_welcome.ipynb)",
    )
    lab.add_argument("--root", default=".", help="the course folder the file browser shows (default: here)")
    lab.add_argument("--port", type=int, default=8888, help="the first port to try (default 8888)")
    lab.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 inside Docker)"
    )
    lab.add_argument("--no-browser", action="store_true", help="only print the address, open no browser")
    lab.set_defaults(run=_lab)


def _add_course(sub) -> None:
    co = sub.add_parser(
        "course",
        help="copy the lessons into a working folder and open JupyterLab at the first one",
        description="Copy the course's lessons into FOLDER and open JupyterLab at the first one. "
        "Run it again after an update: new lessons are added, and notebooks you changed are kept "
        "and listed (--fresh puts the shipped version beside each).",
    )
    co.add_argument(
        "folder",
        nargs="?",
        default="mesalib-course",
        metavar="DIR",
        help="the working folder, made if missing (default: mesalib-course in the current folder)",
    )
    co.add_argument("--no-lab", action="store_true", help="only copy the lessons; print how to start")
    co.add_argument(
        "--fresh",
        action="store_true",
        help="for each lesson you changed, also write the shipped version as NN_topic.fresh.ipynb",
    )
    co.add_argument("--port", type=int, default=8888, help="the first port to try (default 8888)")
    co.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 inside Docker)"
    )
    co.add_argument("--no-browser", action="store_true", help="only print the address, open no browser")
    co.set_defaults(run=_course)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
