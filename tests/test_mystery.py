"""The mystery agents hide which system is which, and `open_box` reports what a system is built from."""

from __future__ import annotations

import pytest

from mesalib.agents.heuristics import KeyThenChest, NearestKey, RandomPolicy
from mesalib.agents.planner import Planner
from mesalib.analysis import mystery
from mesalib.analysis.mystery import KEYS_FIRST, SYSTEMS, build, labels, mystery_agents, open_box


def test_labels_are_a_seeded_shuffle_of_every_system():
    assert labels(0) == labels(0)
    assert sorted(labels(0).values()) == sorted(SYSTEMS)
    assert list(labels(0)) == ["A", "B", "C"]
    assert len({tuple(labels(seed).values()) for seed in range(10)}) > 1  # the seed matters


def test_mystery_agents_carry_neutral_names_and_match_the_labels():
    agents = mystery_agents(0)
    for label, system in labels(0).items():
        policy = agents[label]
        assert policy.name == f"mystery {label}"
        assert open_box(policy)["search"] == (system != "default network")
        assert isinstance(policy, Planner) == (system != "default network")


def test_the_box_shows_search_model_and_objective_only_in_the_planners():
    planner = build("planner(KEYS_FIRST)")
    assert planner.objective == KEYS_FIRST
    box = open_box(planner)
    assert box["search"] and box["world_model"] and box["objective"] == str(KEYS_FIRST)
    assert open_box(build("selected planner"))["objective"] is not None
    for rule in (NearestKey(), KeyThenChest(), RandomPolicy(seed=0)):
        box = open_box(rule)
        assert not box["search"] and not box["world_model"] and box["objective"] is None
    network = open_box(build("default network"))
    assert (network["search"], network["world_model"], network["objective"]) == (False, False, None)


def test_unknown_systems_and_objects_are_refused():
    with pytest.raises(ValueError, match="unknown system"):
        build("oracle")
    with pytest.raises(TypeError, match="cannot open"):
        open_box(object())


@pytest.mark.slow  # plays and attributes every mystery agent (about 12 s)
def test_gather_is_plain_data_for_every_agent_and_cached():
    g = mystery.gather()
    assert set(g) == {"summaries", "reference", "attributions", "boxes"}
    for part in ("summaries", "attributions", "boxes"):
        assert set(g[part]) == set(labels())
    assert g["summaries"]["A"]["test"]["episodes"] == mystery.EPISODES
    assert mystery.gather() is g  # the lesson and its check share one computation
