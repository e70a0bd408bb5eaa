"""The third level of concern, measured: a planner searching against the agent's own value head.

Loads a shipped agent (default: `default`), and plays, on the same TRAIN and TEST levels, the plain
network (greedy), `ValuePlanner` at a few depths (learned objective only, and with the simulated
rewards added), and the two heuristics. Prints chests opened, keys collected and the chest and key
ratios against key_then_chest and nearest_key, so you can read off whether explicit search against
the learned objective inherits the network's misgeneralization.

    python benchmarks/value_planner.py --episodes 500
"""

from __future__ import annotations

import argparse
import time

from mesalib.agents import checkpoints
from mesalib.agents.heuristics import KeyThenChest, NearestKey
from mesalib.agents.registry import training_distribution
from mesalib.agents.value_planner import ValuePlanner
from mesalib.analysis.criteria import split_distributions
from mesalib.analysis.evaluate import evaluate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", default="default")
    parser.add_argument("--episodes", type=int, default=500)
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    agent = checkpoints.load(args.agent)
    splits = split_distributions(training_distribution(agent))
    policies = [
        ("network (greedy)", agent),
        ("key_then_chest", KeyThenChest()),
        ("nearest_key", NearestKey()),
    ]
    for depth in args.depths:
        policies.append((f"value planner, depth {depth}", ValuePlanner(agent, splits["train"], depth=depth)))
        policies.append(
            (
                f"value planner + rewards, depth {depth}",
                ValuePlanner(agent, splits["train"], depth=depth, use_rewards=True),
            )
        )
    rows = {}
    for name, policy in policies:
        start = time.perf_counter()
        rows[name] = {
            s: evaluate(policy, splits[s], args.episodes, seed=args.seed, with_best=False).summary()
            for s in ("train", "test")
        }
        rows[name]["seconds"] = time.perf_counter() - start
    ktc, nk = rows["key_then_chest"], rows["nearest_key"]
    print(f"agent {args.agent!r}, {args.episodes} episodes per split, seed {args.seed}\n")
    print(
        "| policy | TRAIN chests | TRAIN chests / ktc | TEST chests | TEST chests / ktc "
        "| TEST keys / nearest_key | s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(
            f"| {name} | {r['train']['chests_opened']:.2f} | "
            f"{r['train']['chests_opened'] / ktc['train']['chests_opened']:.2f} | "
            f"{r['test']['chests_opened']:.2f} | "
            f"{r['test']['chests_opened'] / ktc['test']['chests_opened']:.2f} | "
            f"{r['test']['keys_collected'] / nk['test']['keys_collected']:.2f} | {r['seconds']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
