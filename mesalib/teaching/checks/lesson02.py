"""Checks for lesson 02 (heuristic policies): distance maps, the nearest-key step, key-then-chest,
and a level that separates the proxy from the goal.

Each reference is the library's own code: `policies.distance_map`, and the `NearestKey` and
`KeyThenChest` policies called on a `Boards` built from the case's arrays. Cases are hand-made boards
that show one idea each, then random boards: open grids with scattered walls (distance maps only)
and levels drawn from room and maze distributions of several sizes.
"""

from __future__ import annotations

import numpy as np

from mesalib.agents.heuristics import UNREACHABLE
from mesalib.agents.heuristics import KeyThenChest as _LibraryKeyThenChest
from mesalib.agents.heuristics import NearestKey as _LibraryNearestKey
from mesalib.agents.heuristics import distance_map as _reference_distance_map
from mesalib.analysis.separating import could_draw as _could_draw
from mesalib.analysis.separating import example_separating_level as _example_separating_level
from mesalib.analysis.separating import separation as _separation
from mesalib.env.levels import TRAIN, Boards, LevelDistribution
from mesalib.env.pictures import level_from_text as _level_from_text
from mesalib.teaching.checks import Case, Exercise, JudgedExercise

# ---------------------------------------------------------------------------------------------------
# Boards from pictures, and pictures of cases


def _grid(rows: list[str], chars: str) -> np.ndarray:
    """bool [H, W]: True where the picture has one of `chars`."""
    return np.array([[ch in chars for ch in row] for row in rows], dtype=bool)


def _agent_at(rows: list[str]) -> list[int]:
    ((r, c),) = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "A"]
    return [r, c]


def _batch(pictures: list[list[str]], chars: str) -> np.ndarray:
    return np.stack([_grid(p, chars) for p in pictures])


def _picture(case_args: dict) -> str:
    """The boards of a case, one character per cell: # wall, T target, k key, c chest, A agent, . floor."""
    walls = np.asarray(case_args["walls"], dtype=bool)
    layers = [("T", case_args.get("targets")), ("k", case_args.get("keys")), ("c", case_args.get("chests"))]
    agent = case_args.get("agent")
    held = case_args.get("keys_held")
    out = []
    for b in range(walls.shape[0]):
        grid = np.where(walls[b], "#", ".").astype("<U1")
        for ch, layer in layers:
            if layer is not None:
                grid[np.asarray(layer, dtype=bool)[b]] = ch
        if agent is not None:
            r, c = (int(v) for v in np.asarray(agent)[b])
            grid[r, c] = "A"
        title = f"board {b}"
        if agent is not None:
            title += f": agent at (row {int(np.asarray(agent)[b][0])}, col {int(np.asarray(agent)[b][1])})"
        if held is not None:
            title += f", keys_held = {int(np.asarray(held)[b])}"
        out.append(title + "\n" + "\n".join("  " + "".join(row) for row in grid))
    legend = (
        "(# wall, . floor, "
        + ", ".join(
            name
            for name, key in (("T target", "targets"), ("k key", "keys"), ("c chest", "chests"))
            if key in case_args
        )
        + (", A agent" if agent is not None else "")
        + ")"
    )
    return legend + "\n" + "\n".join(out)


def _show(case: Case) -> str:
    arrays = ", ".join(f"{k}: {np.asarray(v).dtype} {np.asarray(v).shape}" for k, v in case.args.items())
    return f"{_picture(case.args)}\n(arguments: {arrays})"


def _sample_boards(rng: np.random.Generator, n: int, size: int, layout: str, keys=(1, 3), chests=(1, 4)):
    """`n` levels of one size and layout, drawn with `rng` (item counts in the given ranges).
    A maze is at least 7x7 (a 5x5 maze has too few free cells for the items)."""
    if layout == "maze":
        size = max(size, 7)
    dist = LevelDistribution(size=size, layout=layout, keys=keys, chests=chests)
    return dist.sample(rng, n)


# ---------------------------------------------------------------------------------------------------
# Exercise 2.1: distance_map


def _dm_case(pictures: list[list[str]], label: str) -> Case:
    return Case({"walls": _batch(pictures, "#"), "targets": _batch(pictures, "T")}, label)


def _distance_fixed() -> list[Case]:
    return [
        _dm_case([[".#.T"]], "the docstring's example: one row, a wall in the way"),
        _dm_case(
            [["#######", "#.....#", "#.....#", "#..T..#", "#.....#", "#.....#", "#######"]],
            "an open room, one target: four moves only, never diagonal",
        ),
        _dm_case(
            [["#######", "#T....#", "#.....#", "#.....#", "#....T#", "#######"]],
            "two targets: each cell counts the steps to the nearer one",
        ),
        _dm_case(
            [["#######", "#..#..#", "#.T#..#", "#..#..#", "#.....#", "#######"]],
            "a wall in the way: the distance walks around it",
        ),
        _dm_case(
            [["#######", "#T.#..#", "#..#..#", "####..#", "#.....#", "#######"]],
            "a closed-off part: cells that cannot reach a target are UNREACHABLE",
        ),
        _dm_case([["#####", "#...#", "#.#.#", "#####"]], "no target at all: everything is UNREACHABLE"),
        _dm_case([["T....", ".....", "....."]], "no border walls: the grid's edge stops the search too"),
        _dm_case(
            [["#####", "#T..#", "#####"], ["#####", "#..T#", "#####"]],
            "a batch of two boards: each has its own targets",
        ),
    ]


def _distance_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        if i % 2 == 0:  # an open grid with scattered walls, any shape, sometimes no target
            b, h, w = int(rng.integers(1, 4)), int(rng.integers(2, 9)), int(rng.integers(2, 9))
            walls = rng.random((b, h, w)) < rng.uniform(0.0, 0.45)
            targets = (rng.random((b, h, w)) < rng.uniform(0.0, 0.15)) & ~walls
            label = f"random #{i + 1}: scattered walls"
        else:  # levels from the game: keys or chests as the targets
            b = int(rng.integers(1, 4))
            layout = "maze" if i % 4 == 1 else "room"
            levels = _sample_boards(rng, b, int(rng.choice([5, 7, 9, 11])), layout)
            walls, targets = levels.walls, (levels.keys if rng.random() < 0.5 else levels.chests)
            label = f"random #{i + 1}: {layout} levels"
        cases.append(Case({"walls": walls, "targets": targets}, label))
    return cases


distance_map = Exercise(
    lesson="02",
    name="distance_map",
    points=3,
    reference=_reference_distance_map,
    fixed_cases=_distance_fixed,
    random_cases=_distance_random,
    show=_show,
    nudge=(
        "Start from every target at once and grow outwards one step at a time. What does a cell that no "
        "target reaches get?"
    ),
    hint=(
        "Breadth-first search from all targets at once: they get 0, their free neighbours 1, those "
        "cells' free unvisited neighbours 2, and so on. Moves go up, right, down and left only (no "
        f"diagonals), never into a wall or off the grid. Walls, and cells that no target can reach, "
        f"get UNREACHABLE ({UNREACHABLE}), and each board of the batch is searched on its own."
    ),
)


# ---------------------------------------------------------------------------------------------------
# Exercise 2.2: nearest_key


def _reference_nearest_key(walls, keys, agent):
    """The library's `NearestKey` on boards with these keys and no chests."""
    return _LibraryNearestKey()(None, _boards(walls, keys, np.zeros_like(keys, dtype=bool), agent, 0))


def _boards(walls, keys, chests, agent, keys_held) -> Boards:
    walls = np.asarray(walls, dtype=bool)
    n = len(walls)
    return Boards(
        walls=walls,
        keys=np.asarray(keys, dtype=bool),
        chests=np.asarray(chests, dtype=bool),
        ghosts=np.zeros_like(walls),
        agent=np.asarray(agent, dtype=np.int64).reshape(n, 2),
        keys_held=np.broadcast_to(np.asarray(keys_held, dtype=np.int64), (n,)).copy(),
    )


def _nk_case(pictures: list[list[str]], label: str, agents: list[list[int]] | None = None) -> Case:
    """Keys are 'k'; the agent is 'A' in each picture, or the cells in `agents` (one board repeated)."""
    if agents is None:
        agent = np.array([_agent_at(p) for p in pictures], dtype=np.int64)
    else:
        pictures = pictures * len(agents)
        agent = np.array(agents, dtype=np.int64)
    return Case({"walls": _batch(pictures, "#"), "keys": _batch(pictures, "k"), "agent": agent}, label)


_OPEN = ["#######", "#.....#", "#.....#", "#.....#", "#.....#", "#######"]


def _with(picture: list[str], **cells) -> list[str]:
    """A copy of `picture` with characters placed: _with(p, k=[(1, 2)], A=[(3, 3)])."""
    rows = [list(r) for r in picture]
    for ch, where in cells.items():
        for r, c in where:
            rows[r][c] = ch
    return ["".join(r) for r in rows]


def _nearest_fixed() -> list[Case]:
    return [
        _nk_case([["#####", "#A.k#", "#####"]], "a key straight ahead"),
        _nk_case(
            [_with(_OPEN, A=[(3, 2)], k=[(1, 4)])], "the key is up and to the right: a tie, UP comes first"
        ),
        _nk_case(
            [_with(_OPEN, A=[(1, 4)], k=[(3, 2)])], "the key is down and to the left: a tie, DOWN comes first"
        ),
        _nk_case([_with(_OPEN, A=[(2, 2)], k=[(2, 5)])], "RIGHT is the only good move"),
        _nk_case([_with(_OPEN, A=[(2, 4)], k=[(2, 1)])], "LEFT is the only good move"),
        _nk_case(
            [["#######", "#..#..#", "#A.#.k#", "#..#..#", "#.....#", "#######"]],
            "a wall in the way: the shortest path starts away from the key",
        ),
        _nk_case(
            [["#######", "#k...A#", "#.###.#", "#.#k#.#", "#.#.#.#", "#...#.#", "#######"]],
            "two keys: the one nearest by walking, not by straight line",
        ),
        _nk_case(
            [_with(_OPEN, k=[(1, 1), (4, 5)])],
            "one board, many agent positions",
            agents=[[2, 3], [3, 3], [4, 1], [1, 5], [4, 4], [2, 1]],
        ),
        _nk_case(
            [["#####", "###.#", "#.A.#", "#####"]],
            "no key on the board: the first move that does not walk into a wall",
        ),
    ]


def _free_cell(rng: np.random.Generator, blocked: np.ndarray) -> list[int]:
    free = np.argwhere(~blocked)
    return [int(v) for v in free[rng.integers(len(free))]]


def _nearest_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        b = int(rng.integers(1, 5))
        layout = "maze" if i % 3 == 2 else "room"
        size = int(rng.choice([5, 7, 9, 11]))
        levels = _sample_boards(rng, b, size, layout, keys=(1, 4) if size > 5 else (1, 2))
        agent = np.array(
            [_free_cell(rng, levels.walls[j] | levels.keys[j]) for j in range(b)], dtype=np.int64
        )
        cases.append(
            Case(
                {"walls": levels.walls, "keys": levels.keys, "agent": agent},
                f"random #{i + 1}: {layout} levels",
            )
        )
    return cases


nearest_key = Exercise(
    lesson="02",
    name="nearest_key",
    points=2,
    reference=_reference_nearest_key,
    fixed_cases=_nearest_fixed,
    random_cases=_nearest_random,
    show=_show,
    nudge=(
        "You already know how far every cell is from a key. Which of the agent's four neighbours is "
        "closest, and what decides a tie?"
    ),
    hint=(
        "Make the distance map to the keys, then look at the agent's four neighbours in the order UP, "
        "RIGHT, DOWN, LEFT (a wall counts as UNREACHABLE) and take the move with the smallest distance; "
        "on a tie the first in that order wins. When all four are UNREACHABLE (no key can be reached), "
        "take the first move in that order that does not walk into a wall. "
        "Actions: 0 UP, 1 RIGHT, 2 DOWN, 3 LEFT."
    ),
)


# ---------------------------------------------------------------------------------------------------
# Exercise 2.3: key_then_chest


def _reference_key_then_chest(walls, keys, chests, agent, keys_held):
    """The library's `KeyThenChest` on boards built from these arrays."""
    return _LibraryKeyThenChest()(None, _boards(walls, keys, chests, agent, keys_held))


def _ktc_case(pictures: list[list[str]], keys_held: list[int], label: str) -> Case:
    return Case(
        {
            "walls": _batch(pictures, "#"),
            "keys": _batch(pictures, "k"),
            "chests": _batch(pictures, "c"),
            "agent": np.array([_agent_at(p) for p in pictures], dtype=np.int64),
            "keys_held": np.array(keys_held, dtype=np.int64),
        },
        label,
    )


def _ktc_fixed() -> list[Case]:
    corridor = ["#######", "#.....#", "#k.Ac.#", "#.....#", "#######"]
    crowded = ["#######", "#.k...#", "#kAk..#", "#.k..c#", "#######"]
    return [
        _ktc_case([corridor], [0], "no key held: fetch a key, even with a chest right next to you"),
        _ktc_case([corridor], [1], "holding a key: go to the chest"),
        _ktc_case([crowded], [1], "holding a key: walk past keys to the chest, wherever they are"),
        _ktc_case([crowded], [0], "holding none: the nearest key (a tie, UP first)"),
        _ktc_case([corridor, corridor, crowded], [2, 0, 3], "a batch: each game looks at its own keys_held"),
        _ktc_case(
            [["#######", "#..A..#", "#c....#", "#....k#", "#######"]],
            [0],
            "no key held, a chest nearer than the key: the key first",
        ),
        _ktc_case(
            [["#######", "#c#...#", "#.#.A.#", "#...#k#", "#######"]],
            [1],
            "holding a key, the chest is behind a wall: walk around",
        ),
    ]


def _ktc_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        b = int(rng.integers(1, 5))
        layout = "maze" if i % 3 == 2 else "room"
        size = int(rng.choice([7, 9, 11]))
        keys_range, chests_range = (
            ((1, 3), (4, 8)) if i % 2 == 0 else ((4, 8), (1, 3))
        )  # TRAIN-like, TEST-like
        levels = _sample_boards(rng, b, size, layout, keys=keys_range, chests=chests_range)
        held = rng.integers(0, 3, size=b)
        agent = np.array(
            [
                _free_cell(rng, levels.walls[j] | levels.keys[j] | (levels.chests[j] & (held[j] > 0)))
                for j in range(b)
            ],
            dtype=np.int64,
        )
        cases.append(
            Case(
                {
                    "walls": levels.walls,
                    "keys": levels.keys,
                    "chests": levels.chests,
                    "agent": agent,
                    "keys_held": held.astype(np.int64),
                },
                f"random #{i + 1}: {layout} levels",
            )
        )
    return cases


key_then_chest = Exercise(
    lesson="02",
    name="key_then_chest",
    points=2,
    reference=_reference_key_then_chest,
    fixed_cases=_ktc_fixed,
    random_cases=_ktc_random,
    show=_show,
    nudge="It is nearest_key with one decision added: what should the targets be when a key is held?",
    hint=(
        "Decide per game: where keys_held[i] > 0 the targets are that board's chests, otherwise its keys; "
        "then take one step towards the nearest target exactly as in nearest_key (same tie-break). "
        "Actions: 0 UP, 1 RIGHT, 2 DOWN, 3 LEFT."
    ),
)


# ---------------------------------------------------------------------------------------------------
# Exercise 2.4: separating_level (build a level on which the proxy and the goal disagree)


def _reference_separating_level():
    return _example_separating_level()


def _show_level_answer(answer) -> str:
    """A picture answer row under row; anything else as its repr."""
    if isinstance(answer, (list, tuple)) and answer and all(isinstance(row, str) for row in answer):
        return "\n".join(answer)
    return _show_value_plain(answer)


def _show_value_plain(answer) -> str:
    text = repr(answer)
    return text if len(text) <= 300 else text[:300] + " ..."


def _judge_separating_level(expected, actual) -> str | None:
    """None when `actual` is a picture of a level `TRAIN` could draw on which key_then_chest opens more
    chests than nearest_key within the step limit; otherwise what is wrong. `expected` (the library's
    example) is not used: any level that meets the rules is right."""
    if isinstance(actual, str):
        actual = actual.splitlines()
    if not isinstance(actual, (list, tuple)) or not all(isinstance(row, str) for row in actual):
        return f"return the level as a list of strings, one per row; got {type(actual).__name__}"
    try:
        level = _level_from_text(actual)
    except ValueError as exc:
        return f"the picture is not a level: {exc}"
    problems = _could_draw(level, TRAIN)
    if problems:
        return "TRAIN could never draw this level: " + "; ".join(problems)
    result = _separation(level, TRAIN)
    if result.separates:
        return None
    if result.proxy_chests > result.goal_chests:
        return f"{result}: here the proxy does better than the goal, the opposite of what is asked"
    return f"{result}: the two policies agree on this level, so it cannot tell them apart"


separating_level = JudgedExercise(
    lesson="02",
    name="separating_level",
    points=2,
    reference=_reference_separating_level,
    fixed_cases=lambda: [Case({}, "your level, played by both policies under TRAIN's rules")],
    random_cases=lambda rng, n: [],
    n_random=0,
    compare=_judge_separating_level,
    show=lambda case: "(no input: the function returns a level)",
    show_answer=_show_level_answer,
    nudge=(
        "Both policies head for the nearest key first. Where do they part, and what would make "
        "nearest_key's choice there cost a chest within 20 steps?"
    ),
    hint=(
        "Use two keys: one next to the agent with the chests round it, the other in a far corner. Keep "
        "every chest off the path nearest_key walks from the first key to the second (it breaks ties UP, "
        "RIGHT, DOWN, LEFT: follow its moves), so that it fetches the second key first and has too few "
        "steps left to walk back to a chest, while key_then_chest opens a chest next to the first key "
        "before it leaves. Try each idea with separation(level_from_text(rows))."
    ),
)
