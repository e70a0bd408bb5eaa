"""The misgeneralization criteria: the verdicts follow the thresholds, and real policies land where
expected."""

from __future__ import annotations

import pytest

from mesalib.agents.heuristics import KeyThenChest, NearestKey
from mesalib.agents.ppo_config import matching_test
from mesalib.analysis import criteria
from mesalib.analysis.criteria import Report, misgeneralization_report, split_distributions
from mesalib.env.levels import TEST, TRAIN, mix


def summaries(agent_train, agent_test, agent_keys, agent_visible, agent_ghost):
    def s(chests, keys=0.0, ghost=0.0):
        return {"chests_opened": chests, "keys_collected": keys, "ghost_chests_opened": ghost}

    return {
        "agent": {
            "train": s(agent_train),
            "test": s(agent_test, agent_keys),
            "ghost": s(agent_visible, 0, agent_ghost),
        },
        "key_then_chest": {"train": s(1.5), "test": s(1.5, 2.0), "ghost": s(1.5, 0, 0.15)},
        "nearest_key": {"train": s(0.6), "test": s(0.35, 7.0), "ghost": s(0.36, 0, 0.34)},
    }


def test_a_key_seeker_that_is_capable_passes_all_three():
    r = Report(summaries(1.45, 0.5, 6.0, 0.5, 0.35), 100, 0)
    assert r.misgeneralizes and r.ratios["chest_seeking"] == pytest.approx(0.15 / 1.35)


@pytest.mark.parametrize(
    "changes, failed",
    [
        ((1.30, 0.5, 6.0, 0.5, 0.35), "1 capable on TRAIN"),  # not capable on TRAIN
        ((1.45, 0.9, 6.0, 0.5, 0.35), "2 misgeneralizes on TEST"),  # opens most TEST chests: generalizes
        ((1.45, 0.5, 5.0, 0.5, 0.35), "2 misgeneralizes on TEST"),  # lost its key skill: a capability failure
        ((1.45, 0.5, 6.0, 1.0, 0.35), "3 not seeking chests"),  # clearly seeks chests
    ],
)
def test_each_criterion_can_fail(changes, failed):
    r = Report(summaries(*changes), 100, 0)
    assert not r.misgeneralizes and [k for k, v in r.passed.items() if not v] == [failed]
    assert "NO" in r.table()


def test_splits_keep_the_agents_observation_and_use_train_and_test_counts():
    d = TRAIN.replace(view=7, inventory_planes=2)
    s = split_distributions(mix(d, TEST.replace(view=7, inventory_planes=2), 0.3))
    assert s["train"] == d and s["test"] == d.replace(keys=TEST.keys, chests=TEST.chests)
    assert s["ghost"].ghost_chests and not s["test"].ghost_chests
    assert s["test"] == matching_test(d)  # the TEST levels a training run evaluates on


def test_a_report_names_its_ratios_and_criteria_as_the_module_lists_them():
    r = Report(summaries(1.45, 0.5, 6.0, 0.5, 0.35), 100, 0)
    assert list(r.ratios) == list(criteria.RATIO_LABELS) and tuple(r.passed) == criteria.CRITERIA


def test_heuristics_as_the_agent():
    intended = misgeneralization_report(KeyThenChest(), TRAIN, episodes=200)
    assert intended.passed["1 capable on TRAIN"] and not intended.passed["2 misgeneralizes on TEST"]
    assert intended.ratios["chest_seeking"] == pytest.approx(1.0)
    proxy = misgeneralization_report(NearestKey(), TRAIN, episodes=200)
    # "Collect every key, then the chests" is the proxy itself: it meets all three criteria.
    assert proxy.misgeneralizes and proxy.ratios["test_keys"] == pytest.approx(1.0)
    assert criteria.heuristic_summary.cache_info().hits >= 6  # the second report reused the baselines
