"""Grids of training runs: a specification, a runner that resumes, and the table of their results.

A research question about this course's agents is rarely one run: "from which mixing fraction on does
the agent generalize, with how many seeds, at which network width?" is a grid of them. This module
holds the three pieces such a grid needs, so that lesson 08, the generalization matrix, the
checkpoint catalog and a whole class (course/sweeps.md) can share them:

- `SweepSpec`: the grid (mixing fractions, seeds, hidden widths, networks, observation variants,
  training steps) and the evaluations every run gets (named distributions from `env.levels.NAMED`, the
  criteria report, the empty-handed preference). `spec.runs()` lists its `Run`s in a fixed order, each
  named from its settings ("alpha0.1_seed2_hidden128_mlp_default_steps400000"), so a name always means
  the same run and the same cell of the grid.
- `run_sweep(runs, out, task)`: runs what is not finished yet, one after another in this process, in a
  local pool of processes (`workers=N`) or on a Dask cluster (`address="tcp://..."`; the optional
  `distributed` package is imported only then). Each finished run becomes one plain JSON file in `out`
  (written to a temporary file in the same folder, then renamed), so an interrupted sweep resumes where
  it stopped: finished runs are never lost and never repeated. A result holds the settings, the
  metrics, the run's wall time and the host it ran on (and the learner who ran it, in a class sweep).
- `collect(out)`: every result in a folder as a `SweepTable`, from which `table.sweep(metric)` gives
  the `analysis.sweep.Sweep` that `drawing.plots.plot_sweep` draws (and `drawing.sweep_plots` draws a
  class's phase diagram, each learner's points marked).

Why Dask: it is what university clusters already run, and the same client code reaches SLURM or PBS
(dask-jobqueue) and Kubernetes (dask-kubernetes). The task function travels to the workers by
reference, so it must be importable there (a module-level function of an installed package).
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mesalib.agents import checkpoints
from mesalib.env.levels import NAMED

if TYPE_CHECKING:  # analysis.sweep imports the criteria, which import torch: not needed to run or collect
    from mesalib.analysis.sweep import Sweep

SPEC_FILE = "spec.json"
"""The grid a folder's results belong to (written by the first run into the folder)."""
EXTRA_EVALUATIONS = ("criteria", "preference")
"""Evaluations besides the named distributions: the criteria report (`criteria.misgeneralization_report`:
ratios to the heuristics, which criteria hold) and the empty-handed preference of lesson 06."""
NETWORKS = ("mlp", "cnn")
VARIANTS = ("default", *checkpoints.VARIANTS)
"""Observation variants: the default levels, or one of `checkpoints.VARIANTS` (applied to TRAIN and TEST)."""

Task = Callable[[dict], dict]
"""What a run does: its settings (plain data) in, its metrics (plain data) out."""


class SweepError(ValueError):
    """A specification, a folder or a selection of cells that cannot be run; raised before any run."""


# --------------------------------------------------------------------------------------------------
# The specification


@dataclass(frozen=True)
class Run:
    """One cell of a sweep: a stable `name` (its result's file name) and its `settings` (plain data)."""

    name: str
    settings: dict


@dataclass(frozen=True)
class SweepSpec:
    """A grid of training runs and the evaluations each one gets. Field names are the options of
    `mesalib sweep run` (`--alphas 0 0.1 --seeds 0 1 2 --evaluate criteria maze`)."""

    alphas: tuple[float, ...] = (0.0,)
    """Fractions of TEST levels mixed into training (`env.levels.mix`); 0 trains on TRAIN alone."""
    seeds: tuple[int, ...] = (0,)
    """Training seeds."""
    hidden: tuple[int, ...] = (128,)
    """Widths of the hidden layers (`PPOConfig.hidden`)."""
    network: tuple[str, ...] = ("mlp",)
    """Networks (`PPOConfig.network`): "mlp" or "cnn"."""
    variants: tuple[str, ...] = ("default",)
    """Observation variants: "default" or a name in `checkpoints.VARIANTS`."""
    steps: int = 400_000
    """Environment steps per training run (`PPOConfig.total_steps`)."""
    evaluate: tuple[str, ...] = ("criteria",)
    """What every trained agent is measured on: names in `env.levels.NAMED` and `EXTRA_EVALUATIONS`."""
    episodes: int = 1000
    """Levels per evaluation."""
    eval_seed: int = 0
    """Seed of the evaluation levels (the same levels for every run)."""
    threads: int = 1
    """Torch threads per run (results depend on it in the last bits, so it is part of the settings)."""

    def __post_init__(self) -> None:
        for name in ("alphas", "seeds", "hidden", "network", "variants", "evaluate"):
            value = getattr(self, name)
            if isinstance(value, str | int | float):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        check_spec(self)

    def runs(self) -> list[Run]:
        """Every cell of the grid, in a fixed order (alpha, variant, network, hidden, then seed): a run's
        index in this list is its cell number for `--cells` and `--part`."""
        out = []
        for alpha in self.alphas:
            for variant in self.variants:
                for network in self.network:
                    for hidden in self.hidden:
                        for seed in self.seeds:
                            settings = {
                                "alpha": float(alpha),
                                "seed": int(seed),
                                "hidden": int(hidden),
                                "network": network,
                                "variant": variant,
                                "steps": self.steps,
                                "threads": self.threads,
                                "evaluate": list(self.evaluate),
                                "episodes": self.episodes,
                                "eval_seed": self.eval_seed,
                            }
                            out.append(Run(run_name(settings), settings))
        return out

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> SweepSpec:
        """The inverse of `to_dict`; an unknown key is an error that names it and the known ones."""
        known = [f.name for f in fields(cls)]
        unknown = [k for k in data if k not in known]
        if unknown:
            raise SweepError(f"unknown sweep option {unknown[0]!r}; allowed: {', '.join(known)}.")
        return cls(**data)

    @classmethod
    def load(cls, path: Path | str) -> SweepSpec:
        """A specification from a JSON file (an object with some of the fields above)."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SweepError(f"cannot read the sweep specification {path}: {exc}") from None
        if not isinstance(data, dict):
            raise SweepError(f"{path}: a sweep specification is a JSON object, got {type(data).__name__}.")
        return cls.from_dict(data)


def run_name(settings: dict) -> str:
    """The stable name of a run: every setting that changes what is trained, in a fixed order."""
    return (
        f"alpha{settings['alpha']:g}_seed{settings['seed']}_hidden{settings['hidden']}_"
        f"{settings['network']}_{settings['variant']}_steps{settings['steps']}"
    )


def _bad(option: str, value, allowed: str) -> SweepError:
    return SweepError(f"sweep option {option} has {value!r}, which is not allowed: use {allowed}.")


def check_spec(spec: SweepSpec) -> None:
    """Raise a `SweepError` naming the option, the value and what is allowed, for the first bad one."""

    def number(x) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    def whole(x, least: int) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and x >= least

    lists = {
        "alphas": (lambda a: number(a) and 0 <= a <= 1, "numbers from 0 to 1"),
        "seeds": (lambda s: whole(s, 0), "whole numbers >= 0"),
        "hidden": (lambda h: whole(h, 1), "whole numbers >= 1"),
        "network": (lambda n: n in NETWORKS, f"some of {', '.join(NETWORKS)}"),
        "variants": (lambda v: v in VARIANTS, f"some of {', '.join(VARIANTS)}"),
        "evaluate": (
            lambda e: e in NAMED or e in EXTRA_EVALUATIONS,
            f"some of {', '.join([*NAMED, *EXTRA_EVALUATIONS])}",
        ),
    }
    for option, (ok, allowed) in lists.items():
        values = getattr(spec, option)
        if not values:
            raise _bad(option, [], f"at least one value ({allowed})")
        for v in values:
            if not ok(v):
                raise _bad(option, v, allowed)
        if len(set(values)) < len(values):
            raise _bad(option, list(values), "each value once")
    for option, least in (("steps", 1), ("episodes", 1), ("eval_seed", 0), ("threads", 1)):
        if not whole(getattr(spec, option), least):
            raise _bad(option, getattr(spec, option), f"a whole number >= {least}")
    names = [f"{a:g}" for a in spec.alphas]
    if len(set(names)) < len(names):
        raise _bad("alphas", list(spec.alphas), "values that differ in their first 6 digits (run names)")


def select(runs: Sequence[Run], cells: Iterable[int] | None = None, part: tuple[int, int] | None = None):
    """The runs a learner takes: `cells` (indices into `runs`) or `part` (k, n): every n-th run from
    the k-th on (k from 1 to n), so each part spreads over the whole grid. Neither: all of them."""
    runs = list(runs)
    if cells is not None and part is not None:
        raise SweepError("give either cells or a part, not both.")
    if cells is not None:
        cells = list(cells)
        for i in cells:
            if not (isinstance(i, int) and 0 <= i < len(runs)):
                raise _bad("cells", i, f"cell numbers from 0 to {len(runs) - 1}")
        return [runs[i] for i in dict.fromkeys(cells)]
    if part is not None:
        k, n = part
        if not (isinstance(n, int) and n >= 1 and isinstance(k, int) and 1 <= k <= n):
            raise _bad("part", f"{k}/{n}", "K/N with 1 <= K <= N")
        return runs[k - 1 :: n]
    return runs


# --------------------------------------------------------------------------------------------------
# The default task: train one agent and measure it


def training_config(settings: dict):
    """The `PPOConfig` of a run: the checkpoint recipe with the same alpha, seed and variant
    (`checkpoints.Recipe.config`), with the run's network, width, steps and threads."""
    variant = settings["variant"]
    changes = {} if variant == "default" else checkpoints.VARIANTS[variant][1]
    recipe = checkpoints.Recipe("sweep run", "", seed=settings["seed"], alpha=settings["alpha"], dist=changes)
    return recipe.config().replace(
        network=settings["network"],
        hidden=settings["hidden"],
        total_steps=settings["steps"],
        threads=settings["threads"],
    )


def train_and_evaluate(settings: dict) -> dict:
    """Train the agent of one run (`training_config`) and measure it on every evaluation it names:
    {"cells": {distribution: {metric: mean}}, "ratios", "passed", "misgeneralizes" (criteria),
    "preference" (empty-handed), "training": the run's training statistics}."""
    from mesalib.agents.ppo import train  # torch: only where runs are trained
    from mesalib.analysis.criteria import misgeneralization_report
    from mesalib.analysis.generalization import empty_handed_preference, measure_cell

    config = training_config(settings)
    agent, _ = train(config, progress=False)
    agent.name = run_name(settings)
    episodes, seed = settings["episodes"], settings["eval_seed"]
    metrics: dict = {"cells": {}, "training": agent.stats}
    for name in settings["evaluate"]:
        if name == "criteria":
            report = misgeneralization_report(agent, config.dist, episodes, seed=seed)
            metrics.update(ratios=report.ratios, passed=report.passed, misgeneralizes=report.misgeneralizes)
        elif name == "preference":
            metrics["preference"] = empty_handed_preference(agent)
        else:
            metrics["cells"][name] = measure_cell(agent, name, episodes, seed)
    return metrics


# --------------------------------------------------------------------------------------------------
# Running


@dataclass
class SweepReport:
    """What one call of `run_sweep` did: runs finished now, found finished already, and failed (with
    the error's text). A failed run leaves no result, so the next call tries it again."""

    out: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"{len(self.ran)} runs finished, {len(self.skipped)} already there, {len(self.failed)} failed"
        return text + "".join(f"\n  {name} failed: {error}" for name, error in self.failed.items())


def timed(task: Task, settings: dict) -> dict:
    """Call `task(settings)` where the run happens and record where and how long it took."""
    start = time.perf_counter()
    metrics = task(settings)
    return {
        "metrics": metrics,
        "wall_s": time.perf_counter() - start,
        "host": socket.gethostname(),
        "pid": os.getpid(),  # which process ran it: shows how runs were spread over a machine's workers
    }


def result_path(out: Path, name: str) -> Path:
    return Path(out) / f"{name}.json"


def write_json_atomically(path: Path, data: dict) -> None:
    """Write `data` to a temporary file next to `path`, then rename it: readers see all or nothing."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def prepare_folder(out: Path | str, spec: SweepSpec | None) -> SweepSpec | None:
    """Create `out` and record `spec` there (`SPEC_FILE`), or check that the one recorded is the same:
    results of two different grids never mix in one folder. `spec=None` returns the recorded one."""
    out = Path(out)
    recorded_file = out / SPEC_FILE
    recorded = SweepSpec.load(recorded_file) if recorded_file.exists() else None
    if spec is None:
        return recorded
    if recorded is not None and recorded != spec:
        diff = [
            f"{f.name}: {getattr(recorded, f.name)!r} there, {getattr(spec, f.name)!r} here"
            for f in fields(SweepSpec)
            if getattr(recorded, f.name) != getattr(spec, f.name)
        ]
        raise SweepError(f"{out} holds the results of a different sweep ({'; '.join(diff)}).")
    out.mkdir(parents=True, exist_ok=True)
    if recorded is None:
        write_json_atomically(recorded_file, spec.to_dict())
    return spec


def run_sweep(
    runs: SweepSpec | Sequence[Run],
    out: Path | str,
    task: Task = train_and_evaluate,
    address: str | None = None,
    workers: int = 1,
    learner: str | None = None,
    progress: bool = True,
    on_result: Callable[[dict], None] | None = None,
) -> SweepReport:
    """Run every run of `runs` (a `SweepSpec`, or `Run`s) that has no result in `out` yet.

    task: `task(settings) -> metrics`, a module-level function (pool and cluster workers import it).
    address: a Dask scheduler ("tcp://host:port"): runs go to its workers. Else `workers` > 1 runs a
    local pool of processes; 1 (the default) runs one after another in this process.
    learner: recorded in each result (a class sweep marks whose runs are whose).
    on_result(result): called in this process after each result is written (e.g. to merge it into a
    catalog). Results arrive in the order runs finish. Interrupting (Ctrl-C) keeps every finished run.
    """
    out = Path(out)
    if isinstance(runs, SweepSpec):
        prepare_folder(out, runs)
        runs = runs.runs()
    runs = list(runs)
    names = [r.name for r in runs]
    if len(set(names)) < len(names):
        raise SweepError(f"two runs share a name: {sorted({n for n in names if names.count(n) > 1})}.")
    if not (isinstance(workers, int) and workers >= 1):
        raise _bad("workers", workers, "a whole number >= 1")
    out.mkdir(parents=True, exist_ok=True)
    report = SweepReport(out)
    report.skipped = [r.name for r in runs if result_path(out, r.name).exists()]
    finished = set(report.skipped)
    todo = [r for r in runs if r.name not in finished]
    if not todo:
        return report
    from tqdm.auto import tqdm

    bar = tqdm(total=len(runs), initial=len(report.skipped), unit="run", desc="sweep", disable=not progress)
    try:
        for run, outcome in _execute(todo, task, address, workers):
            if isinstance(outcome, BaseException):
                report.failed[run.name] = "".join(traceback.format_exception_only(outcome)).strip()
                continue
            result = {"name": run.name, "settings": run.settings, **outcome}
            result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            if learner is not None:
                result["learner"] = learner
            path = result_path(out, run.name)
            bar.update(1)
            if path.exists():  # someone else (another learner) finished it meanwhile: the first one counts
                report.skipped.append(run.name)
                continue
            write_json_atomically(path, result)
            report.ran.append(run.name)
            if on_result is not None:
                on_result(result)
    finally:
        bar.close()
    return report


def _execute(
    todo: list[Run], task: Task, address: str | None, workers: int
) -> Iterator[tuple[Run, dict | BaseException]]:
    """(run, timed result or the exception it raised), in the order runs finish."""
    if address is not None:
        yield from _on_dask(todo, task, address)
    elif workers > 1:
        yield from _in_pool(todo, task, workers)
    else:
        for run in todo:
            try:
                outcome: dict | BaseException = timed(task, run.settings)
            except Exception as exc:  # a failed run is reported, the sweep goes on
                outcome = exc
            yield run, outcome


def _in_pool(todo: list[Run], task: Task, workers: int) -> Iterator[tuple[Run, dict | BaseException]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # "spawn": a fresh interpreter per worker (forking a process that has started torch threads can hang)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(timed, task, run.settings): run for run in todo}
        try:
            for future in as_completed(futures):
                exc = future.exception()
                yield futures[future], exc if exc is not None else future.result()
        finally:
            for future in futures:
                future.cancel()


def _on_dask(todo: list[Run], task: Task, address: str) -> Iterator[tuple[Run, dict | BaseException]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise SweepError(
            "running on a Dask cluster needs the `distributed` package: pip install 'mesalib[cluster]'."
        ) from None
    try:
        client = Client(address, timeout="30s")
    except (OSError, TimeoutError) as exc:
        raise SweepError(f"no Dask scheduler answered at {address!r}: {exc}") from None
    with client:
        # keyed by the run's name: a scheduler computes one name once, whoever submits it; a worker
        # that dies mid-run has its runs given to the others (a run fails if it kills 3 workers in a row)
        futures = {client.submit(timed, task, run.settings, key=f"sweep-{run.name}"): run for run in todo}
        try:
            for future in as_completed(futures):
                run = futures[future]
                try:
                    outcome: dict | BaseException = future.result()
                except Exception as exc:
                    outcome = exc
                yield run, outcome
        finally:
            client.cancel(list(futures))


# --------------------------------------------------------------------------------------------------
# Collecting


@dataclass(frozen=True)
class SweepTable:
    """Every result in a sweep folder (`collect`), with the grid it belongs to when it was recorded."""

    results: tuple[dict, ...]
    spec: SweepSpec | None = None

    @property
    def names(self) -> list[str]:
        return [r["name"] for r in self.results]

    def missing(self) -> list[str]:
        """The grid's runs without a result yet (empty if the grid is not known)."""
        done = set(self.names)
        return [] if self.spec is None else [r.name for r in self.spec.runs() if r.name not in done]

    def learners(self) -> list[str]:
        """Who ran the results, in order of first appearance ("" for a run without a learner)."""
        return list(dict.fromkeys(r.get("learner", "") for r in self.results))

    def value(self, result: dict, metric: str) -> float:
        """One number of a result: a criteria ratio ("test_chests"), or a path into its metrics
        ("cells.maze.chests_opened", "preference.toward_key", "training.wall_time"), or "wall_s"."""
        if metric == "wall_s":
            return float(result["wall_s"])
        node = result["metrics"]
        path = metric.split(".") if "." in metric else ["ratios", metric]
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return math.nan
            node = node[key]
        return float(node) if isinstance(node, int | float) else math.nan

    def sweep(self, metric: str = "test_chests", **fixed) -> Sweep:
        """One metric over alpha x seed as the `analysis.sweep.Sweep` that `drawing.plots.plot_sweep`
        draws. `fixed` picks the other settings (`hidden=64`, `variant="inventory"`) where the folder
        holds several; a setting that varies and is not fixed is an error."""
        from mesalib.analysis.sweep import Sweep

        rows = [r for r in self.results if all(r["settings"].get(k) == v for k, v in fixed.items())]
        for key in ("hidden", "network", "variant", "steps"):
            seen = sorted({str(r["settings"][key]) for r in rows})
            if len(seen) > 1:
                raise SweepError(f"the results differ in {key} ({', '.join(seen)}): fix one, e.g. {key}=...")
        alphas = tuple(sorted({float(r["settings"]["alpha"]) for r in rows}))
        seeds = tuple(sorted({int(r["settings"]["seed"]) for r in rows}))
        values = np.full((len(alphas), len(seeds)), np.nan)
        for r in rows:
            values[alphas.index(r["settings"]["alpha"]), seeds.index(r["settings"]["seed"])] = self.value(
                r, metric
            )
        return Sweep(metric, alphas, seeds, values)

    def points(self, metric: str = "test_chests") -> list[tuple[float, float, str]]:
        """(alpha, value, learner) of every result: the dots of a class's phase diagram."""
        return [
            (float(r["settings"]["alpha"]), self.value(r, metric), r.get("learner", "")) for r in self.results
        ]

    def generalization_table(self, **fixed) -> dict:
        """The results (those with the settings `fixed`, if given) in the layout of
        `analysis.generalization`'s table, so that `generalization.matrix` and `preferences` read a
        sweep folder: {"alphas", "columns", "episodes", "seed", "runs": {name: {"alpha", "seed",
        "cells", "preference"}}, "references": {}} (the heuristics are not training runs)."""
        rows = [r for r in self.results if all(r["settings"].get(k) == v for k, v in fixed.items())]
        columns = list(dict.fromkeys(c for r in rows for c in r["settings"]["evaluate"] if c in NAMED))
        return {
            "alphas": sorted({float(r["settings"]["alpha"]) for r in rows}),
            "columns": columns,
            "episodes": rows[0]["settings"]["episodes"] if rows else 0,
            "seed": rows[0]["settings"]["eval_seed"] if rows else 0,
            "runs": {
                r["name"]: {
                    "alpha": float(r["settings"]["alpha"]),
                    "seed": int(r["settings"]["seed"]),
                    "cells": r["metrics"].get("cells", {}),
                    "preference": r["metrics"].get("preference", {}),
                }
                for r in rows
            },
            "references": {},
        }

    def text(self, metric: str = "test_chests", digits: int = 3) -> str:
        """One line per result (name, learner, host, wall time, the metric), then what is missing."""
        width = max([len(n) for n in self.names] + [4])
        lines = [f"{'name':{width}s} {'learner':12s} {'host':16s} {'wall s':>7s} {metric}"]
        for r in self.results:
            v = self.value(r, metric)
            shown = "-" if math.isnan(v) else f"{v:.{digits}f}"
            lines.append(
                f"{r['name']:{width}s} {r.get('learner', '')[:12]:12s} {r['host'][:16]:16s} "
                f"{r['wall_s']:7.1f} {shown}"
            )
        missing = self.missing()
        lines.append(f"{len(self.results)} results" + (f", {len(missing)} runs missing" if missing else ""))
        return "\n".join(lines)


def collect(out: Path | str) -> SweepTable:
    """Every result file in `out` (in the grid's order), with the grid recorded there if there is one.
    Unfinished temporary files are ignored; a file that is not a result is an error naming it."""
    out = Path(out)
    if not out.is_dir():
        raise SweepError(f"no sweep folder {out}.")
    results = []
    for path in sorted(out.glob("*.json")):
        if path.name == SPEC_FILE:
            continue
        try:
            result = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise SweepError(f"{path} is not a sweep result: {exc}") from None
        if not isinstance(result, dict) or not {"name", "settings", "metrics"} <= set(result):
            raise SweepError(f"{path} is not a sweep result (it needs name, settings and metrics).")
        results.append(result)
    results.sort(key=_grid_position)
    return SweepTable(tuple(results), prepare_folder(out, None))


def _grid_position(result: dict) -> tuple:
    """Where a result sits in the order of `SweepSpec.runs` (alpha, variant, network, hidden, seed);
    results of other tasks, without these settings, by name."""
    s = result["settings"]
    grid = (
        s.get("alpha", 0),
        s.get("variant", ""),
        s.get("network", ""),
        s.get("hidden", 0),
        s.get("seed", 0),
    )
    return (*grid, result["name"])
