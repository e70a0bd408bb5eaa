"""Rebuilding the shipped checkpoints and their catalog: train every recipe, measure it, record it.

`mesalib checkpoints --regenerate` calls `regenerate`. The recipes, the files and the catalog's reader
are the registry in `mesalib.agents.checkpoints`; this module is the pipeline that fills it, in the
analysis layer because each agent is measured with `analysis.criteria` (1000 episodes per split)
before its figures are written to `catalog.json`. The recipes are runs of a sweep
(`analysis.grid_sweep`), so a regeneration can use a local pool or a Dask cluster and resume.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from tqdm.auto import tqdm

from mesalib.agents import checkpoints
from mesalib.analysis.criteria import misgeneralization_report
from mesalib.analysis.grid_sweep import Run, run_sweep


def measure_recipe(settings: dict) -> dict:
    """Train the recipe `settings["recipe"]`, save its weights into the folder `settings["save_to"]` if
    it is shipped, and measure it on `settings["episodes"]` levels per split: its catalog entry. A task
    for `grid_sweep.run_sweep`, so it runs here or on a Dask worker (which must see `save_to`)."""
    from mesalib.agents.ppo import train  # torch: only where recipes are trained

    recipe = checkpoints.recipe(settings["recipe"])
    config = recipe.config()
    agent, _ = train(config, progress=False)
    agent.name = recipe.name
    if recipe.shipped:
        agent.save(Path(settings["save_to"]) / f"{recipe.name}.pt")
    report = misgeneralization_report(agent, config.dist, settings["episodes"], seed=0)
    return {
        "description": recipe.description,
        "seed": recipe.seed,
        "alpha": recipe.alpha,
        "dist": recipe.dist,
        "shipped": recipe.shipped,
        "stats": agent.stats,
        "ratios": report.ratios,
        "passed": report.passed,
        "misgeneralizes": report.misgeneralizes,
        "summaries": {"agent": report.summaries["agent"]},
    }


def regenerate(
    only: list[str] | None = None,
    progress: bool = True,
    episodes: int = 1000,
    out_dir: Path = checkpoints.HERE,
    results: Path | None = None,
    address: str | None = None,
    workers: int = 1,
) -> dict[str, dict]:
    """Train every recipe (or those named in `only`), save the shipped ones, measure all of them and
    merge the figures into `catalog.json` as each one finishes, so an interruption loses only the runs
    in progress. `results`: a folder that keeps one result per recipe, so that running the same command
    again resumes (default: a fresh temporary folder, every recipe is trained). `address` (a Dask
    scheduler) or `workers` > 1 (local processes) train several recipes at once."""
    todo = list(checkpoints.RECIPES) if not only else only
    for name in todo:
        checkpoints.recipe(name)  # every name is checked before the first (long) run
    out_dir = Path(out_dir).resolve()
    catalog_file = out_dir / "catalog.json"
    runs = [Run(name, {"recipe": name, "episodes": episodes, "save_to": str(out_dir)}) for name in todo]

    def record(result: dict) -> None:
        entry = result["metrics"]
        merge_entry(catalog_file, result["name"], entry)
        if progress:
            verdict = "misgeneralizes" if entry["misgeneralizes"] else "does not misgeneralize"
            ratios = ", ".join(f"{k} {v:.3f}" for k, v in entry["ratios"].items())
            where = f"{result['wall_s']:.0f} s on {result['host']}"
            tqdm.write(f"{result['name']}: {verdict} ({ratios}; {where})")

    with tempfile.TemporaryDirectory(prefix="mesalib-regenerate-") as fresh:
        report = run_sweep(
            runs,
            results or fresh,
            task=measure_recipe,
            address=address,
            workers=workers,
            progress=progress,
            on_result=record,
        )
    if report.failed:
        raise RuntimeError(f"regeneration incomplete: {report.summary()}")
    return json.loads(catalog_file.read_text()) if catalog_file.exists() else {}


def merge_entry(catalog_file: Path, name: str, entry: dict) -> dict:
    """Add one entry to the catalog file, re-reading it first (two regenerations may run side by side)
    and replacing it atomically (an interruption never leaves half a file). Returns all the entries."""
    entries = json.loads(catalog_file.read_text()) if catalog_file.exists() else {}
    entries[name] = entry
    tmp = catalog_file.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, catalog_file)
    return entries
