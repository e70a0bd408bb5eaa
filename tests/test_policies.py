"""Heuristic policies, distance maps and the planner.

The planner is checked against a brute-force search over every action sequence on tiny levels, and
its plans are replayed with `rules.Game` to check that they do what they predict.
"""

import copy
from collections import deque

import numpy as np
import pytest

from mesalib.agents.heuristics import (
    UNREACHABLE,
    KeyThenChest,
    NearestKey,
    RandomPolicy,
    WallFollower,
    act_single,
    distance_map,
    greedy_step,
    random_free_move,
)
from mesalib.agents.objectives import CHESTS, KEYS, Objective
from mesalib.agents.planner import Planner, best_chests, search
from mesalib.agents.registry import POLICIES
from mesalib.analysis.evaluate import evaluate, evaluate_levels
from mesalib.env.levels import TEST, TRAIN, Boards, Level, LevelDistribution
from mesalib.env.rules import MOVES, Action, Game

EPISODES = 300


# --------------------------------------------------------------------------------------------------
# helpers


def python_bfs(walls, targets):
    """The plain reference: one breadth-first search per level."""
    h, w = walls.shape
    dist = np.full((h, w), UNREACHABLE)
    queue = deque()
    for r, c in zip(*np.nonzero(targets & ~walls)):
        dist[r, c] = 0
        queue.append((r, c))
    while queue:
        r, c = queue.popleft()
        for dr, dc in MOVES.values():
            rr, cc = r + dr, c + dc
            if 0 <= rr < h and 0 <= cc < w and not walls[rr, cc] and dist[rr, cc] == UNREACHABLE:
                dist[rr, cc] = dist[r, c] + 1
                queue.append((rr, cc))
    return dist


def make_level(rows):
    """A level from text: # wall, k key, c chest, g ghost chest, A agent, . floor."""
    grid = np.array([list(r) for r in rows])
    agent = np.argwhere(grid == "A")
    return Level(
        walls=grid == "#",
        keys=grid == "k",
        chests=grid == "c",
        ghosts=grid == "g",
        agent=tuple(int(v) for v in agent[0]) if len(agent) else (1, 1),
    )


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

    def best(game):
        state = (game.agent, frozenset(game.keys), frozenset(game.chests), game.keys_held, game.steps)
        if state not in memo:
            value = getattr(game, counter)
            for a in Action:
                nxt = copy.deepcopy(game)
                _, terminated, truncated = nxt.step(a)
                value = max(value, getattr(nxt, counter) if terminated or truncated else best(nxt))
            memo[state] = value
        return memo[state]

    return best(Game(level, dist))


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
# distance_map and greedy_step


def test_distance_map_matches_a_python_bfs_on_random_mazes_and_walls():
    rng = np.random.default_rng(0)
    mazes = LevelDistribution(size=11, layout="maze", maze_openness=0.1).sample(rng, 30).walls
    noise = rng.random((30, 8, 8)) < 0.35  # random walls: pockets that no target can reach
    for walls in (mazes, noise):
        targets = rng.random(walls.shape) < 0.04
        targets[0] = False  # a level with no target at all
        got = distance_map(walls, targets)
        assert got.shape == walls.shape and np.issubdtype(got.dtype, np.integer)
        for i in range(len(walls)):
            np.testing.assert_array_equal(got[i], python_bfs(walls[i], targets[i]), err_msg=f"level {i}")
    assert (distance_map(noise, np.zeros_like(noise)) == UNREACHABLE).all()


def test_distance_map_small_example():
    level = make_level(["#####", "#k.##", "#.#.#", "#####"])
    want = np.array(
        [
            [UNREACHABLE] * 5,
            [UNREACHABLE, 0, 1, UNREACHABLE, UNREACHABLE],
            [UNREACHABLE, 1, UNREACHABLE, UNREACHABLE, UNREACHABLE],
            [UNREACHABLE] * 5,
        ]
    )
    np.testing.assert_array_equal(distance_map(level.walls[None], level.keys[None])[0], want)


def test_greedy_step_decreases_the_distance_and_breaks_ties_in_action_order():
    rng = np.random.default_rng(1)
    batch = LevelDistribution(size=9, layout="maze").sample(rng, 50)
    dist = distance_map(batch.walls, batch.keys)
    actions = greedy_step(batch.walls, dist, batch.agent)
    assert actions.shape == (50,) and actions.dtype == np.int64
    for i, a in enumerate(actions):
        r, c = batch.agent[i]
        dr, dc = MOVES[Action(int(a))]
        assert dist[i, r + dr, c + dc] == dist[i, r, c] - 1
    # Targets straight up and straight right of the agent, equally far: UP comes first in Action order.
    tie = make_level(["#####", "#k..#", "#A.k#", "#####"])
    tie_map = distance_map(tie.walls[None], tie.keys[None])
    assert greedy_step(tie.walls[None], tie_map, np.array([tie.agent]))[0] == Action.UP
    # Right and down equally good, up and left walls: RIGHT.
    tie2 = make_level(["#####", "#A..#", "#..k#", "#####"])
    tie2_map = distance_map(tie2.walls[None], tie2.keys[None])
    assert greedy_step(tie2.walls[None], tie2_map, np.array([tie2.agent]))[0] == Action.RIGHT


def test_greedy_step_without_target_never_walks_into_a_wall():
    level = make_level(["#####", "##A.#", "#####"])
    none = distance_map(level.walls[None], np.zeros((1, 3, 5), bool))
    assert greedy_step(level.walls[None], none, np.array([level.agent]))[0] == Action.RIGHT
    rng = np.random.default_rng(0)
    moves = {int(greedy_step(level.walls[None], none, np.array([level.agent]), rng)[0]) for _ in range(20)}
    assert moves == {Action.RIGHT}
    open_room = make_level(["#####", "#...#", "#.A.#", "#...#", "#####"])
    picks = {
        int(random_free_move(open_room.walls[None], np.array([open_room.agent]), rng)[0]) for _ in range(50)
    }
    assert picks == {0, 1, 2, 3}


# --------------------------------------------------------------------------------------------------
# the protocol


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_policies_follow_the_protocol(name):
    assert set(POLICIES) == {"random", "nearest_key", "key_then_chest", "wall_follower", "planner"}
    policy = POLICIES[name](3, TEST)
    assert policy.name == name
    batch = TEST.sample(np.random.default_rng(0), 16)
    boards = Boards(batch.walls, batch.keys, batch.chests, batch.ghosts, batch.agent, np.zeros(16, int))
    obs = np.zeros((16, *TEST.observation_shape), np.uint8)
    first = policy(obs, boards)
    assert first.shape == (16,) and np.issubdtype(first.dtype, np.integer)
    assert first.min() >= 0 and first.max() <= 3
    policy.reset(np.ones(16, bool))
    policy.reset(None)  # back to the initial state: the same actions again
    np.testing.assert_array_equal(policy(obs, boards), first)
    game = Game(batch[0], TEST)
    assert act_single(POLICIES[name](3, TEST), game) == first[0]


def test_stochastic_policies_depend_on_their_seed():
    batch = TEST.sample(np.random.default_rng(0), 64)
    boards = Boards(batch.walls, batch.keys, batch.chests, batch.ghosts, batch.agent, np.zeros(64, int))
    assert not np.array_equal(RandomPolicy(0)(None, boards), RandomPolicy(1)(None, boards))
    np.testing.assert_array_equal(RandomPolicy(5)(None, boards), RandomPolicy(5)(None, boards))


# --------------------------------------------------------------------------------------------------
# heuristics: who beats whom, and where


def test_nearest_key_collects_more_keys_than_random():
    nearest = evaluate(NearestKey(), TEST, EPISODES, seed=0, with_best=False).summary()
    rand = evaluate(RandomPolicy(0), TEST, EPISODES, seed=0, with_best=False).summary()
    assert nearest["keys_collected"] > 3 * rand["keys_collected"]
    assert nearest["wall_bumps"] == 0 and rand["wall_bumps"] > 1


def test_key_then_chest_beats_nearest_key_on_test_but_not_on_train():
    ktc_test = evaluate(KeyThenChest(), TEST, EPISODES, seed=0).summary()
    nk_test = evaluate(NearestKey(), TEST, EPISODES, seed=0).summary()
    assert ktc_test["chests_opened"] > 2 * nk_test["chests_opened"]
    assert nk_test["keys_collected"] > 2 * ktc_test["keys_collected"]  # the capability carried over
    assert ktc_test["fraction_of_best"] > 0.95 > 0.5 > nk_test["fraction_of_best"]
    ktc_train = evaluate(KeyThenChest(), TRAIN, EPISODES, seed=0).summary()
    nk_train = evaluate(NearestKey(), TRAIN, EPISODES, seed=0).summary()
    assert abs(ktc_train["chests_opened"] - nk_train["chests_opened"]) < 0.1 * ktc_train["chests_opened"]
    assert nk_train["fraction_of_best"] > 0.95


def test_nearest_key_heads_for_chests_once_the_keys_are_gone():
    level = make_level(["#####", "#c.A#", "#...#", "#...#", "#####"])
    game = Game(level, LevelDistribution(size=5, keys=(1, 1), chests=(1, 1)))
    game.keys_held = 1
    assert act_single(NearestKey(), game) == Action.LEFT
    assert act_single(KeyThenChest(), game) == Action.LEFT
    game.keys_held = 0  # KeyThenChest wants a key, there is none: it leaves the chest alone
    assert act_single(KeyThenChest(), game) == Action.DOWN
    assert act_single(NearestKey(), game) == Action.LEFT


def test_wall_follower_keeps_its_left_hand_on_the_wall():
    # 13x13 room; the key in the centre stays out of sight (sight 3) from the ring along the walls
    # and from the straight lines through the start.
    rows = [list("#" * 13)] + [list("#" + "." * 11 + "#") for _ in range(11)] + [list("#" * 13)]
    rows[6][6], rows[6][7], rows[2][2] = "k", "c", "A"
    level = make_level(["".join(r) for r in rows])
    dist = LevelDistribution(size=13, max_steps=200)
    ring = {(r, c) for r in range(1, 12) for c in range(1, 12) if r in (1, 11) or c in (1, 11)}
    clockwise = {(0, 1): (1, 0), (1, 0): (0, -1), (0, -1): (-1, 0), (-1, 0): (0, 1)}
    headings = set()
    for seed in range(6):
        policy, game = WallFollower(seed, sight=3), Game(level, dist)
        cells = []
        for _ in range(60):
            before = game.agent
            _, terminated, _ = game.step(act_single(policy, game))
            assert game.agent != before and not terminated  # never bumps, never finds the key
            cells.append(game.agent)
        headings.add(cells[0])
        first = next(i for i, cell in enumerate(cells) if cell in ring)
        assert first <= 9
        assert set(cells[first:]) == ring  # once at the wall it goes all the way round, and only there
        # Left hand on the wall: round this room clockwise, turning right at the corners.
        moves = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(cells[first:], cells[first + 1 :])]
        assert all(m2 in (m1, clockwise[m1]) for m1, m2 in zip(moves, moves[1:]))
    assert len(headings) > 1  # the starting heading depends on the seed


def test_wall_follower_goes_for_a_key_in_sight():
    level = make_level(["#######", "#A....#", "#.....#", "#..k..#", "#.....#", "#....c#", "#######"])
    for seed in range(4):
        policy, game = WallFollower(seed, sight=4), Game(level, LevelDistribution(size=7))
        for _ in range(4):
            game.step(act_single(policy, game))
        assert game.keys_collected == 1


def test_wall_follower_never_bumps_and_is_a_key_seeker():
    maze = TEST.replace(layout="maze")
    for dist in (TEST, maze):
        s = evaluate(WallFollower(0), dist, 200, seed=1, with_best=False).summary()
        assert s["wall_bumps"] == 0
    wf = evaluate(WallFollower(0), TEST, EPISODES, seed=0, with_best=False).summary()
    rand = evaluate(RandomPolicy(0), TEST, EPISODES, seed=0, with_best=False).summary()
    ktc = evaluate(KeyThenChest(), TEST, EPISODES, seed=0, with_best=False).summary()
    assert wf["keys_collected"] > 3 * rand["keys_collected"]
    assert wf["chests_opened"] < 0.5 * ktc["chests_opened"]


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
    with pytest.raises(Exception):
        CHESTS.chest = 2  # frozen
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
                assert plan.score == pytest.approx(obj.score(plan.chests, plan.keys, plan.steps, plan.ghosts))
                assert plan.score >= -1e-9  # the empty plan scores 0


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
    with pytest.raises(ValueError):
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
