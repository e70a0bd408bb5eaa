"""The shipped agents: every file is there, loads, and shows what its catalog entry says."""

from __future__ import annotations

import pytest

from mesalib.agents import checkpoints
from mesalib.analysis.criteria import misgeneralization_report

CATALOG = checkpoints.catalog()


@pytest.mark.parametrize("name", checkpoints.names())
def test_shipped_checkpoint_loads_and_is_measured(name):
    agent = checkpoints.load(name)
    recipe = checkpoints.RECIPES[name]
    # The checkpoint embeds the recipe's config (threads aside: they depend on the machine it ran on).
    assert agent.ppo_config().replace(threads=1) == recipe.config().replace(threads=1)
    assert name in CATALOG and CATALOG[name]["seed"] == recipe.seed
    assert checkpoints.path(name).stat().st_size < 1_500_000  # float16 weights: small enough to ship


def test_every_recipe_is_in_the_catalog():
    assert set(CATALOG) == set(checkpoints.RECIPES)


def test_the_default_agent_reproduces_its_catalog_figures_and_misgeneralizes():
    agent = checkpoints.load("default")
    report = misgeneralization_report(agent, episodes=1000, seed=0)
    # Same weights, same levels: the figures agree (up to rare near-ties that another thread count
    # may break the other way in the network's arithmetic).
    assert report.ratios == pytest.approx(CATALOG["default"]["ratios"], abs=0.01)
    assert report.misgeneralizes, report.table()


def test_mixing_in_test_levels_fixes_it_in_the_catalog():
    # The sweep's largest alpha generalizes on every seed: TEST chests well above half of key_then_chest.
    top = max(checkpoints.ALPHAS)
    ratios = [CATALOG[n]["ratios"]["test_chests"] for n in checkpoints.sweep_names(top)]
    assert min(ratios) > 0.5, ratios
