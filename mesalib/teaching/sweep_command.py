"""`mesalib sweep`: run a grid of training runs and collect their results (course/sweeps.md).

    mesalib sweep plan --alphas 0 0.1 0.2 0.4 --seeds 0 1 2 --out runs/ --parts 6  # the grid, its cells
    mesalib sweep run --alphas 0 0.1 --seeds 0 1 --steps 100000 --out runs/       # here, one by one
    mesalib sweep run spec.json --out runs/ --address tcp://127.0.0.1:8786         # on a Dask cluster
    mesalib sweep run --share ~/shared/class/phase --learner ada --part 3/20       # one learner's cells
    mesalib sweep collect runs/ --plot runs.png                                    # table (and figure)

A thin layer over `mesalib.analysis.grid_sweep`: every option is a field of `SweepSpec`, checked there
before any run starts. The `mesalib` command adds it with `add_parser(subparsers)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mesalib.analysis.grid_sweep import (
    SPEC_FILE,
    SweepError,
    SweepSpec,
    collect,
    prepare_folder,
    run_sweep,
    select,
)

SPEC_OPTIONS = (
    "alphas",
    "seeds",
    "hidden",
    "network",
    "variants",
    "steps",
    "evaluate",
    "episodes",
    "eval_seed",
    "threads",
)
"""The options that make a specification (`SweepSpec`'s fields)."""


def _cells(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: use cell numbers such as 0,4,7") from None


def _part(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: use K/N, such as 3/20") from None
    return k, n


def _add_spec_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "spec", nargs="?", type=Path, help="a JSON file with the specification (or use the options)"
    )
    g = p.add_argument_group("the grid (SweepSpec; defaults: one run of the default agent)")
    g.add_argument("--alphas", type=float, nargs="+", help="fractions of TEST levels mixed into training")
    g.add_argument("--seeds", type=int, nargs="+", help="training seeds")
    g.add_argument("--hidden", type=int, nargs="+", help="hidden-layer widths")
    g.add_argument("--network", nargs="+", help="mlp and/or cnn")
    g.add_argument(
        "--variants", nargs="+", help="observation variants: default, inventory, view7, allocentric"
    )
    g.add_argument("--steps", type=int, help="environment steps per run (default 400000)")
    g.add_argument(
        "--evaluate", nargs="+", help="named distributions (train, test, maze, ...), criteria, preference"
    )
    g.add_argument("--episodes", type=int, help="levels per evaluation (default 1000)")
    g.add_argument("--eval-seed", type=int, help="seed of the evaluation levels (default 0)")
    g.add_argument("--threads", type=int, help="torch threads per run (default 1)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `sweep` (with `plan`, `run`, `collect`) to the `mesalib` command's subparsers."""
    sweep = subparsers.add_parser(
        "sweep", help="grids of training runs: locally, on a Dask cluster, or by a class"
    )
    sub = sweep.add_subparsers(dest="sweep_command", required=True)

    plan = sub.add_parser("plan", help="record a grid in a folder and list its cells (and who takes which)")
    _add_spec_options(plan)
    plan.add_argument("--out", type=Path, required=True, help="the sweep's folder (a class's shared folder)")
    plan.add_argument("--parts", type=int, default=1, help="list the cells of each of N parts (learners)")

    run = sub.add_parser("run", help="run the grid's unfinished runs, writing one result file per run")
    _add_spec_options(run)
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="folder for the results (resumes what is already there)")
    where.add_argument("--share", type=Path, help="a class's shared folder: its recorded grid is used")
    run.add_argument("--learner", help="your name, recorded in your results (required with --share)")
    cells = run.add_mutually_exclusive_group()
    cells.add_argument("--cells", type=_cells, help="run only these cells (numbers from `sweep plan`): 0,4,7")
    cells.add_argument("--part", type=_part, help="run part K of N: every N-th cell from the K-th on")
    run.add_argument("--address", help="a Dask scheduler, tcp://HOST:PORT (needs mesalib[cluster])")
    run.add_argument("--workers", type=int, default=1, help="local processes (default 1: one run at a time)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    co = sub.add_parser("collect", help="merge a folder's results into a table (and a figure)")
    co.add_argument("dir", type=Path, help="the sweep's folder")
    co.add_argument(
        "--metric", default="test_chests", help="a criteria ratio or a path such as cells.maze.chests_opened"
    )
    co.add_argument("--plot", type=Path, help="write the figure to this file (.png, .svg, .pdf)")
    sweep.set_defaults(run=main)
    return sweep


def _spec(args: argparse.Namespace, folder: Path | None) -> SweepSpec:
    """The specification from the file, or from the options, or the one recorded in `folder`."""
    given = {k: getattr(args, k) for k in SPEC_OPTIONS if getattr(args, k) is not None}
    if args.spec is not None and given:
        raise SweepError(
            f"give a specification file or options (--{next(iter(given)).replace('_', '-')}), not both."
        )
    if args.spec is not None:
        return SweepSpec.load(args.spec)
    recorded = prepare_folder(folder, None) if folder is not None and (folder / SPEC_FILE).exists() else None
    if recorded is not None and not given:
        return recorded
    return SweepSpec(**given)


def main(args: argparse.Namespace) -> int:
    try:
        return {"plan": _plan, "run": _run, "collect": _collect}[args.sweep_command](args)
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _plan(args: argparse.Namespace) -> int:
    spec = _spec(args, args.out)
    if args.parts < 1:
        raise SweepError(f"--parts has {args.parts}, which is not allowed: use a whole number >= 1.")
    prepare_folder(args.out, spec)
    runs = spec.runs()
    part_of = {r.name: k for k in range(1, args.parts + 1) for r in select(runs, part=(k, args.parts))}
    print(f"{len(runs)} runs recorded in {args.out / SPEC_FILE}")
    for i, r in enumerate(runs):
        print(f"{i:4d}  part {part_of[r.name]}/{args.parts}  {r.name}")
    return 0


def _run(args: argparse.Namespace) -> int:
    folder = args.share or args.out
    if args.share is not None and not args.learner:
        raise SweepError("--share needs --learner NAME: a class sweep records who ran each run.")
    if args.share is not None and not (args.share / SPEC_FILE).exists():
        raise SweepError(
            f"{args.share} holds no grid yet: the instructor records it with `mesalib sweep plan`."
        )
    spec = _spec(args, folder)
    runs = select(spec.runs(), cells=args.cells, part=args.part)
    prepare_folder(folder, spec)
    report = run_sweep(
        runs,
        folder,
        address=args.address,
        workers=args.workers,
        learner=args.learner,
        progress=not args.quiet,
    )
    print(report.summary())
    return 1 if report.failed else 0


def _collect(args: argparse.Namespace) -> int:
    table = collect(args.dir)
    print(table.text(args.metric))
    if table.results:
        try:
            print(table.sweep(args.metric).table())
        except SweepError as exc:
            print(f"(no alpha x seed table: {exc})")
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        if any(r.get("learner") for r in table.results):
            from mesalib.drawing.sweep_plots import plot_class_sweep

            ax = plot_class_sweep(table, args.metric)
        else:
            from mesalib.drawing.plots import plot_sweep

            ax = plot_sweep(table.sweep(args.metric))
        ax.figure.savefig(args.plot, dpi=120)
        plt.close(ax.figure)
        print(f"wrote {args.plot}")
    return 0
