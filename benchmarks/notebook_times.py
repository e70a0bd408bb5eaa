"""How long each solution notebook takes to run top to bottom (the course promises at most 3 minutes each
on 2 CPU cores).

Executes every notebook in `solutions/` (or those named) with nbclient in a fresh kernel, one after
another, in the notebook's own folder, exactly as a learner's "Run All" would, and prints a table of
wall times against the 3-minute budget. Nothing is written back to the notebooks.

    .venv/bin/python benchmarks/notebook_times.py                # all of solutions/
    .venv/bin/python benchmarks/notebook_times.py solutions/04_training.ipynb
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 180.0


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="per cell, seconds")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "solutions").glob("*.ipynb"))
    rows, failed = [], False
    for path in paths:
        try:
            seconds = run(path, args.timeout)
            verdict = "ok" if seconds <= BUDGET_S else "OVER BUDGET"
        except Exception as exc:  # a failing cell: report it and go on with the others
            seconds, verdict = float("nan"), f"FAILED ({type(exc).__name__})"
        failed |= verdict != "ok"
        rows.append((path.name, seconds, verdict))
        print(f"{path.name}: {seconds:.1f} s {verdict}", file=sys.stderr)
    print(f"\n| notebook | seconds | within {BUDGET_S:.0f} s |\n|---|---|---|")
    for name, seconds, verdict in rows:
        print(f"| {name} | {seconds:.1f} | {verdict} |")
    print(f"| total | {sum(s for _, s, _ in rows):.1f} | |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
