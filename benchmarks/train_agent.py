"""The default agent as a learner trains it: how fast, how reliably, and where the time goes.

For each seed, run `mesalib train --seed S --out ...` as its own process, as a learner would, and time
it from start to exit (Python start-up, imports and saving included); then judge the checkpoint with
`mesalib.analysis.criteria.misgeneralization_report` (1000 episodes per split). Prints:

- per seed: the wall time, the three criteria's ratios and whether all three pass;
- the median over the first `--timed` seeds of the time to a checkpoint that passes (a seed whose
  checkpoint fails counts as never), against the targets: 15 s (the bar 30 s, the aim 10 s);
- how many seeds pass, and the spread of the keys ratio (target: >= 0.85 on the median seed);
- where a training second goes (the checkpoints' `stats["profile_s"]`, medians over seeds);
- the baseline, trained in the same run: the default's settings before issue 16 (`STARTING_POINT`),
  one seed, and the new default's training time as a ratio of its time, so that a slower or busier
  host, which slows both alike, does not hide the speed-up;
- Gymnasium's vector adapter beside the batched core it wraps, at 4096 games (target: within 10%).

Run it on an idle machine: every figure is wall time.

    python benchmarks/train_agent.py                       # 10 seeds, 5 timed: a few minutes on 2 cores
    python benchmarks/train_agent.py --seeds 2 --timed 1 --total-steps 8192 --episodes 20 \
        --baseline-steps 8192                              # a smoke test
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from env_throughput import adapter_beside_core, adapter_lines
from train_search import config_with

from mesalib.agents.agent import Agent
from mesalib.agents.ppo import train
from mesalib.agents.training_log import PROFILE_PARTS
from mesalib.analysis.criteria import Report, misgeneralization_report

MESALIB = [sys.executable, "-m", "mesalib.teaching.cli"]

STARTING_POINT = (
    "view=17",
    "hidden=256",
    "num_envs=64",
    "num_steps=64",
    "epochs=4",
    "lr=1e-3",
    "anneal_lr=False",
    "gamma=0.97",
    "eval_every=10",
)
"""The default agent's settings before issue 16 changed them (commit eb9e618), with 1.5M steps: the
baseline that the new default's training time is a ratio of."""
STARTING_POINT_STEPS = 1_500_000


def timed_training(seed: int, out: Path, total_steps: int | None) -> float:
    """Seconds that `mesalib train` takes, from starting the process to its exit."""
    command = [*MESALIB, "train", "--seed", str(seed), "--out", str(out)]
    if total_steps is not None:
        command += ["--total-steps", str(total_steps)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"mesalib train --seed {seed} failed:\n{done.stderr}")
    return seconds


def figures_of(report: Report, training_seed: int) -> dict:
    """The report as plain data, under the training seed (the report's own seed, 0, picks the levels)."""
    return {**report.to_dict(), "evaluation_seed": report.seed, "seed": training_seed}


def baseline_training(seed: int, total_steps: int, episodes: int) -> dict:
    """Train `STARTING_POINT` for `total_steps` in this process; its stats and its criteria.

    Its time is training alone, as is the checkpoints' `stats["wall_time_s"]` it is compared with."""
    cfg = config_with([*STARTING_POINT, f"total_steps={total_steps}"], seed)
    agent, _ = train(cfg, progress=False)
    report = misgeneralization_report(agent, cfg.dist, episodes, seed=0)
    return {**figures_of(report, seed), "total_steps": total_steps, "stats": agent.stats}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="how many training seeds (default 10)")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=100,
        help="the first of them (default 100: seeds 0-9 chose the default's settings, cannot test it)",
    )
    parser.add_argument("--timed", type=int, default=5, help="seeds whose times give the median (default 5)")
    parser.add_argument("--episodes", type=int, default=1000, help="evaluation episodes per split")
    parser.add_argument("--total-steps", type=int, help="passed to mesalib train (default: its own)")
    parser.add_argument(
        "--adapter-seconds", type=float, default=3.0, help="time on the core in the adapter comparison"
    )
    parser.add_argument(
        "--baseline-steps",
        type=int,
        default=STARTING_POINT_STEPS,
        help=f"steps for the baseline, the settings before issue 16 (default {STARTING_POINT_STEPS:,}; "
        "0 skips it)",
    )
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)
    if args.seeds < 1 or not 1 <= args.timed <= args.seeds or args.episodes < 1 or args.first_seed < 0:
        parser.error("need --seeds >= 1, 1 <= --timed <= --seeds, --episodes >= 1 and --first-seed >= 0")
    if args.adapter_seconds <= 0:
        parser.error(f"--adapter-seconds must be > 0; got {args.adapter_seconds}.")
    if args.baseline_steps < 0:
        parser.error(f"--baseline-steps must be >= 0 (0 skips the baseline); got {args.baseline_steps}.")

    runs = []
    with tempfile.TemporaryDirectory(prefix="mesalib-bench-") as folder:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            path = Path(folder) / f"seed{seed}.pt"
            seconds = timed_training(seed, path, args.total_steps)
            agent = Agent.load(path)
            report = misgeneralization_report(agent, agent.ppo_config().dist, args.episodes, seed=0)
            runs.append({**figures_of(report, seed), "seconds": seconds, "stats": agent.stats})
            q = report.ratios
            print(
                f"seed {seed}: {seconds:5.1f} s  TRAIN chests {q['train_chests']:.3f}  TEST chests "
                f"{q['test_chests']:.3f}  TEST keys {q['test_keys']:.3f}  chest seeking "
                f"{q['chest_seeking']:.3f}  -> {'passes' if report.misgeneralizes else 'FAILS'}",
                flush=True,
            )

    timed = [r["seconds"] if r["misgeneralizes"] else float("inf") for r in runs[: args.timed]]
    median = statistics.median(timed)
    passing = sum(r["misgeneralizes"] for r in runs)
    keys = sorted(r["ratios"]["test_keys"] for r in runs)
    verdict = "met" if median <= 15 else "NOT met"
    print(
        f"\nmedian over {args.timed} seeds of the time to a passing checkpoint (mesalib train, start-up "
        f"included): {'never (a timed seed fails)' if median == float('inf') else f'{median:.1f} s'} -> "
        f"{verdict} (target 15 s, bar 30 s, aim 10 s)"
    )
    print(f"seeds passing all three criteria: {passing} of {len(runs)} (target: at least 9 of 10)")
    print(
        f"TEST keys / nearest_key: median {statistics.median(keys):.3f} (target >= 0.85), "
        f"spread {keys[0]:.3f} to {keys[-1]:.3f}"
    )
    shares = {
        part: statistics.median(r["stats"]["profile_s"][part] / r["stats"]["wall_time_s"] for r in runs)
        for part in PROFILE_PARTS
    }
    print("where a training second goes (medians): " + ", ".join(f"{p} {s:.0%}" for p, s in shares.items()))
    baseline = None
    if args.baseline_steps:
        baseline = baseline_training(args.first_seed, args.baseline_steps, args.episodes)
        print(baseline_lines(baseline, [r["stats"]["wall_time_s"] for r in runs[: args.timed]]))
    beside = adapter_beside_core("mesalib/ChestsAndKeys-Train-v0", 4096, args.adapter_seconds)
    print(adapter_lines(beside).replace("  ", "", 1))
    if args.json:
        figures = {"median_s": median, "passing": passing, "profile_shares": shares, "baseline": baseline}
        with open(args.json, "w") as f:
            json.dump({"runs": runs, **figures, "adapter_beside_core": beside}, f, indent=1)
    return 0


def baseline_lines(baseline: dict, training_seconds: list[float]) -> str:
    """The baseline's run, and the new default's median training time as a ratio of it."""
    q, old = baseline["ratios"], baseline["stats"]["wall_time_s"]
    new = statistics.median(training_seconds)
    return (
        f"baseline trained in this run, the default before issue 16 ({', '.join(STARTING_POINT)}, "
        f"{baseline['total_steps']:,} steps), seed {baseline['seed']}: {old:.1f} s of training, TEST keys "
        f"{q['test_keys']:.3f} -> {'passes' if baseline['misgeneralizes'] else 'FAILS'}\n"
        f"the new default's median training time over {len(training_seconds)} seeds (start-up not "
        f"included, as for the baseline): {new:.1f} s, {new / old:.2f} of the baseline's "
        f"({old / new:.1f}x faster)"
    )


if __name__ == "__main__":
    sys.exit(main())
