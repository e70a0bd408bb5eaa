"""The planner and its objectives.

The planner is checked against a brute-force search over every action sequence on tiny levels, and
its plans are played with the rules to check that they do what they predict.
"""

import dataclasses

import numpy as np
import pytest
from drawn_levels import make_level

from mesalib.agents.heuristics import KeyThenChest, NearestKey, act_single
from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.agents.planner import Planner, best_chests, search
from mesalib.analysis.evaluate import evaluate, evaluate_levels
from mesalib.env.levels import TEST, TRAIN, Boards, Level, LevelDistribution
from mesalib.env.rules import MOVES, Action, Game, State, step

# --------------------------------------------------------------------------------------------------
# helpers


def boards_of(level, held=0):
    return Boards(
        level.walls[None],
        level.keys[None],
        level.chests[None],
        level.ghosts[None],
        np.array([level.agent]),
        np.array([held]),
    )


def brute_force(level, dist, counter="chests_opened"):
    """The best value of a counter over every action sequence (memoised on the game state)."""
    memo = {}

    def best(state):
        seen = (state.agent, state.keys, state.chests, state.keys_held, state.steps)
        if seen not in memo:
            value = getattr(state, counter)
            for a in Action:
                after, _, terminated, truncated = step(state, a, dist)
                value = max(value, getattr(after, counter) if terminated or truncated else best(after))
            memo[seen] = value
        return memo[seen]

    return best(State.start(level))


def layered_best(level, max_steps, counter):
    """Every reachable game state, step by step (state: cell and used items; the held keys follow).

    An independent exact solver for levels too big for `brute_force`: the most chests (or keys) any
    action sequence gets within `max_steps`.
    """
    cells = [tuple(x) for x in np.argwhere(level.keys)] + [tuple(x) for x in np.argwhere(level.chests)]
    n_keys = int(level.keys.sum())
    index = {cell: i for i, cell in enumerate(cells)}
    key_bits, all_bits = (1 << n_keys) - 1, (1 << len(cells)) - 1
    chest_bits = all_bits ^ key_bits

    def count(bits):
        return bin(bits).count("1")

    best, frontier = 0, {(level.agent, 0)}
    for _ in range(max_steps):
        following = set()
        for (r, c), used in frontier:
            for dr, dc in MOVES.values():
                cell = (r + dr, c + dc)
                if level.walls[cell]:
                    cell = (r, c)
                i = index.get(cell)
                if i is not None and not used >> i & 1:
                    if i < n_keys or count(used & key_bits) > count(used & chest_bits):
                        used_now = used | 1 << i
                    else:
                        used_now = used
                else:
                    used_now = used
                opened, taken = count(used_now & chest_bits), count(used_now & key_bits)
                best = max(best, opened if counter == "chests" else taken)
                all_keys_used = used_now & key_bits == key_bits
                if used_now & chest_bits == chest_bits or (taken == opened and all_keys_used):
                    continue  # the game is over
                following.add((cell, used_now))
        frontier = following
    return best


def play(policy, level, dist):
    game = Game(level, dist)
    policy.reset(None)
    while True:
        _, terminated, truncated = game.step(act_single(policy, game))
        if terminated or truncated:
            return game


def tiny_levels(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        size = int(rng.choice([5, 6, 7]))
        layout = "maze" if size == 7 and rng.random() < 0.5 else "room"
        dist = LevelDistribution(
            size=size, layout=layout, keys=(1, 3), chests=(1, 3), max_steps=int(rng.integers(5, 9)), view=None
        )
        out.append((dist.sample(rng, 1)[0], dist))
    return out


@pytest.fixture(scope="module")
def levels_test():
    return TEST.sample(np.random.default_rng(11), 200)


@pytest.fixture(scope="module")
def levels_train():
    return TRAIN.sample(np.random.default_rng(12), 200)


# --------------------------------------------------------------------------------------------------
# objectives and the planner


def test_objective_reads_as_text_and_scores_events():
    assert str(CHESTS) == (
        "+1.00 per chest opened, +0.00 per key collected, +0.00 per step, +0.00 per ghost chest opened"
    )
    assert str(Objective(key=0.5, step=-0.1)).startswith(
        "+0.00 per chest opened, +0.50 per key collected, -0.10 per step"
    )
    assert KEYS.score(chests=3, keys=2, steps=7) == 2
    assert Objective(chest=1, step=-0.5).score(chests=2, steps=3) == 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        CHESTS.chest = 2
    planner = Planner(KEYS)
    assert planner.objective is KEYS and "planner" in planner.name and planner.name != "planner"
    assert Planner(CHESTS).name == "planner"


def test_planner_matches_brute_force_on_tiny_levels():
    """best_chests, the plan and a rollout of the planner all equal the best over every action sequence."""
    greedy_worse = 0
    for level, dist in tiny_levels(30, seed=0):
        best = brute_force(level, dist)
        assert best_chests(level, dist) == best
        assert Planner.best_chests(level, dist) == best
        game = play(Planner(CHESTS, max_steps=dist.max_steps), level, dist)
        assert game.chests_opened == best
        greedy_worse += play(KeyThenChest(), level, dist).chests_opened < best
    assert greedy_worse >= 1  # levels where the order of visits matters are among them


def test_best_chests_is_exact_on_larger_levels():
    rng = np.random.default_rng(7)
    for dist in (
        LevelDistribution(size=7, keys=(2, 5), chests=(2, 5), max_steps=12),
        LevelDistribution(size=9, layout="maze", keys=(2, 5), chests=(2, 5), max_steps=16),
    ):
        levels = dist.sample(rng, 30)
        for i in range(len(levels)):
            assert best_chests(levels[i], dist) == layered_best(levels[i], dist.max_steps, "chests")


def test_keys_planner_is_exact_when_no_chest_can_end_the_game():
    """With the only chest sealed in the outer wall, the most keys is a pure orienteering problem."""
    rng = np.random.default_rng(8)
    for dist in (
        LevelDistribution(size=7, keys=(4, 8), max_steps=12),
        LevelDistribution(size=9, layout="maze", keys=(4, 8), max_steps=14),
    ):
        levels = dist.sample(rng, 25)
        for i in range(len(levels)):
            level = levels[i]
            sealed = np.zeros_like(level.chests)
            sealed[0, 0] = True
            level = Level(level.walls, level.keys, sealed, level.ghosts, level.agent)
            plan = search(KEYS, level.walls, level.keys, level.chests, level.agent, dist.max_steps)
            assert plan.keys == layered_best(level, dist.max_steps, "keys")


def test_plans_do_exactly_what_they_predict():
    """Replaying a plan with the rules gives its predicted events, steps and score, for any objective."""
    rng = np.random.default_rng(3)
    dists = [
        TRAIN.replace(ghost_chests=True),
        TEST.replace(ghost_chests=True),
        TEST.replace(layout="maze", ghost_chests=True),
    ]
    objectives = [
        CHESTS,
        KEYS,
        Objective(chest=1, key=1),
        Objective(chest=1, key=-0.3, step=-0.05),
        Objective(key=1, chest=-1),
        Objective(ghost=1),
        Objective(chest=1, ghost=-1),
    ]
    for dist in dists:
        for level in dist.sample(rng, 12):
            for obj in objectives:
                plan = search(
                    obj,
                    level.walls,
                    level.keys,
                    level.chests,
                    level.agent,
                    dist.max_steps,
                    ghosts=level.ghosts,
                )
                game = Game(level, dist)
                for a in plan.actions:
                    _, terminated, truncated = game.step(a)
                    if terminated or truncated:
                        break
                assert game.steps == plan.steps == len(plan.actions) <= dist.max_steps
                assert (game.chests_opened, game.keys_collected, game.ghost_chests_opened) == (
                    plan.chests,
                    plan.keys,
                    plan.ghosts,
                ), (obj, plan)
                assert plan.expected[-1].info() == game.info()  # the states it expected, played out
                assert plan.score == pytest.approx(obj.score(plan.chests, plan.keys, plan.steps, plan.ghosts))
                assert plan.score >= -1e-9  # the empty plan scores 0


@pytest.mark.slow  # about 6 s
def test_keys_planner_is_a_better_key_collector_than_nearest_key(levels_test):
    """Swap the objective and the behaviour swaps: KEYS collects keys like nearest_key, not chests."""
    keys_planner = evaluate_levels(Planner(KEYS), levels_test, TEST).summary()
    nearest = evaluate_levels(NearestKey(), levels_test, TEST).summary()
    chests_planner = evaluate_levels(Planner(CHESTS), levels_test, TEST).summary()
    assert nearest["keys_collected"] <= keys_planner["keys_collected"] <= 1.15 * nearest["keys_collected"]
    assert keys_planner["chests_opened"] < 0.5 * chests_planner["chests_opened"]
    assert chests_planner["keys_collected"] < 0.5 * keys_planner["keys_collected"]


def test_chests_planner_is_the_best_on_the_same_episodes(levels_test, levels_train):
    for levels, dist in ((levels_test, TEST), (levels_train, TRAIN)):
        planner = evaluate_levels(Planner(CHESTS), levels, dist)
        greedy = evaluate_levels(KeyThenChest(), levels, dist)
        nearest = evaluate_levels(NearestKey(), levels, dist)
        np.testing.assert_array_equal(planner.records["chests_opened"], planner.records["best_chests"])
        assert (planner.records["chests_opened"] >= greedy.records["chests_opened"]).all()
        assert (planner.records["chests_opened"] >= nearest.records["chests_opened"]).all()


def test_planner_horizon_and_steps_left_limit_the_plan():
    level = make_level(
        ["########", "#A.k...#", "#......#", "#......#", "#......#", "#......#", "#.....c#", "########"]
    )
    boards = boards_of(level)  # key 2 steps away, then the chest 8 more
    assert Planner(CHESTS).plan(boards).chests == 1
    assert Planner(CHESTS).plan(boards).steps == 10
    assert Planner(CHESTS, horizon=9).plan(boards).steps == 0
    assert Planner(KEYS, horizon=4).plan(boards).targets == [(1, 3)]
    assert Planner(CHESTS, max_steps=20).plan(boards, steps_taken=11).steps == 0  # 9 steps left
    assert Planner(CHESTS, max_steps=20).plan(boards, steps_taken=10).chests == 1
    game = play(Planner(CHESTS, horizon=10, max_steps=12), level, LevelDistribution(size=8, max_steps=12))
    assert game.chests_opened == 1
    with pytest.raises(ValueError, match="horizon must be None or a positive integer"):
        Planner(CHESTS, horizon=0)


def test_planner_notices_new_levels_without_reset():
    """One planner, many games in a row, never reset: it still knows how many steps each game has left."""
    policy = Planner(CHESTS)
    rng = np.random.default_rng(5)
    for level in TRAIN.sample(rng, 6):
        game = Game(level, TRAIN)
        while True:
            _, terminated, truncated = game.step(act_single(policy, game))
            if terminated or truncated:
                break
        assert game.chests_opened == best_chests(level, TRAIN)


def test_planner_replans_rarely():
    policy = Planner(CHESTS)
    s = evaluate(policy, TEST, 200, seed=0, with_best=False).summary()
    assert s["chests_opened"] > 1.4
    assert policy.replans < 3 * 200  # not every step: plans are followed until something unforeseen


def test_ghost_objective_reads_the_hidden_layer():
    level = make_level(["#######", "#g.A.k#", "#c....#", "#.....#", "#.....#", "#.....#", "#######"])
    plan = Planner(Objective(ghost=1)).plan(boards_of(level, held=1))
    assert plan.targets[0] == (1, 1) and plan.ghosts == 1
    assert Planner(CHESTS).plan(boards_of(level, held=1)).ghosts == 0
