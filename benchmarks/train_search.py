"""Searching for a training configuration: train settings you choose, judge snapshots on the way.

For each seed, train `PPOConfig` changed with `--set field=value` (distribution fields such as
`max_steps` or `view` go to the training levels), keep float16 snapshots at a few points of training,
and measure each snapshot with `mesalib.analysis.criteria.misgeneralization_report` (1000 episodes per
split by default). Prints, per seed and snapshot, the three criteria and where the training time went;
then how many seeds pass at the end and when each first passed (training time only, evaluation not
counted). `benchmarks/train_agent.py` measures the default agent as a learner gets it; this script is
for trying other settings (results in benchmarks/results/).

    python benchmarks/train_search.py --seeds 0 1 2 --set hidden=64 epochs=3 --json out.json
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import statistics
import sys

from mesalib.agents.ppo import PPOConfig, matching_test, new_agent, train
from mesalib.analysis.criteria import misgeneralization_report

SNAPSHOT_FRACTIONS = (0.5, 0.67, 0.83, 1.0)


def config_with(settings: list[str], seed: int) -> PPOConfig:
    cfg = PPOConfig(seed=seed, eval_every=0)
    dist_fields = {f.name for f in dataclasses.fields(cfg.dist)}
    config_changes, dist_changes = {}, {}
    for item in settings:
        name, _, text = item.partition("=")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        (dist_changes if name in dist_fields else config_changes)[name] = value
    if dist_changes:
        dist = cfg.dist.replace(**dist_changes)
        config_changes.update(dist=dist, test_dist=matching_test(dist))
    return cfg.replace(**config_changes)


def train_with_snapshots(cfg: PPOConfig):
    """Train; return (final agent, [(env_steps, seconds, agent snapshot)])."""
    agent = new_agent(cfg)
    marks = sorted({max(1, round(f * cfg.num_updates)) for f in SNAPSHOT_FRACTIONS})
    snapshots = []

    def snapshot(record):
        if record["update"] in marks:
            state = {k: v.detach().half().float() for k, v in agent.net.state_dict().items()}
            snapshots.append((record["env_steps"], record["time"], state))

    agent, _ = train(cfg, progress=True, callback=snapshot, agent=agent)
    out = []
    for steps, seconds, state in snapshots:
        copy = new_agent(cfg)
        copy.net.load_state_dict(state)
        copy.net.eval()
        out.append((steps, seconds, copy))
    return agent, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--set", dest="settings", nargs="*", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--eval-seed", type=int, default=0)
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)

    runs = []
    for seed in args.seeds:
        cfg = config_with(args.settings, seed)
        agent, snapshots = train_with_snapshots(cfg)
        stats = agent.stats
        print(
            f"\nseed {seed}: {stats['env_steps'] / 1e6:.2f}M env steps in {stats['wall_time_s']:.0f} s "
            f"({stats['steps_per_s'] / 1e3:.1f}k steps/s end to end, env {stats['env_time_share']:.0%} "
            f"of training time, {stats['threads']} torch threads)"
        )
        shares = ", ".join(f"{part} {t / stats['wall_time_s']:.0%}" for part, t in stats["profile_s"].items())
        print(f"  where the time went: {shares}")
        run = {"seed": seed, "stats": stats, "snapshots": []}
        for steps, seconds, snap in snapshots:
            report = misgeneralization_report(snap, cfg.dist, args.episodes, seed=args.eval_seed)
            print(
                f"  snapshot at {steps / 1e6:.2f}M steps, {seconds:.0f} s: "
                f"{'PASSES' if report.misgeneralizes else 'fails'}"
            )
            print("    " + report.table().replace("\n", "\n    "))
            run["snapshots"].append({"env_steps": steps, "seconds": seconds, **report.to_dict()})
        runs.append(run)

    final_pass = [r["snapshots"][-1]["misgeneralizes"] for r in runs]
    first_pass = [next((s["seconds"] for s in r["snapshots"] if s["misgeneralizes"]), None) for r in runs]
    print(
        "\n| seed | TRAIN chests / ktc | TEST chests / ktc | TEST keys / nearest_key | chest seeking | "
        "passes at end | first passing snapshot | wall s | env share | steps/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r, t in zip(runs, first_pass):
        s, st = r["snapshots"][-1], r["stats"]
        q = s["ratios"]
        print(
            f"| {r['seed']} | {q['train_chests']:.3f} | {q['test_chests']:.3f} | {q['test_keys']:.3f} | "
            f"{q['chest_seeking']:.3f} | {'yes' if s['misgeneralizes'] else 'no'} | "
            f"{'never' if t is None else f'{t:.0f} s'} | {st['wall_time_s']:.0f} | "
            f"{st['env_time_share']:.0%} | {st['steps_per_s'] / 1e3:.1f}k |"
        )
    print(f"\nseeds passing all three criteria at the end: {sum(final_pass)} of {len(runs)}")
    times = [t if t is not None else float("inf") for t in first_pass]
    print(f"median training time to a passing snapshot: {statistics.median(times):.0f} s")
    print(
        f"env share of training time: {statistics.median(r['stats']['env_time_share'] for r in runs):.0%} "
        f"(median); end-to-end "
        f"{statistics.median(r['stats']['steps_per_s'] for r in runs) / 1e3:.1f}k env steps/s"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": args.settings, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
