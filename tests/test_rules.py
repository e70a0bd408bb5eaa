"""The rules on hand-made boards, drawn as pictures, with the expected board after each move.

Pictures: '#' wall, '.' floor, 'k' key, 'c' chest, 'g' ghost chest, 'A' the agent; 'C' and 'G' are the
agent standing on a (shut) chest or ghost chest.
"""

from pathlib import Path

import numpy as np
import pytest

from mesalib.env.levels import Level, LevelDistribution
from mesalib.env.rules import (
    AGENT,
    CHEST,
    INFO_KEYS,
    KEY,
    WALL,
    Action,
    Game,
    State,
    arrive,
    can_open_more,
    can_still_open,
    inventory_flags,
    observe,
    observe_arrays,
    step,
    step_arrays,
)

U, R, D, L = Action.UP, Action.RIGHT, Action.DOWN, Action.LEFT
DIST = LevelDistribution(view=None, max_steps=10)
"""No penalties, the whole grid observed; boards of any size (the rules take it from the walls)."""


def level(*rows: str) -> Level:
    grid = np.array([list(row) for row in rows])
    ((r, c),) = np.argwhere(np.isin(grid, ["A", "C", "G"]))
    return Level(
        walls=grid == "#",
        keys=grid == "k",
        chests=np.isin(grid, ["c", "C"]),
        ghosts=np.isin(grid, ["g", "G"]),
        agent=(int(r), int(c)),
    )


def board(*rows: str, held: int = 0) -> State:
    return State.start(level(*rows), keys_held=held)


def picture(state: State) -> list[str]:
    rows = []
    for r in range(state.walls.shape[0]):
        row = ""
        for c in range(state.walls.shape[1]):
            cell = (r, c)
            if cell == state.agent:
                row += "C" if cell in state.chests else "G" if cell in state.ghosts else "A"
            elif state.walls[cell]:
                row += "#"
            else:
                row += (
                    "k"
                    if cell in state.keys
                    else "c"
                    if cell in state.chests
                    else "g"
                    if cell in state.ghosts
                    else "."
                )
        rows.append(row)
    return rows


def play(state: State, *actions: int, dist: LevelDistribution = DIST):
    """The state after `actions`, and the (reward, terminated, truncated) of each step."""
    results = []
    for action in actions:
        state, reward, terminated, truncated = step(state, action, dist)
        results.append((reward, terminated, truncated))
    return state, results


# --------------------------------------------------------------------------------------------------
# One step


def test_stepping_onto_a_key_picks_it_up():
    after, results = play(board("#####", "#Akc#", "#####"), R)
    assert picture(after) == ["#####", "#.Ac#", "#####"]
    assert (after.keys_held, after.keys_collected, after.steps) == (1, 1, 1)
    assert results == [(0.0, False, False)]  # picking up a key pays nothing


def test_stepping_onto_a_chest_with_a_key_opens_it_and_uses_the_key():
    after, results = play(board("######", "#Acck#", "######", held=1), R)
    assert picture(after) == ["######", "#.Ack#", "######"]
    assert (after.keys_held, after.chests_opened) == (0, 1)
    assert results == [(1.0, False, False)]  # a key is still on the board: the game goes on


def test_a_chest_without_a_key_stays_shut_and_does_not_block_the_way():
    state, results = play(board("######", "#Ac.k#", "######"), R)
    assert picture(state) == ["######", "#.C.k#", "######"]
    assert results == [(0.0, False, False)] and state.chests_opened == 0
    state, _ = play(state, R)
    assert picture(state) == ["######", "#.cAk#", "######"]


def test_walking_into_a_wall_leaves_the_agent_in_place_counted_and_penalised():
    penalties = DIST.replace(wall_bump_penalty=0.5, step_penalty=0.1)
    after, results = play(board("#####", "#A.c#", "#k..#", "#####"), U, dist=penalties)
    assert picture(after) == ["#####", "#A.c#", "#k..#", "#####"]
    assert (after.wall_bumps, after.steps) == (1, 1)
    ((reward, terminated, truncated),) = results
    assert reward == pytest.approx(-0.6) and not terminated and not truncated


def test_the_inventory_is_unbounded():
    after, _ = play(board("#######", "#Akkkc#", "#######"), R, R, R)
    assert picture(after) == ["#######", "#...Ac#", "#######"] and after.keys_held == 3


def test_ghost_chests_open_under_the_key_rule_but_use_no_key_and_pay_nothing():
    after, results = play(board("######", "#Ag.c#", "######", held=1), R)
    assert picture(after) == ["######", "#.A.c#", "######"]
    assert (after.ghost_chests_opened, after.keys_held) == (1, 1) and results == [(0.0, False, False)]
    without_key, _ = play(board("######", "#Agkc#", "######"), R)
    assert picture(without_key) == ["######", "#.Gkc#", "######"] and without_key.ghost_chests_opened == 0


def test_the_state_given_is_left_unchanged():
    before = board("#####", "#Akc#", "#####")
    play(before, R, R)
    assert picture(before) == ["#####", "#Akc#", "#####"] and before.steps == 0 and before.keys_held == 0


# --------------------------------------------------------------------------------------------------
# The end of an episode


def test_the_game_ends_when_the_last_chest_is_opened():
    after, results = play(board("#####", "#Akc#", "#####"), R, R)
    assert picture(after) == ["#####", "#..A#", "#####"]
    assert results == [(0.0, False, False), (1.0, True, False)]


def test_the_game_ends_when_the_keys_are_used_up_with_chests_left():
    after, results = play(board("######", "#Acc.#", "######", held=1), R)
    assert picture(after) == ["######", "#.Ac.#", "######"]
    assert results == [(1.0, True, False)]  # a chest is left, but no key held and none on the board
    assert not after.can_open_more()


def test_truncation_at_the_step_limit():
    _, results = play(board("######", "#A.kc#", "######"), L, L, L, dist=DIST.replace(max_steps=3))
    assert results == [(0.0, False, False), (0.0, False, False), (0.0, False, True)]


def test_can_still_open_is_the_end_rule_for_numbers_and_arrays():
    assert can_still_open(1, 1, 0) and can_still_open(1, 0, 1)
    assert not can_still_open(0, 3, 3) and not can_still_open(2, 0, 0)
    np.testing.assert_array_equal(
        can_still_open(np.array([1, 0, 2]), np.array([0, 1, 0]), np.array([1, 1, 0])), [True, False, False]
    )


def test_arrive_picks_up_then_opens():
    assert arrive(0, key=True, chest=False, ghost=False) == (1, True, False, False)
    assert arrive(2, key=False, chest=True, ghost=False) == (1, False, True, False)
    assert arrive(0, key=False, chest=True, ghost=False) == (0, False, False, False)
    assert arrive(1, key=False, chest=False, ghost=True) == (1, False, False, True)


# --------------------------------------------------------------------------------------------------
# What the agent sees


def test_whole_grid_observation_is_one_plane_per_kind():
    state = board("#####", "#Akc#", "#..g#", "#####")
    obs = observe(state, DIST)
    assert obs.dtype == np.uint8 and obs.shape == (4, 4, 5)
    np.testing.assert_array_equal(
        obs[WALL], [[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1]]
    )
    assert np.argwhere(obs[KEY]).tolist() == [[1, 2]]
    assert np.argwhere(obs[CHEST]).tolist() == [[1, 3]]  # ghost chests are not seen
    assert np.argwhere(obs[AGENT]).tolist() == [[1, 1]]


def test_egocentric_window_at_an_edge_shows_walls_beyond_the_grid():
    state = board("#####", "#Ak.#", "#..c#", "#...#", "#####")
    obs = observe(state, DIST.replace(view=5))
    assert obs.shape == (4, 5, 5)
    np.testing.assert_array_equal(
        obs[WALL],
        [
            [1, 1, 1, 1, 1],  # beyond the grid
            [1, 1, 1, 1, 1],  # the top wall
            [1, 1, 0, 0, 0],  # the agent's row: beyond the grid, the left wall, the agent, key, floor
            [1, 1, 0, 0, 0],
            [1, 1, 0, 0, 0],
        ],
    )
    assert np.argwhere(obs[AGENT]).tolist() == [[2, 2]]  # the agent in the middle
    assert np.argwhere(obs[KEY]).tolist() == [[2, 3]]
    assert np.argwhere(obs[CHEST]).tolist() == [[3, 4]]


def test_inventory_planes_are_all_ones_when_more_keys_are_held():
    state = board("#####", "#A.c#", "#####", held=2)
    obs = observe(state, DIST.replace(view=3, inventory_planes=3))
    assert obs.shape == (7, 3, 3)
    assert obs[4].all() and obs[5].all() and not obs[6].any()
    np.testing.assert_array_equal(inventory_flags(2, 3), [1, 1, 0])
    np.testing.assert_array_equal(inventory_flags(np.array([0, 3]), 2), [[0, 0], [1, 1]])


def test_an_observation_can_be_changed_without_touching_the_game():
    game = Game(level("#####", "#Akc#", "#####"), DIST.replace(view=3))
    game.observe()[:] = 0
    assert game.observe()[AGENT, 1, 1] == 1


# --------------------------------------------------------------------------------------------------
# Game: a state and the rules, for code that plays


def test_game_plays_by_the_rules_and_reads_its_state():
    game = Game(level("#####", "#Akc#", "#####"), DIST)
    assert game.step(R) == (0.0, False, False)
    assert (game.agent, game.keys_held, game.keys_collected, len(game.keys)) == ((1, 2), 1, 1, 0)
    assert game.step(R) == (1.0, True, False)
    assert game.info() == dict.fromkeys(INFO_KEYS, 0) | {"keys_collected": 1, "chests_opened": 1, "steps": 2}
    assert not game.can_open_more()
    assert game.level().chests.sum() == 0 and game.boards().keys_held.tolist() == [0]


def test_game_state_is_read_only_through_the_game():
    game = Game(level("#####", "#Akc#", "#####"), DIST, keys_held=2)
    assert game.keys_held == 2
    with pytest.raises(AttributeError, match="read-only"):
        game.keys_held = 5
    game.state = game.state._replace(keys_held=0)
    assert game.keys_held == 0
    with pytest.raises(AttributeError, match="no attribute 'colour'"):
        _ = game.colour


def test_game_rejects_bad_actions():
    game = Game(level("#####", "#Akc#", "#####"), DIST)
    for bad in (4, -1, 1.5, True, "up", None):
        with pytest.raises(ValueError, match="action must be an integer in 0..3"):
            game.step(bad)
    assert game.steps == 0


# --------------------------------------------------------------------------------------------------
# The rules on arrays: lesson 1's references


CORRIDOR = level("######", "#Akc.#", "######")


def test_step_arrays_returns_new_arrays_and_plain_types():
    keys, chests = CORRIDOR.keys.copy(), CORRIDOR.chests.copy()
    new_keys, new_chests, agent, held, reward = step_arrays(CORRIDOR.walls, keys, chests, (1, 1), 0, R)
    assert (agent, held, reward) == ((1, 2), 1, 0.0)
    assert type(agent[0]) is int and type(reward) is float
    assert not new_keys.any() and new_chests[1, 3]
    np.testing.assert_array_equal(keys, CORRIDOR.keys)  # the inputs are unchanged
    assert step_arrays(CORRIDOR.walls, new_keys, new_chests, agent, held, R)[2:] == ((1, 3), 0, 1.0)
    assert step_arrays(CORRIDOR.walls, keys, chests, (1, 1), 0, U)[2:] == ((1, 1), 0, 0.0)  # a wall


def test_can_open_more_for_one_board_and_a_batch():
    none = np.zeros_like(CORRIDOR.keys)
    assert can_open_more(CORRIDOR.keys, CORRIDOR.chests, 0) is True
    assert can_open_more(none, CORRIDOR.chests, 0) is False
    assert can_open_more(none, CORRIDOR.chests, 1) is True
    assert can_open_more(CORRIDOR.keys, none, 3) is False
    batch = can_open_more(np.stack([none, none]), np.stack([CORRIDOR.chests] * 2), np.array([0, 2]))
    assert batch.dtype == bool and batch.tolist() == [False, True]


def test_observe_arrays_with_a_window_and_inventory():
    obs = observe_arrays(
        CORRIDOR.walls, CORRIDOR.keys, CORRIDOR.chests, (1, 1), view=3, keys_held=1, inventory_planes=2
    )
    assert obs.shape == (6, 3, 3)
    np.testing.assert_array_equal(obs[WALL], [[1, 1, 1], [1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(obs[KEY], [[0, 0, 0], [0, 0, 1], [0, 0, 0]])
    assert obs[4].all() and not obs[5].any()
    whole = observe_arrays(CORRIDOR.walls, CORRIDOR.keys, CORRIDOR.chests, (1, 1), view=None)
    assert whole.shape == (4, 3, 6) and whole[CHEST, 1, 3] == 1


def test_states_are_plain_immutable_values():
    state = board("#####", "#Akc#", "#####")
    assert state._replace(keys_held=1).keys_held == 1 and state.keys_held == 0
    with pytest.raises(AttributeError):
        state.keys_held = 1
    with pytest.raises(ValueError, match="read-only"):
        state.walls[1, 1] = True
    assert set(INFO_KEYS) <= set(State._fields)  # the running totals are fields of the state


def test_the_rules_source_fits_a_notebook_output_line():
    """Lesson 01 prints this module's source; JupyterLab wraps output lines mid-word past ~100 characters."""
    import mesalib.env.rules as rules_module

    source = Path(rules_module.__file__).read_text(encoding="utf-8").splitlines()
    long_lines = [n for n, line in enumerate(source, 1) if len(line) > 100]
    assert long_lines == [], f"mesalib/env/rules.py lines over 100 characters: {long_lines}"
