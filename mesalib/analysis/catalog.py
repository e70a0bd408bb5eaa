"""Rebuilding the shipped checkpoints and their catalog: train every recipe, measure it, record it.

`mesalib checkpoints --regenerate` calls `regenerate`. The recipes, the files and the catalog's reader
are the registry in `mesalib.agents.checkpoints`; this module is the pipeline that fills it, in the
analysis layer because each agent is measured with `analysis.criteria` (1000 episodes per split)
before its figures are written to `catalog.json`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mesalib.agents import checkpoints
from mesalib.agents.ppo import train
from mesalib.analysis.criteria import misgeneralization_report


def regenerate(
    only: list[str] | None = None,
    progress: bool = True,
    episodes: int = 1000,
    out_dir: Path = checkpoints.HERE,
) -> dict[str, dict]:
    """Train every recipe (or those named in `only`), save the shipped ones, measure all of them and
    merge the figures into `catalog.json`. Entries are written after each run, so an interruption
    loses only the run in progress."""
    todo = list(checkpoints.RECIPES) if not only else only
    for name in todo:
        checkpoints.recipe(name)  # every name is checked before the first (long) run
    out_dir = Path(out_dir)
    catalog_file = out_dir / "catalog.json"
    for name in todo:
        recipe = checkpoints.RECIPES[name]
        config = recipe.config()
        agent, _ = train(config, progress=progress)
        agent.name = name
        if recipe.shipped:
            agent.save(out_dir / f"{name}.pt")
        report = misgeneralization_report(agent, config.dist, episodes, seed=0)
        entry = {
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
        merge_entry(catalog_file, name, entry)
        if progress:
            print(
                f"{name}: {'misgeneralizes' if report.misgeneralizes else 'does not misgeneralize'}\n"
                + report.table()
            )
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
