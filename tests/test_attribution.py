"""mesalib.analysis.attribution and `mesalib attribute`: agent or device, fitted on some levels and
scored on held-out ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mesalib import TEST, TRAIN
from mesalib.agents.heuristics import KeyThenChest, NearestKey, RandomPolicy, WallFollower, distance_map
from mesalib.agents.objectives import CHESTS, KEYS
from mesalib.agents.planner import Planner
from mesalib.analysis import attribution as at
from mesalib.analysis import stance
from mesalib.env.levels import Boards, LevelBatch
from mesalib.env.rules import Action
from mesalib.teaching.cli import main

# --------------------------------------------------------------------------------------------------
# Rules


def open_room(agent, keys=(), chests=(), held=0, size=9) -> Boards:
    walls = np.zeros((size, size), bool)
    walls[[0, -1], :] = walls[:, [0, -1]] = True
    k, c = np.zeros((size, size), bool), np.zeros((size, size), bool)
    for cell in keys:
        k[cell] = True
    for cell in chests:
        c[cell] = True
    return Boards(walls[None], k[None], c[None], np.zeros_like(k)[None], np.array([agent]), np.array([held]))


def test_toward_spreads_over_equally_good_moves_and_wanders_when_nothing_is_reachable():
    diagonal = open_room((4, 4), keys=[(2, 6)])
    assert np.allclose(at.nearest_key(diagonal), [[0.5, 0.5, 0, 0]])  # UP and RIGHT both get closer
    nothing = open_room((1, 1))
    assert np.allclose(at.nearest_key(nothing), [[0, 0.5, 0.5, 0]])  # the free moves of a corner


def test_the_rules_choose_their_targets_like_the_heuristics():
    key_left_chest_right = open_room((4, 4), keys=[(4, 2)], chests=[(4, 5)], held=1)
    assert np.allclose(at.nearest_key(key_left_chest_right), [[0, 0, 0, 1]])
    assert np.allclose(at.key_then_chest(key_left_chest_right), [[0, 1, 0, 0]])  # holding: the chest
    assert np.allclose(at.nearest_item(key_left_chest_right), [[0, 1, 0, 0]])  # the nearer item
    only_chests = open_room((4, 4), chests=[(1, 4)])
    assert np.allclose(at.nearest_key(only_chests), [[1, 0, 0, 0]])  # no key left: the chests
    assert np.allclose(at.random_moves(only_chests), 0.25)


@pytest.mark.parametrize("policy", [NearestKey(), KeyThenChest()], ids=lambda p: p.name)
def test_a_rule_gives_its_heuristics_move_some_probability_on_every_board(policy):
    rule = {"nearest_key": at.nearest_key, "key_then_chest": at.key_then_chest}[policy.name]
    boards = stance.record(RandomPolicy(3), TRAIN, 6, seed=2).boards  # varied boards, keys held too
    probs = rule(boards, None)
    moves = policy(None, boards)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert np.all(probs[np.arange(len(moves)), moves] > 0)
    assert np.array_equal(at.policy_rule(policy)(boards, None).argmax(axis=1), moves)
    # Ties are spread: somewhere the rule is unsure where the heuristic picks one move.
    assert (probs.max(axis=1) < 1).any()


def test_the_wall_follower_rule_reads_its_heading_from_the_previous_move():
    traj = stance.record(WallFollower(seed=5), TEST, 6, seed=4)
    probs = at.wall_follower(traj.boards, at.previous_moves(traj))
    taken = probs[np.arange(len(traj)), traj.actions]
    start = at.previous_moves(traj) < 0
    agent = traj.boards.agent
    to_key = distance_map(traj.boards.walls, traj.boards.keys)[np.arange(len(traj)), agent[:, 0], agent[:, 1]]
    following = ~start & (to_key > 3)  # heading known, no key in view: the left-hand rule alone
    assert following.sum() > 20
    assert np.all(taken[following] == 1.0)  # in an open room the rule is the heuristic exactly
    assert np.all(taken[start] >= 0.25) and np.all(taken > 0)  # heading unknown; keys: ties spread
    # Without its heading the rule is worse: the heading is information.
    shifted = np.roll(at.previous_moves(traj), 1)
    wrong = at.wall_follower(traj.boards, (shifted + 1) % 4)[np.arange(len(traj)), traj.actions]
    assert np.log(wrong + 1e-3).sum() < np.log(taken + 1e-3).sum()


def test_previous_moves_restart_at_each_episode():
    traj = stance.record(NearestKey(), TRAIN, 3, seed=0)
    prev = at.previous_moves(traj)
    first = np.r_[True, traj.episode[1:] != traj.episode[:-1]]
    assert np.all(prev[first] == -1)
    assert np.array_equal(prev[~first], traj.actions[np.flatnonzero(~first) - 1])


# --------------------------------------------------------------------------------------------------
# Log-likelihoods


def test_softmax_log_probs_sum_to_the_stance_log_likelihood():
    rng = np.random.default_rng(0)
    q, actions = rng.normal(size=(7, 4)), rng.integers(0, 4, 7)
    lp = at.softmax_log_probs(q, actions, [0.5, 3.0])
    assert lp.shape == (2, 7)
    for k, beta in enumerate([0.5, 3.0]):
        assert lp[k].sum() == pytest.approx(stance.log_likelihood(q, actions, beta))


def test_noisy_rule_log_probs_mix_the_rule_with_uniform_moves():
    rule = np.array([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])
    lp = at.noisy_rule_log_probs(rule, [0, 2], [0.2, 1.0])
    assert np.allclose(lp[0], np.log([0.8 + 0.05, 0.05]))
    assert np.allclose(lp[1], np.log(0.25))


def test_fitting_levels_are_never_the_held_out_ones():
    fit = at.fitting_levels(TEST, 5, seed=7)
    held = TEST.sample(np.random.default_rng(7), 5)
    assert isinstance(fit, LevelBatch) and len(fit) == 5
    assert not np.array_equal(fit.keys, held.keys)
    assert np.array_equal(at.fitting_levels(TEST, 5, seed=7).keys, fit.keys)  # seeded


# --------------------------------------------------------------------------------------------------
# The result


def made_up(log_probs, episode, kinds=("intentional", "device")) -> at.Attribution:
    c = len(log_probs)
    return at.Attribution(
        policy="made up",
        fit_on="TRAIN",
        on="TEST",
        names=[f"c{i}" for i in range(c)],
        kinds=list(kinds),
        parameter_names=["beta" if k == "intentional" else "eps" for k in kinds],
        parameters=np.array([2.0] + [np.nan] * (c - 1)),
        fit_per_decision=np.full(c, -1.0),
        held_out_log_probs=np.asarray(log_probs, dtype=float),
        held_out_episode=np.asarray(episode),
        fit_decisions=10,
        resamples=300,
    )


def test_the_bootstrap_resamples_episodes_and_compares_candidates_on_the_same_draws():
    rng = np.random.default_rng(1)
    episode = np.repeat(np.arange(10), 5)
    base = rng.normal(-1.0, 0.5, size=50)
    result = made_up([base + 0.1, base], episode)
    assert result.held_out_per_decision[0] == pytest.approx(base.mean() + 0.1)
    lo, hi = result.interval[0]
    assert lo < result.held_out_per_decision[0] < hi and hi - lo > 0.1
    diff, dlo, dhi = result.difference("c0", "c1")
    assert diff == pytest.approx(0.1) and dlo == pytest.approx(0.1) and dhi == pytest.approx(0.1)
    assert result.best() == "c0" and result.best("device") == "c1"
    assert "'c0' predicts better than any rule" in result.verdict()
    # Episodes, not decisions, are resampled: constant within episodes, so the spread is the episodes'.
    flat = made_up([np.repeat(rng.normal(size=10), 5), np.zeros(50)], episode)
    by_episode = made_up([rng.normal(size=10), np.zeros(10)], np.arange(10))
    assert np.allclose(np.diff(flat.interval[0]), np.diff(by_episode.interval[0]), rtol=0.5)


def test_the_result_as_a_table_and_as_json():
    result = made_up([np.full(6, -0.5), np.full(6, -1.2)], [0, 0, 1, 1, 2, 2])
    text = result.summary()
    assert "c0" in text and "c1" in text and f"{at.UNIFORM:.3f}" in text
    data = json.loads(json.dumps(result.to_dict()))
    rows = {row["name"]: row for row in data["candidates"]}
    assert rows["c0"]["parameter"] == 2.0 and rows["c1"]["parameter"] is None
    assert rows["c0"]["held_out_vs_uniform"] == pytest.approx(-0.5 - np.log(0.25))
    assert data["best"]["intentional"] == "c0" and data["best"]["intentional_minus_device"] == pytest.approx(
        0.7
    )
    with pytest.raises(ValueError, match="kind"):
        result.best("agent")
    only = made_up([np.full(4, -1.0)], [0, 0, 1, 1], kinds=("device",))
    assert "only device" in only.verdict() and only.to_dict()["best"]["intentional"] is None


# --------------------------------------------------------------------------------------------------
# Attributions that must come out right


def test_nearest_key_is_attributed_to_its_own_rule_out_of_distribution():
    result = at.attribute(NearestKey(), TRAIN, TEST, episodes=5, seed=0)
    assert result.best() == "nearest_key" and result.best("device") == "nearest_key"
    i = result.names.index("nearest_key")
    assert result.parameters[i] == at.EPSILONS[0]  # never off the rule: the least noise on the grid
    lo, _ = result.interval[i]
    for j, kind in enumerate(result.kinds):
        if kind == "intentional":
            assert result.interval[j][1] < lo, result.summary()  # beaten beyond doubt


def test_a_planner_is_attributed_to_its_explicit_objective():
    goals = (stance.Candidate("keys", KEYS), stance.Candidate("chests", CHESTS), stance.BOTH)
    result = at.attribute(Planner(CHESTS), TEST, TEST, episodes=8, seed=0, intentional=goals)
    assert result.best() == "chests", result.summary()
    diff, lo, _ = result.difference("chests", result.best("device"))
    assert lo > 0, result.summary()


@pytest.mark.slow
def test_a_planner_that_wants_keys_first_is_attributed_to_that_goal_when_it_plans_as_far_as_modelled():
    planner = Planner(at.KEYS_THEN_CHESTS.objective, horizon=stance.HORIZON)
    result = at.attribute(planner, TEST, TEST, episodes=15, seed=1)
    assert result.best() == "keys, then chests", result.summary()
    assert result.difference("keys, then chests", result.best("device"))[1] > 0, result.summary()


def test_random_moves_are_attributed_to_nothing_better_than_uniform():
    goals = (stance.Candidate("keys", KEYS), stance.Candidate("chests", CHESTS))
    result = at.attribute(RandomPolicy(1), TRAIN, TEST, episodes=3, seed=0, intentional=goals)
    assert np.all(np.abs(result.held_out_per_decision - at.UNIFORM) < 0.05), result.summary()
    assert result.held_out_per_decision[result.names.index("random")] == pytest.approx(at.UNIFORM)


def test_the_wall_follower_is_attributed_to_its_rule():
    result = at.attribute(WallFollower(seed=2), TRAIN, TEST, episodes=6, seed=3, intentional=())
    assert result.best() == "wall_follower", result.summary()
    assert result.parameters[result.names.index("wall_follower")] == at.EPSILONS[0]


def test_attribute_refuses_bad_settings():
    with pytest.raises(ValueError, match="episodes"):
        at.attribute(NearestKey(), TRAIN, TEST, episodes=0)
    with pytest.raises(ValueError, match="confidence"):
        at.attribute(NearestKey(), TRAIN, TEST, episodes=1, confidence=1.5)
    twice = (at.DEVICES[0], at.DEVICES[0])
    with pytest.raises(ValueError, match="names"):
        at.attribute(NearestKey(), TRAIN, TEST, episodes=1, intentional=(), devices=twice)


# --------------------------------------------------------------------------------------------------
# The command line


def test_attribute_from_the_shell_lists_every_candidate_as_json(capsys):
    argv = ["attribute", "nearest_key", "--episodes", "3", "--seed", "1", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    expected = [c.name for c in at.INTENTIONAL] + [d.name for d in at.DEVICES]
    assert [row["name"] for row in data["candidates"]] == expected
    for row in data["candidates"]:
        assert row["kind"] in ("intentional", "device")
        assert row["parameter_name"] == ("beta" if row["kind"] == "intentional" else "eps")
        assert row["parameter"] is None or row["parameter"] > 0
        assert isinstance(row["held_out_per_decision"], float)
    assert data["agent"] == "nearest_key" and data["fit_on"] == "TRAIN" and data["on"] == "TEST"
    assert data["best"]["device"] == "nearest_key"
    assert main(["attribute", "nearest_key", "--episodes", "2", "--on", "train", "--fit-on", "train"]) == 0
    text = capsys.readouterr().out
    assert "fitted on" in text and "TRAIN" in text and "per decision" in text


BAD_ARGUMENTS = {
    "no episodes": (["--episodes", "0"], ["--episodes", "0", ">= 1"]),
    "a negative seed": (["--seed", "-1"], ["--seed", "-1", ">= 0"]),
    "an unknown held-out split": (["--on", "valid"], ["--on", "valid", "train", "test"]),
    "an unknown fitting split": (["--fit-on", "ghost"], ["--fit-on", "ghost", "train", "test"]),
}


@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_arguments_are_named(case, capsys):
    extra, words = BAD_ARGUMENTS[case]
    with pytest.raises(SystemExit) as exc:
        main(["attribute", "nearest_key", *extra])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and all(word in err for word in words), err


def test_an_unknown_agent_is_named_with_what_is_allowed(capsys):
    assert main(["attribute", "nearest_chest", "--episodes", "2"]) == 2
    err = capsys.readouterr().err
    assert "nearest_chest" in err and "nearest_key" in err and "default" in err


def test_a_missing_checkpoint_file_is_an_error_not_a_traceback(capsys, tmp_path):
    assert main(["attribute", str(tmp_path / "missing.pt"), "--episodes", "2"]) == 2
    assert "missing.pt" in capsys.readouterr().err


def test_the_rules_see_the_action_order_of_the_environment():
    # UP, RIGHT, DOWN, LEFT: a key straight below the agent is reached by DOWN.
    below = open_room((3, 4), keys=[(6, 4)])
    assert at.nearest_key(below)[0, Action.DOWN] == 1.0
