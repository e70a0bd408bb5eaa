"""Environment throughput, as ratios against Farama Minigrid DoorKey-8x8 measured in the same run.

Usage: python benchmarks/env_throughput.py [--seconds S] [--repeat K] [--json PATH]

Every figure is env steps per second with uniformly random actions, observations included,
automatic resets included, the best of K runs of S seconds (like `timeit`: other work on the machine
only ever slows a run down). Batch 1 goes through the Gymnasium API (`gymnasium.make`, wrappers and
all), as a learner's code would; batches 64 and 4096 drive the batched NumPy core directly.
Targets (on 2 cores): batch 4096 >= 5M steps/s; batch 1 >= 10x Minigrid; `gymnasium.make_vec` at 4096
(the vector adapter over the core) within 10% of the core it wraps.

The adapter is compared with the core by interleaving: short blocks of steps on each in turn, so a
change in the machine's speed (other work, clock changes) falls on both alike; separate best-of runs
moved the ratio by 25 points between runs on a shared 2-core machine. The same-step adapter
(`autoreset_mode=AutoresetMode.SAME_STEP`, which builds Gymnasium's `final_obs` and `final_info`)
is measured beside them, to show what asking for that layout costs.

The last lines measure a ceiling for the default view: an allocentric step, less writing its
4 x 9 x 9-byte observations, plus nothing but writing the 4 x 13 x 13-byte default observations.
With the rest of the step as it is, no way of gathering the windows can beat that ceiling: it is the
measure of how much of the gap to a target is the observation's size and how much is the gather.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import gymnasium as gym
import numpy as np

import mesalib
from mesalib.env.levels import TRAIN
from mesalib.env.vecenv import VecChestsAndKeys


def steps_per_second(step, reset, seconds: float, repeat: int) -> float:
    """Call `step` for about `seconds` (after a short warm-up), `repeat` times; return the best
    steps per second."""
    best = 0.0
    for _ in range(repeat):
        reset()
        for _ in range(50):
            step()
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            n += step()
        best = max(best, n / elapsed)
    return best


def gymnasium_single(env_id: str, seconds: float, repeat: int, **kwargs) -> float:
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

    return steps_per_second(step, lambda: env.reset(seed=0), seconds, repeat)


def random_batches(env, num_envs: int, seconds: float, repeat: int) -> float:
    """Steps per second of a batched environment (`step(actions)`, `reset(seed=)`) on random actions."""
    actions = np.random.default_rng(0).integers(0, 4, size=(64, num_envs))
    i = 0

    def step():
        nonlocal i
        env.step(actions[i % 64])
        i += 1
        return num_envs

    return steps_per_second(step, lambda: env.reset(seed=0), seconds, repeat)


def batched_core(dist, num_envs: int, seconds: float, repeat: int) -> float:
    return random_batches(VecChestsAndKeys(dist, num_envs, seed=0), num_envs, seconds, repeat)


def adapter_beside_core(env_id: str, num_envs: int, seconds: float, block: int = 64) -> dict:
    """Steps per second of the batched core (as training drives it), of `gymnasium.make_vec(env_id)`
    (default next-step autoreset) and of the same-step adapter, measured in interleaved blocks of
    `block` steps for about `seconds` each. Returns the three rates and, for each adapter, the
    quartiles of its per-round ratio to the core (the spread that the interleaving leaves)."""
    envs = {
        "core": VecChestsAndKeys(gym.spec(env_id).kwargs["dist"], num_envs, seed=0),
        "adapter": gym.make_vec(env_id, num_envs=num_envs),
        "same-step adapter": gym.make_vec(
            env_id, num_envs=num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
        ),
    }
    actions = np.random.default_rng(0).integers(0, 4, size=(64, num_envs))
    times: dict[str, list[float]] = {name: [] for name in envs}
    for env in envs.values():
        env.reset(seed=0)
        for a in actions:  # warm-up: past the first wave of episode ends, which all come at once
            env.step(a)
    i = 0
    while sum(times["core"]) < seconds:
        for name, env in envs.items():
            start = time.perf_counter()
            for _ in range(block):
                env.step(actions[i % 64])
                i += 1
            times[name].append(time.perf_counter() - start)
    core = np.array(times["core"])
    out: dict = {name: num_envs * block * len(t) / sum(t) for name, t in times.items()}
    for name in ("adapter", "same-step adapter"):
        out[name + " quartiles"] = tuple(np.percentile(core / np.array(times[name]), [25, 75]))
    out["rounds"] = len(core)
    return out


VIA = {"adapter": "gymnasium.make_vec", "same-step adapter": "make_vec SAME_STEP"}


def adapter_lines(beside: dict) -> str:
    """The adapter-versus-core target, as lines to print (shared with `train_agent.py`)."""
    ratio = beside["adapter"] / beside["core"]
    lines = [
        f"  gymnasium.make_vec within 10% of the batched core at 4096 (interleaved, {beside['rounds']} "
        f"rounds): {ratio:.0%} of it (rounds' quartiles {beside['adapter quartiles'][0]:.0%}-"
        f"{beside['adapter quartiles'][1]:.0%}) -> {'met' if ratio >= 0.9 else 'NOT met'}",
        f"    core {beside['core'] / 1e6:.2f}M steps/s, gymnasium.make_vec {beside['adapter'] / 1e6:.2f}M; "
        f"with autoreset_mode=SAME_STEP (final_obs, final_info) {beside['same-step adapter'] / 1e6:.2f}M, "
        f"{beside['same-step adapter'] / beside['core']:.0%} of the core",
    ]
    return "\n".join(lines)


def writing_observations(dist, num_envs: int, seconds: float, repeat: int) -> float:
    """Observations per second that merely copying a batch of them allows (no gathering at all)."""
    batch = np.ones((num_envs, *dist.observation_shape), np.uint8)
    return steps_per_second(lambda: batch.copy().shape[0], lambda: None, seconds, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is reported")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.seconds <= 0 or args.repeat < 1:
        parser.error(f"--seconds must be > 0 and --repeat >= 1; got {args.seconds} and {args.repeat}.")

    try:
        import minigrid  # noqa: F401  (registers the MiniGrid ids)
    except ImportError:
        raise SystemExit("The baseline needs Minigrid: pip install -e '.[bench]'") from None

    timing = (args.seconds, args.repeat)
    baseline = gymnasium_single("MiniGrid-DoorKey-8x8-v0", *timing)
    views = {
        "default": TRAIN,
        "allocentric 9x9": TRAIN.replace(view=None),
        "egocentric 7x7": TRAIN.replace(view=7),
    }
    rows = [("Minigrid DoorKey-8x8 (baseline)", "1", "gymnasium.make", baseline)]
    rows.append(
        (
            f"Chests and Keys, default view ({TRAIN.view}x{TRAIN.view})",
            "1",
            "gymnasium.make",
            gymnasium_single("mesalib/ChestsAndKeys-Train-v0", *timing),
        )
    )
    at_4096 = {}  # view name -> (row label, steps/s)
    for name, dist in views.items():
        label = f"Chests and Keys, {name}" + (f" ({dist.view}x{dist.view})" if name == "default" else "")
        for num_envs in (64, 4096):
            rows.append((label, str(num_envs), "batched core", batched_core(dist, num_envs, *timing)))
        at_4096[name] = (label, rows[-1][3])
        if name == "default":
            beside = adapter_beside_core("mesalib/ChestsAndKeys-Train-v0", 4096, 3 * args.seconds)
            for via in ("adapter", "same-step adapter"):
                rows.append((label, "4096", VIA[via], beside[via]))

    print(
        f"mesalib {mesalib.__version__}, numpy {np.__version__}, "
        f"{platform.processor() or platform.machine()}, "
        f"best of {args.repeat} x {args.seconds:g} s per figure; random actions, observations and resets "
        "included\n"
    )
    print(f"{'environment':<46} {'batch':>5}  {'via':<18} {'steps/s':>12} {'x Minigrid':>11}")
    for name, batch, via, rate in rows:
        print(f"{name:<46} {batch:>5}  {via:<18} {rate:>12,.0f} {rate / baseline:>10.1f}x")
    single = rows[1][3]
    print("\nTargets:")
    met = "met" if single >= 10 * baseline else "NOT met"
    print(f"  batch 1 >= 10x Minigrid: {single / baseline:.1f}x -> {met}")
    for label, rate in at_4096.values():
        print(
            f"  batch 4096 >= 5M steps/s, {label}: {rate / 1e6:.2f}M -> {'met' if rate >= 5e6 else 'NOT met'}"
        )
    default, allocentric = at_4096["default"][1], at_4096["allocentric 9x9"][1]
    print(adapter_lines(beside))
    writing_small = writing_observations(views["allocentric 9x9"], 4096, *timing)
    writing = writing_observations(TRAIN, 4096, *timing)
    ceiling = 1 / (1 / allocentric - 1 / writing_small + 1 / writing)
    print(
        f"\nCeiling for the default view at batch 4096: an allocentric step ({allocentric / 1e6:.2f}M/s) "
        f"less writing its\nobservations ({writing_small / 1e6:.1f}M/s) plus writing "
        f"{np.prod(TRAIN.observation_shape)}-byte ones ({writing / 1e6:.1f}M/s) allows at most "
        f"{ceiling / 1e6:.2f}M steps/s;\nthe default view reaches {default / 1e6:.2f}M, "
        f"{default / ceiling:.0%} of that ceiling."
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(zip(("env", "batch", "via", "steps_per_s"), r)) for r in rows], f, indent=1)


if __name__ == "__main__":
    main()
