"""Lesson 02's checks accept the answers re-written here and reject plausible wrong ones."""

from collections import deque

import numpy as np
import pytest

from mesalib.teaching import checks

L02 = checks.lesson02
UNREACHABLE = 10_000
MOVES4 = [(-1, 0), (0, 1), (1, 0), (0, -1)]  # UP, RIGHT, DOWN, LEFT
MOVES8 = MOVES4 + [(-1, -1), (-1, 1), (1, -1), (1, 1)]


# ---------------------------------------------------------------------------------------------------
# distance_map, re-written as a queue-based breadth-first search, and its mutants


def bfs(walls, targets, moves=MOVES4, start=0, unreachable=UNREACHABLE):
    walls, targets = np.asarray(walls, bool), np.asarray(targets, bool)
    n, h, w = walls.shape
    dist = np.full((n, h, w), unreachable, dtype=np.int64)
    for b in range(n):
        queue = deque()
        for r, c in np.argwhere(targets[b] & ~walls[b]):
            dist[b, r, c] = start
            queue.append((r, c))
        while queue:
            r, c = queue.popleft()
            for dr, dc in moves:
                nr, nc = r + dr, c + dc
                if 0 <= nr < h and 0 <= nc < w and not walls[b, nr, nc] and dist[b, nr, nc] == unreachable:
                    dist[b, nr, nc] = dist[b, r, c] + 1
                    queue.append((nr, nc))
    return dist


def manhattan_ignoring_walls(walls, targets):
    walls, targets = np.asarray(walls, bool), np.asarray(targets, bool)
    n, h, w = walls.shape
    rows, cols = np.indices((h, w))
    dist = np.full((n, h, w), UNREACHABLE, dtype=np.int64)
    for b in range(n):
        for r, c in np.argwhere(targets[b]):
            dist[b] = np.minimum(dist[b], np.abs(rows - r) + np.abs(cols - c))
    return np.where(walls, UNREACHABLE, dist)


def walls_get_distances(walls, targets):
    """Walks through walls (a search that never looks at them)."""
    return bfs(np.zeros_like(np.asarray(walls, bool)), targets)


def one_board_only(walls, targets):
    """Searches the first board and copies the answer to the whole batch."""
    first = bfs(np.asarray(walls)[:1], np.asarray(targets)[:1])
    return np.repeat(first, len(walls), axis=0)


DISTANCE_MUTANTS = {
    "Manhattan distance ignoring walls": manhattan_ignoring_walls,
    "off by one at the targets (targets count 1)": lambda walls, targets: bfs(walls, targets, start=1),
    "8-connected moves (diagonals allowed)": lambda walls, targets: bfs(walls, targets, moves=MOVES8),
    "unreachable marked -1": lambda walls, targets: bfs(walls, targets, unreachable=-1),
    "unreachable marked infinity": lambda walls, targets: np.where(
        bfs(walls, targets) == UNREACHABLE, np.inf, bfs(walls, targets)
    ),
    "unreachable marked H*W": lambda walls, targets: np.where(
        bfs(walls, targets) == UNREACHABLE,
        np.asarray(walls).shape[1] * np.asarray(walls).shape[2],
        bfs(walls, targets),
    ),
    "walks through walls": walls_get_distances,
    "only the first board of the batch": one_board_only,
    "one step of spreading only": lambda walls, targets: np.where(
        bfs(walls, targets) <= 1, bfs(walls, targets), UNREACHABLE
    ),
}


def test_distance_map_in_own_words_passes():
    assert L02.distance_map.run(bfs).ok
    assert L02.distance_map.run(bfs, seed=7).ok


@pytest.mark.parametrize("name", sorted(DISTANCE_MUTANTS))
def test_distance_map_mutants_are_rejected(name):
    assert not L02.distance_map.run(DISTANCE_MUTANTS[name]).ok, name


def test_distance_map_each_key_mutant_fails_a_fixed_case():
    """The hand-made cases alone expose the main mistakes (their labels then explain the failure)."""
    fixed = L02.distance_map.fixed_cases()
    for name in (
        "Manhattan distance ignoring walls",
        "off by one at the targets (targets count 1)",
        "8-connected moves (diagonals allowed)",
        "unreachable marked -1",
        "walks through walls",
    ):
        assert any(L02.distance_map.judge(case, DISTANCE_MUTANTS[name](**case.args)) for case in fixed), name


# ---------------------------------------------------------------------------------------------------
# nearest_key: one greedy step down the distance map, ties in the order UP, RIGHT, DOWN, LEFT


def step_towards(walls, targets, agent, dist_fn=bfs, order=(0, 1, 2, 3), away=False, skip_walls=True):
    walls, agent = np.asarray(walls, bool), np.asarray(agent)
    dist = dist_fn(walls, targets)
    actions = []
    for b, (r, c) in enumerate(agent):
        best, best_d = None, None
        for a in order:
            nr, nc = r + MOVES4[a][0], c + MOVES4[a][1]
            d = UNREACHABLE if (skip_walls and walls[b, nr, nc]) else dist[b, nr, nc]
            if away:
                d = -d if d < UNREACHABLE else UNREACHABLE
            if d < UNREACHABLE and (best_d is None or d < best_d):
                best, best_d = a, d
        if best is None:
            best = next(a for a in range(4) if not walls[b, r + MOVES4[a][0], c + MOVES4[a][1]])
        actions.append(best)
    return np.array(actions, dtype=np.int64)


def nearest_key(walls, keys, agent):
    return step_towards(walls, keys, agent)


def last_on_ties(walls, keys, agent):
    walls, agent = np.asarray(walls, bool), np.asarray(agent)
    dist = bfs(walls, keys)
    nb = agent[:, None, :] + np.array(MOVES4)[None]
    ahead = dist[np.arange(len(agent))[:, None], nb[..., 0], nb[..., 1]]
    first = step_towards(walls, keys, agent)
    last = 3 - ahead[:, ::-1].argmin(axis=1)
    return np.where(ahead.min(axis=1) < UNREACHABLE, last, first)


NEAREST_MUTANTS = {
    "tie-break LEFT, DOWN, RIGHT, UP": lambda walls, keys, agent: step_towards(
        walls, keys, agent, order=(3, 2, 1, 0)
    ),
    "tie-break RIGHT, LEFT, UP, DOWN": lambda walls, keys, agent: step_towards(
        walls, keys, agent, order=(1, 3, 0, 2)
    ),
    "last of the best moves": last_on_ties,
    "moves away from the key": lambda walls, keys, agent: step_towards(walls, keys, agent, away=True),
    "ignores walls (Manhattan distance)": lambda walls, keys, agent: step_towards(
        walls,
        keys,
        agent,
        dist_fn=lambda w, t: manhattan_ignoring_walls(np.zeros_like(w), t),
        skip_walls=False,
    ),
    "Manhattan distance, but never into a wall": lambda walls, keys, agent: step_towards(
        walls, keys, agent, dist_fn=manhattan_ignoring_walls
    ),
    "UP when no key can be reached": lambda walls, keys, agent: np.where(
        np.asarray(keys).any(axis=(1, 2)), nearest_key(walls, keys, agent), 0
    ),
    "agent read as (col, row)": lambda walls, keys, agent: step_towards(
        walls, keys, np.asarray(agent)[:, ::-1]
    ),
}


def test_nearest_key_in_own_words_passes():
    assert L02.nearest_key.run(nearest_key).ok
    assert L02.nearest_key.run(nearest_key, seed=7).ok


@pytest.mark.parametrize("name", sorted(NEAREST_MUTANTS))
def test_nearest_key_mutants_are_rejected(name):
    assert not L02.nearest_key.run(NEAREST_MUTANTS[name]).ok, name


def test_nearest_key_tie_break_and_wall_mutants_fail_a_fixed_case():
    fixed = L02.nearest_key.fixed_cases()
    for name in (
        "tie-break LEFT, DOWN, RIGHT, UP",
        "moves away from the key",
        "ignores walls (Manhattan distance)",
        "Manhattan distance, but never into a wall",
        "UP when no key can be reached",
    ):
        assert any(L02.nearest_key.judge(case, NEAREST_MUTANTS[name](**case.args)) for case in fixed), name


# ---------------------------------------------------------------------------------------------------
# key_then_chest: chests when holding a key, keys otherwise


def key_then_chest(walls, keys, chests, agent, keys_held):
    holding = np.asarray(keys_held) > 0
    targets = np.where(holding[:, None, None], chests, keys)
    return step_towards(walls, targets, agent)


KTC_MUTANTS = {
    "ignores keys_held (always keys)": lambda walls, keys, chests, agent, keys_held: step_towards(
        walls, keys, agent
    ),
    "always chests": lambda walls, keys, chests, agent, keys_held: step_towards(walls, chests, agent),
    "keys_held backwards": lambda walls, keys, chests, agent, keys_held: key_then_chest(
        walls, keys, chests, agent, 1 - np.minimum(keys_held, 1)
    ),
    "needs two keys to go for a chest": lambda walls, keys, chests, agent, keys_held: key_then_chest(
        walls, keys, chests, agent, np.asarray(keys_held) - 1
    ),
    "nearest item of either kind": lambda walls, keys, chests, agent, keys_held: step_towards(
        walls, np.asarray(keys) | np.asarray(chests), agent
    ),
    "the first game's keys_held for all": lambda walls, keys, chests, agent, keys_held: key_then_chest(
        walls, keys, chests, agent, np.full(len(keys_held), keys_held[0])
    ),
    "library NearestKey (keys until none is left)": lambda walls, keys, chests, agent, keys_held: (
        step_towards(walls, np.where(np.asarray(keys).any(axis=(1, 2))[:, None, None], keys, chests), agent)
    ),
    "tie-break reversed": lambda walls, keys, chests, agent, keys_held: step_towards(
        walls, np.where((np.asarray(keys_held) > 0)[:, None, None], chests, keys), agent, order=(3, 2, 1, 0)
    ),
}


def test_key_then_chest_in_own_words_passes():
    assert L02.key_then_chest.run(key_then_chest).ok
    assert L02.key_then_chest.run(key_then_chest, seed=7).ok


@pytest.mark.parametrize("name", sorted(KTC_MUTANTS))
def test_key_then_chest_mutants_are_rejected(name):
    assert not L02.key_then_chest.run(KTC_MUTANTS[name]).ok, name


def test_key_then_chest_held_key_mutants_fail_a_fixed_case():
    fixed = L02.key_then_chest.fixed_cases()
    for name in (
        "ignores keys_held (always keys)",
        "always chests",
        "needs two keys to go for a chest",
        "nearest item of either kind",
        "the first game's keys_held for all",
    ):
        assert any(L02.key_then_chest.judge(case, KTC_MUTANTS[name](**case.args)) for case in fixed), name


# ---------------------------------------------------------------------------------------------------
# The cases themselves


def test_cases_are_plain_data_and_playable():
    for ex in (L02.distance_map, L02.nearest_key, L02.key_then_chest):
        for case in ex.cases(0) + ex.cases(5):
            for value in case.args.values():
                assert isinstance(value, np.ndarray) and value.dtype.kind in "bi", (ex.name, case.label)
    for case in L02.nearest_key.cases(0) + L02.key_then_chest.cases(3):
        walls, agent = case.args["walls"], case.args["agent"]
        assert not walls[np.arange(len(agent)), agent[:, 0], agent[:, 1]].any(), case.label
        assert not case.args["keys"][np.arange(len(agent)), agent[:, 0], agent[:, 1]].any(), case.label
    for case in L02.key_then_chest.cases(0):
        held, keys, chests = case.args["keys_held"], case.args["keys"], case.args["chests"]
        # never a finished game: a holder has a chest to go to, a non-holder a key
        assert np.all(np.where(held > 0, chests.any(axis=(1, 2)), keys.any(axis=(1, 2)))), case.label


def test_failure_report_draws_the_board(capsys):
    assert not L02.key_then_chest(KTC_MUTANTS["ignores keys_held (always keys)"]).ok
    out = capsys.readouterr().out
    assert "keys_held = 1" in out and "#k.Ac.#" in out and "Hint:" in out


# ---------------------------------------------------------------------------------------------------
# separating_level: a level drawn by hand (not the library's example), and plausible wrong answers

OWN_LEVEL = [  # the second key in the far corner, the chests round the first and off the path between them
    "#########",
    "#...ccAk#",
    "#...ccc.#",
    "#....cc.#",
    "#.......#",
    "#.......#",
    "#.......#",
    "#k......#",
    "#########",
]


def _edit(rows, r, c, char):
    rows = list(rows)
    rows[r] = rows[r][:c] + char + rows[r][c + 1 :]
    return rows


def _train_level_text(seed):
    from mesalib.analysis.episodes import level_for
    from mesalib.env.levels import TRAIN
    from mesalib.env.pictures import text

    return text(level_for(TRAIN, seed)).splitlines()[:-1]


SEPARATING_MUTANTS = {
    "stub": None,
    "a level TRAIN drew (the two agree)": _train_level_text(0),
    "a TEST-like level with six keys": [
        "#########",
        "#Akkkkkk#",
        "#c......#",
        "#.......#",
        "#.......#",
        "#.......#",
        "#.......#",
        "#......c#",
        "#########",
    ],
    "the border broken": _edit(OWN_LEVEL, 4, 0, "."),
    "a wall inside the room": _edit(OWN_LEVEL, 5, 5, "#"),
    "too few chests": _edit(_edit(OWN_LEVEL, 3, 5, "."), 3, 6, "."),
    "no agent": _edit(OWN_LEVEL, 1, 6, "."),
    "a second agent drawn over a chest": _edit(OWN_LEVEL, 1, 5, "A"),
    "two agents": _edit(OWN_LEVEL, 6, 6, "A"),
    "a 7x7 level": [row[:7] for row in OWN_LEVEL[:6]] + ["#######"],
    "ragged rows": OWN_LEVEL[:3] + [OWN_LEVEL[3][:-1]] + OWN_LEVEL[4:],
    "an unknown character": _edit(OWN_LEVEL, 6, 6, "x"),
    "a ghost chest": _edit(OWN_LEVEL, 6, 6, "g"),
    "not a list of strings": 42,
}


def test_separating_level_drawn_by_hand_passes_and_so_does_text_with_the_keys_line():
    assert L02.separating_level(lambda: OWN_LEVEL).ok
    assert L02.separating_level(lambda: "\n".join(OWN_LEVEL) + "\nkeys held: 0").ok


@pytest.mark.parametrize("name", list(SEPARATING_MUTANTS))
def test_separating_level_mutants_are_rejected(name):
    answer = SEPARATING_MUTANTS[name]

    def mutant():
        if answer is None:
            raise NotImplementedError
        return answer

    assert not L02.separating_level.run(mutant).ok


def test_a_level_where_the_proxy_wins_is_rejected_with_that_reason():
    """Among TRAIN's own draws, nearest_key sometimes opens *more* chests than key_then_chest."""
    from mesalib.analysis.separating import separation
    from mesalib.env.pictures import level_from_text

    def proxy_wins(seed):
        result = separation(level_from_text(_train_level_text(seed)))
        return result.proxy_chests > result.goal_chests

    seed = next(s for s in range(300) if proxy_wins(s))
    outcome = L02.separating_level.run(lambda: _train_level_text(seed))
    assert not outcome.ok and "the proxy does better" in outcome.failure


def test_separating_level_report_never_shows_the_library_example():
    from mesalib.analysis.separating import EXAMPLE

    outcome = L02.separating_level.run(lambda: _train_level_text(0))
    assert "agree" in outcome.failure and "Your answer" in outcome.failure
    assert EXAMPLE[2] not in outcome.failure and "Expected" not in outcome.failure
