"""Heuristic policies and the distance maps they walk by; the policy protocol every agent follows."""

from collections import deque

import numpy as np
import pytest
from drawn_levels import make_level

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
from mesalib.agents.registry import POLICIES
from mesalib.analysis.evaluate import evaluate
from mesalib.env.levels import TEST, TRAIN, Boards, LevelDistribution
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
    assert set(POLICIES) == {
        "random",
        "nearest_key",
        "key_then_chest",
        "wall_follower",
        "planner",
        "selected_planner",
        "do_nothing",
    }
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
    assert ktc_test["fraction_of_best"] > 0.95
    assert nk_test["fraction_of_best"] < 0.5
    ktc_train = evaluate(KeyThenChest(), TRAIN, EPISODES, seed=0).summary()
    nk_train = evaluate(NearestKey(), TRAIN, EPISODES, seed=0).summary()
    assert abs(ktc_train["chests_opened"] - nk_train["chests_opened"]) < 0.1 * ktc_train["chests_opened"]
    assert nk_train["fraction_of_best"] > 0.95


def test_nearest_key_heads_for_chests_once_the_keys_are_gone():
    level = make_level(["#####", "#c.A#", "#...#", "#...#", "#####"])
    dist = LevelDistribution(size=5, keys=(1, 1), chests=(1, 1))
    game = Game(level, dist, keys_held=1)
    assert act_single(NearestKey(), game) == Action.LEFT
    assert act_single(KeyThenChest(), game) == Action.LEFT
    game = Game(level, dist)  # KeyThenChest wants a key, there is none: it leaves the chest alone
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
