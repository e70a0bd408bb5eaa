"""The generalization matrix of lesson 08: every alpha x training seed of the sweep on every named
distribution, written to the shipped table `mesalib/agents/checkpoints/generalization.json`.

The runs shipped as checkpoints are loaded; the others are trained from their recipes
(`checkpoints.RECIPES`, about 12 s each on an idle 2-core machine, 8 of them), then every agent plays
`--episodes` levels of each column (`analysis.generalization.COLUMNS`) and lesson 06's preference
levels. The shipped table was made with MESALIB_THREADS=1 (the thread count changes trained weights
in their last bits); machine load changes only the time it takes (17 minutes on a loaded 2-core machine).

    MESALIB_THREADS=1 python benchmarks/generalization_matrix.py --cache-dir /tmp/gm_agents   # the table
    # a smoke test (shipped agents only, nothing trained):
    python benchmarks/generalization_matrix.py --episodes 5 --alphas 0 0.4 --seeds 0 --out /tmp/gm.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mesalib.agents.checkpoints import SWEEP_SEEDS
from mesalib.analysis.generalization import ALPHAS, TABLE, generalization_matrix, save_table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=500, help="levels per cell (default 500)")
    parser.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS), help="mixing fractions")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=list(SWEEP_SEEDS), help="training seeds (default 0 1 2)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="keep trained agents here for reruns")
    parser.add_argument("--out", type=Path, default=TABLE, help=f"where to write the table (default {TABLE})")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    table = generalization_matrix(
        alphas=args.alphas,
        seeds=args.seeds,
        episodes=args.episodes,
        cache_dir=args.cache_dir,
        log=lambda line: print(f"[{time.perf_counter() - start:6.0f} s] {line}", flush=True),
    )
    save_table(table, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
