"""Environment throughput, as ratios against Farama Minigrid DoorKey-8x8 measured in the same run.

Usage: python benchmarks/env_throughput.py [--seconds S] [--json PATH]

Every figure is env steps per second with uniformly random actions, observations included,
automatic resets included. Batch 1 goes through the Gymnasium API (`gymnasium.make`, wrappers and
all), as a learner's code would; batches 64 and 4096 drive the batched NumPy core directly.
Targets (issue 2, on 2 cores): batch 4096 >= 5M steps/s; batch 1 >= 10x Minigrid.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import gymnasium as gym
import numpy as np

import mesalib
from mesalib.levels import TRAIN
from mesalib.vecenv import VecChestsAndKeys


def steps_per_second(step, reset, seconds: float) -> float:
    """Call `step` for about `seconds` (after a short warm-up); return steps per second."""
    reset()
    for _ in range(50):
        step()
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        n += step()
    return n / elapsed


def gymnasium_single(env_id: str, seconds: float, **kwargs) -> float:
    env = gym.make(env_id, **kwargs)
    actions = np.random.default_rng(0).integers(0, env.action_space.n, size=1 << 20)
    i = 0

    def step():
        nonlocal i
        _, _, terminated, truncated, _ = env.step(actions[i & 0xFFFFF])
        i += 1
        if terminated or truncated:
            env.reset()
        return 1

    return steps_per_second(step, lambda: env.reset(seed=0), seconds)


def batched_core(dist, num_envs: int, seconds: float) -> float:
    env = VecChestsAndKeys(dist, num_envs, seed=0)
    actions = np.random.default_rng(0).integers(0, 4, size=(64, num_envs))
    i = 0

    def step():
        nonlocal i
        env.step(actions[i % 64])
        i += 1
        return num_envs

    return steps_per_second(step, lambda: env.reset(seed=0), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    try:
        import minigrid  # noqa: F401  (registers the MiniGrid ids)
    except ImportError:
        raise SystemExit("The baseline needs Minigrid: pip install -e '.[bench]'") from None

    baseline = gymnasium_single("MiniGrid-DoorKey-8x8-v0", args.seconds)
    views = {"default": TRAIN, "allocentric 9x9": TRAIN.replace(view=None),
             "egocentric 7x7": TRAIN.replace(view=7)}
    rows = [("Minigrid DoorKey-8x8 (baseline)", "1", "gymnasium.make", baseline)]
    rows.append((f"Chests and Keys, default view ({TRAIN.view}x{TRAIN.view})", "1", "gymnasium.make",
                 gymnasium_single("mesalib/ChestsAndKeys-Train-v0", args.seconds)))
    for name, dist in views.items():
        label = f"Chests and Keys, {name}" + (f" ({dist.view}x{dist.view})" if name == "default" else "")
        for num_envs in (64, 4096):
            rows.append((label, str(num_envs), "batched core", batched_core(dist, num_envs, args.seconds)))

    print(f"mesalib {mesalib.__version__}, numpy {np.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.seconds:.0f} s per figure; random actions, observations and resets included\n")
    print(f"{'environment':<46} {'batch':>5}  {'via':<15} {'steps/s':>12} {'x Minigrid':>11}")
    for name, batch, via, rate in rows:
        print(f"{name:<46} {batch:>5}  {via:<15} {rate:>12,.0f} {rate / baseline:>10.1f}x")
    single = rows[1][3]
    best_4096 = {name: rate for name, batch, _, rate in rows if batch == "4096"}
    print("\nTargets:")
    print(f"  batch 1 >= 10x Minigrid: {single / baseline:.1f}x -> {'met' if single >= 10 * baseline else 'NOT met'}")
    for name, rate in best_4096.items():
        print(f"  batch 4096 >= 5M steps/s, {name}: {rate / 1e6:.2f}M -> {'met' if rate >= 5e6 else 'NOT met'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(zip(("env", "batch", "via", "steps_per_s"), r)) for r in rows], f, indent=1)


if __name__ == "__main__":
    main()
