"""The `mesalib` command: one entry point for the course's shell tasks.

Each subcommand is a thin layer over a library function, so what the shell does and what a
notebook does are the same code.
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _bench(args: argparse.Namespace) -> int:
    script = REPO / "benchmarks" / "env_throughput.py"
    if not script.exists():
        print(f"error: the benchmark script {script} is not here; run this from a clone of the "
              "repository (the benchmarks are not installed with the package).", file=sys.stderr)
        return 2
    sys.argv = [str(script), "--seconds", str(args.seconds)]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def _lessons(args: argparse.Namespace) -> int:
    from .course import build_lessons

    root = Path(args.root)
    stale = build_lessons(root / "solutions", root / "lessons", check=args.check)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mesalib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="environment throughput against Minigrid (ratios)")
    bench.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure")
    bench.set_defaults(run=_bench)
    lessons = sub.add_parser("lessons", help="regenerate lessons/ from solutions/")
    lessons.add_argument("--check", action="store_true", help="only report stale lessons (exit 1)")
    lessons.add_argument("--root", default=".", help="the repository root (default: here)")
    lessons.set_defaults(run=_lessons)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
