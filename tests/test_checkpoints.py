"""The shipped agents: every file is there, loads, and shows what its catalog entry says; and the
pipeline that rebuilds them (`analysis.catalog`) checks names first and merges entries safely."""

from __future__ import annotations

import json

import pytest

from mesalib.agents import checkpoints
from mesalib.analysis import catalog
from mesalib.analysis.criteria import CRITERIA, misgeneralization_report

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


@pytest.mark.slow  # about 4 s or more
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


def test_unknown_names_are_refused_before_anything_is_trained(tmp_path):
    with pytest.raises(ValueError, match="alpha0.3"):
        catalog.regenerate(["default", "alpha0.3"], progress=False, out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="shipped ones are"):
        checkpoints.describe("alpha0.3")


def test_merge_entry_keeps_the_other_entries_and_leaves_no_temporary_file(tmp_path):
    file = tmp_path / "catalog.json"
    catalog.merge_entry(file, "a", {"seed": 0})
    catalog.merge_entry(file, "b", {"seed": 1})
    entries = catalog.merge_entry(file, "a", {"seed": 2})
    assert entries == json.loads(file.read_text()) == {"a": {"seed": 2}, "b": {"seed": 1}}
    assert [f.name for f in tmp_path.iterdir()] == ["catalog.json"]


def test_a_recorded_but_unshipped_agent_says_how_to_train_it():
    with pytest.raises(ValueError, match="--regenerate --only default_seed1"):
        checkpoints.load("default_seed1")


def test_each_observation_variant_is_recorded_on_several_seeds():
    for variant, (_, dist) in checkpoints.VARIANTS.items():
        names = checkpoints.variant_names(variant)
        assert names[0] == variant and len(names) == len(checkpoints.VARIANT_SEEDS) >= 3
        for name, seed in zip(names, checkpoints.VARIANT_SEEDS):
            recipe = checkpoints.recipe(name)
            # Only the seed differs; only seed 0 is shipped as a file.
            assert recipe.dist == dist and recipe.seed == seed and recipe.shipped == (seed == 0)
            assert CATALOG[name]["seed"] == seed and CATALOG[name]["dist"] == dist
    assert checkpoints.describe("view7_seed2").endswith("seed 2.")
    with pytest.raises(ValueError, match="view7, allocentric"):
        checkpoints.variant_names("view5")


def test_the_spread_table_gives_mean_range_and_criteria_counts_over_seeds():
    from mesalib.analysis import sweep

    def entry(chests, passed):
        ratios = dict.fromkeys(sweep.METRICS, 0.5) | {"test_chests": chests}
        return {"ratios": ratios, "passed": dict(zip(CRITERIA, passed))}

    fake = {
        "a": entry(0.2, (True, True, True)),
        "a_seed1": entry(0.6, (True, False, True)),
        "a_seed2": entry(0.4, (True, True, True)),
    }
    table = sweep.spread_table({"a": ["a", "a_seed1", "a_seed2"], "b": ["b"]}, fake, metrics=["test_chests"])
    head, a, b = table.splitlines()
    assert "test_chests" in head
    assert a.split()[:5] == ["a", "3", "0.400", "[0.200,", "0.600]"]
    assert "3/2/3 of 3" in a and a.endswith("2 of 3")
    assert b.split()[:2] == ["b", "0"] and "not in the catalog" in b
    # The shipped catalog: every variant with all its seeds.
    real = sweep.spread_table(sweep.variant_seeds()).splitlines()
    assert [line.split()[:2] for line in real[1:]] == [
        [v, str(len(checkpoints.VARIANT_SEEDS))] for v in ["default", *checkpoints.VARIANTS]
    ]
