"""Checks for lesson 01 (the Chests and Keys world): one step of the rules, the end-of-episode
rule, and the egocentric observation, each against the library's functions in `rules.py`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from mesalib.drawing import render
from mesalib.env.levels import Level, LevelDistribution
from mesalib.env.rules import DELTAS, Action
from mesalib.env.rules import can_open_more as _reference_can_open_more
from mesalib.env.rules import observe_arrays as _reference_observe
from mesalib.env.rules import step_arrays as _reference_step
from mesalib.teaching.checks import Case, Exercise, close_number, same_array

# --------------------------------------------------------------------------------------------------
# Boards from pictures


def _board(*rows: str) -> dict:
    """walls, keys, chests and agent from a square picture: '#' wall, 'k' key, 'c' chest, 'A' agent,
    'C' the agent standing on a (closed) chest, '.' floor."""
    grid = np.array([list(r) for r in rows])
    if grid.shape[0] != grid.shape[1]:
        raise ValueError(f"board pictures must be square; got {grid.shape}")
    ((r, c),) = np.argwhere((grid == "A") | (grid == "C"))
    return {
        "walls": grid == "#",
        "keys": grid == "k",
        "chests": (grid == "c") | (grid == "C"),
        "agent": (int(r), int(c)),
    }


def _picture(walls, keys, chests, agent, keys_held: int = 0) -> str:
    level = Level(
        np.asarray(walls, bool),
        np.asarray(keys, bool),
        np.asarray(chests, bool),
        np.zeros(np.shape(walls), bool),
        (int(agent[0]), int(agent[1])),
    )
    text = render.text(level, keys_held).splitlines()[:-1]
    if np.asarray(chests, bool)[level.agent]:
        text.append("(the agent A stands on a closed chest)")
    return "\n".join(text)


def _random_boards(rng: np.random.Generator, n: int, crowded: bool = True) -> list[dict]:
    """`n` small random levels of one size (5x5 or 7x7 room, or 7x7 maze); with `crowded`, full of
    items; otherwise each item is kept with probability 1/2, so boards without keys or chests occur."""
    kind = int(rng.integers(0, 3))
    dist = LevelDistribution(
        size=5 if kind == 0 else 7,
        layout="maze" if kind == 2 else "room",
        keys=(1, 3),
        chests=(1, 4) if kind == 0 else (1, 6),
    )
    batch = dist.sample(rng, n)
    keys, chests = batch.keys.copy(), batch.chests.copy()
    if not crowded:
        keys &= rng.random(keys.shape) < 0.5
        chests &= rng.random(chests.shape) < 0.5
    return [
        {
            "walls": batch.walls[i],
            "keys": keys[i],
            "chests": chests[i],
            "agent": (int(batch.agent[i, 0]), int(batch.agent[i, 1])),
        }
        for i in range(n)
    ]


# --------------------------------------------------------------------------------------------------
# Exercise 1.1: one step


def _step_fixed() -> list[Case]:
    corridor = ("#####", "#A.k#", "#c..#", "#...#", "#####")
    return [
        Case({**_board(*corridor), "keys_held": 0, "action": int(Action.RIGHT)}, "a plain move right"),
        Case(
            {**_board(*corridor), "keys_held": 0, "action": int(Action.UP)},
            "walking into the wall above: the agent stays where it is",
        ),
        Case(
            {**_board(*corridor), "keys_held": 0, "action": int(Action.LEFT)},
            "walking into the wall on the left",
        ),
        Case(
            {
                **_board("#####", "#.Ak#", "#c..#", "#...#", "#####"),
                "keys_held": 0,
                "action": int(Action.RIGHT),
            },
            "stepping onto a key picks it up",
        ),
        Case(
            {
                **_board("#####", "#.Ak#", "#c..#", "#...#", "#####"),
                "keys_held": 2,
                "action": int(Action.RIGHT),
            },
            "picking up a key while holding two: no limit",
        ),
        Case(
            {**_board(*corridor), "keys_held": 0, "action": int(Action.DOWN)},
            "stepping onto a chest without a key: it stays shut, but the agent moves onto it",
        ),
        Case(
            {**_board(*corridor), "keys_held": 1, "action": int(Action.DOWN)},
            "stepping onto a chest with a key: it opens (+1) and the key is used up",
        ),
        Case(
            {**_board(*corridor), "keys_held": 3, "action": int(Action.DOWN)},
            "opening a chest while holding three keys",
        ),
        Case(
            {
                **_board("#####", "#C..#", "#...#", "#.k.#", "#####"),
                "keys_held": 0,
                "action": int(Action.DOWN),
            },
            "walking off a closed chest: it stays where it was",
        ),
        Case(
            {
                **_board("#####", "#k..#", "#A#.#", "#c..#", "#####"),
                "keys_held": 1,
                "action": int(Action.RIGHT),
            },
            "walking into an inner wall while holding a key",
        ),
        Case(
            {**_board("#####", "#.c.#", "#.A.#", "#...#", "#####"), "keys_held": 1, "action": int(Action.UP)},
            "moving up onto a chest with a key",
        ),
        Case(
            {**_board("#####", "#...#", "#.A.#", "#.c.#", "#####"), "keys_held": 0, "action": int(Action.UP)},
            "moving up onto plain floor",
        ),
    ]


def _moves_onto(grid: np.ndarray, agent: tuple[int, int]) -> list[int]:
    """The actions (UP, RIGHT, DOWN, LEFT) that move from `agent` onto a True cell of `grid`."""
    r, c = agent
    return [a for a, (dr, dc) in enumerate(DELTAS) if grid[r + dr, c + dc]]


def _step_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        board = _random_boards(rng, 1)[0]
        held = int(rng.choice([0, 0, 1, 1, 2, 3]))
        if held == 0 and rng.random() < 0.25:  # an agent may stand on a chest it could not open
            board["agent"] = tuple(int(v) for v in rng.permutation(np.argwhere(board["chests"]))[0])
        # Half the moves go onto an item next to the agent, a fifth into a wall, the rest anywhere.
        items = _moves_onto(board["keys"] | board["chests"], board["agent"])
        walls, u = _moves_onto(board["walls"], board["agent"]), rng.random()
        pool = items if items and u < 0.5 else walls if walls and u < 0.7 else [0, 1, 2, 3]
        action = int(rng.choice(pool))
        cases.append(Case({**board, "keys_held": held, "action": action}, f"random #{i + 1}"))
    return cases


def _show_step(case: Case) -> str:
    a = case.args
    return (
        _picture(a["walls"], a["keys"], a["chests"], a["agent"])
        + f"\nagent = {a['agent']}, keys_held = {a['keys_held']}, "
        f"action = {a['action']} ({Action(a['action']).name})"
    )


_STEP_PARTS = ("keys", "chests", "agent", "keys_held", "reward")

CHANGED_INPUTS = "changed its inputs"
"""The key of the plain answer `PureExercise.call` returns for a function that changed its arguments."""


def _unchanged(before, after) -> bool:
    """Whether an argument is as it was: equal values, and for arrays the same shape and dtype too."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.dtype == after.dtype and np.array_equal(before, after)
    return type(before) is type(after) and before == after


class PureExercise(Exercise):
    """An exercise whose function must leave its arguments alone: `rules.step_arrays` returns new
    arrays, and a step that edits the caller's board in place breaks every caller that keeps the old
    one (a replay, a planner trying moves). `call` hands the function copies and compares them after;
    if any changed, the answer is `{CHANGED_INPUTS: [names], "answer": ...}`, plain data that the
    comparison rejects (and that the grading sandbox can pass back)."""

    def call(self, fn: Callable, args: dict) -> Any:
        given = copy.deepcopy(args)
        answer = fn(**given)
        changed = [name for name in args if not _unchanged(args[name], given[name])]
        if changed:  # the literal, not CHANGED_INPUTS: the sandbox gets this method without constants
            return {"changed its inputs": changed, "answer": answer}
        return answer


def _compare_step(expected, actual) -> str | None:
    if isinstance(actual, dict) and CHANGED_INPUTS in actual:
        names = ", ".join(actual[CHANGED_INPUTS])
        return (
            f"your function changed its inputs in place ({names}): the caller's board must stay as it "
            "was, so copy the arrays first (keys = keys.copy()) and change and return the copies"
        )
    if not isinstance(actual, (tuple, list)) or len(actual) != 5:
        return "return a tuple of five things: (keys, chests, agent, keys_held, reward); got " + (
            f"{len(actual)} things" if isinstance(actual, (tuple, list)) else type(actual).__name__
        )
    for name, exp, act in zip(_STEP_PARTS, expected, actual):
        if name == "agent":
            try:
                row, col = act
            except (TypeError, ValueError):
                return f"agent: expected a pair (row, col); got {act!r}"
            if same_array(np.asarray(exp), np.asarray([row, col]).reshape(2)) is not None:
                return f"agent is wrong: the agent should be at {tuple(exp)}, not at ({row}, {col})"
            continue
        elif name in ("keys_held", "reward"):
            problem = close_number(exp, act)
        else:
            problem = same_array(exp, act)
        if problem is not None:
            return f"{name} is wrong: {problem}"
    return None


step = PureExercise(
    lesson="01",
    name="step",
    points=3,
    reference=_reference_step,
    fixed_cases=_step_fixed,
    random_cases=_step_random,
    compare=_compare_step,
    show=_show_step,
    nudge=(
        "Take the rules one at a time, in the order they happen on the cell the agent reaches, and leave "
        "the arrays you were given exactly as they were."
    ),
    hint="Move unless the target cell is a wall; then, on the cell where the agent ends up: a key is "
    "picked up; a chest opens only if a key is held (reward 1, one key used up). Chests never block. "
    "Return new arrays: never change the ones you were given.",
)


# --------------------------------------------------------------------------------------------------
# Exercise 1.2: can a chest still be opened?


def _batch(boards: list[dict], held: list[int]) -> dict:
    return {
        "keys": np.stack([b["keys"] for b in boards]),
        "chests": np.stack([b["chests"] for b in boards]),
        "keys_held": np.array(held, dtype=np.int64),
    }


def _can_open_fixed() -> list[Case]:
    both = _board("#####", "#Ak.#", "#.c.#", "#...#", "#####")
    chest_only = _board("#####", "#A..#", "#.c.#", "#...#", "#####")
    key_only = _board("#####", "#Ak.#", "#...#", "#...#", "#####")
    empty = _board("#####", "#A..#", "#...#", "#...#", "#####")
    return [
        Case(_batch([both], [0]), "a key and a chest on the board"),
        Case(_batch([chest_only], [1]), "a chest on the board and a key in hand"),
        Case(_batch([chest_only], [0]), "a chest, but no key anywhere: over"),
        Case(_batch([key_only], [2]), "keys everywhere, no chest left: over"),
        Case(_batch([empty], [0]), "nothing left at all"),
        Case(
            _batch([both, chest_only, chest_only, key_only, empty, key_only], [0, 1, 0, 0, 3, 1]),
            "a batch of six boards: answer one per board",
        ),
    ]


def _can_open_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        boards = _random_boards(rng, int(rng.integers(2, 9)), crowded=False)
        for board in boards:
            if rng.random() < 0.25:
                board["keys"][:] = False
            if rng.random() < 0.25:
                board["chests"][:] = False
        held = [int(v) for v in rng.choice([0, 0, 0, 1, 2], size=len(boards))]
        cases.append(Case(_batch(boards, held), f"random batch #{i + 1}"))
    return cases


def _show_batch(case: Case) -> str:
    a = case.args
    lines = [
        f"keys: bool array of shape {a['keys'].shape}, chests: {a['chests'].shape}, "
        f"keys_held = {a['keys_held'].tolist()}"
    ]
    for b, (k, c, h) in enumerate(zip(a["keys"], a["chests"], a["keys_held"])):
        lines.append(
            f"board {b}: {int(k.sum())} keys and {int(c.sum())} chests on the board, {int(h)} keys held"
        )
    return "\n".join(lines)


can_open_more = Exercise(
    lesson="01",
    name="can_open_more",
    points=1,
    reference=_reference_can_open_more,
    fixed_cases=_can_open_fixed,
    random_cases=_can_open_random,
    show=_show_batch,
    nudge=(
        "Two things must both be true for one more chest to open, and each board of the batch answers for "
        "itself."
    ),
    hint="A chest can still be opened when at least one chest is left AND a key is available: held, "
    "or lying on the board. Reduce each board over its last two axes (axis=(1, 2)), not the whole batch.",
)


# --------------------------------------------------------------------------------------------------
# Exercise 1.3: the egocentric observation


def _observe_fixed() -> list[Case]:
    room = _board("#####", "#Ak.#", "#c..#", "#...#", "#####")
    middle = _board("#####", "#.k.#", "#cA.#", "#...#", "#####")
    corner = _board("#######", "#....k#", "#.c...#", "#..#..#", "#.k...#", "#c...A#", "#######")
    on_chest = _board("#####", "#.k.#", "#.C.#", "#...#", "#####")
    return [
        Case({**middle, "view": 3}, "a 3x3 window in the middle of the room"),
        Case({**room, "view": 3}, "a 3x3 window in the corner: the border shows"),
        Case({**room, "view": 5}, "a 5x5 window in the corner: cells beyond the grid count as walls"),
        Case({**middle, "view": 1}, "a 1x1 window: only the agent's own cell"),
        Case({**on_chest, "view": 3}, "the agent stands on a closed chest: both show in the middle"),
        Case({**corner, "view": 5}, "a 7x7 board, the agent in the bottom-right corner"),
        Case({**corner, "view": 13}, "a window twice the board: the whole board, wherever the agent is"),
        Case({**middle, "view": 17}, "a 17x17 window on a small board: walls all around"),
    ]


def _observe_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        board = _random_boards(rng, 1)[0]
        if rng.random() < 0.2:
            board["agent"] = tuple(int(v) for v in rng.permutation(np.argwhere(board["chests"]))[0])
        view = int(rng.choice([1, 3, 5, 7, 9, 11, 17]))
        cases.append(Case({**board, "view": view}, f"random #{i + 1}"))
    return cases


def _show_observe(case: Case) -> str:
    a = case.args
    return (
        _picture(a["walls"], a["keys"], a["chests"], a["agent"])
        + f"\nagent = {a['agent']}, view = {a['view']}"
    )


observe = Exercise(
    lesson="01",
    name="observe",
    points=2,
    reference=_reference_observe,
    fixed_cases=_observe_fixed,
    random_cases=_observe_random,
    show=_show_observe,
    nudge=(
        "Think of the window as a crop of a bigger picture: what must surround the grid so that a crop "
        "centred on the agent never falls off its edge, and what should that surround look like?"
    ),
    hint="Stack the planes (walls, keys, chests, agent) into shape (4, size, size), pad every side by "
    "view // 2 (walls with 1, the other planes with 0), then cut the view x view window whose "
    "middle is the agent: after padding by p = view // 2, the agent's cell (r, c) moves to "
    "(r + p, c + p), so the window's rows are r .. r + view - 1.",
)
